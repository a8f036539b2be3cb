"""Customer analytics: RFM segments, churn risk, cohorts, CLV and sales-cycle length."""
