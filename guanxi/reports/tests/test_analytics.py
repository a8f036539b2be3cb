"""RFM, churn risk, cohorts and CLV worked out by hand on small fixtures, and their scope."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from guanxi.activities import services as activity_services
from guanxi.core import events
from guanxi.core.models import AuditEvent
from guanxi.customers import selectors as customer_selectors
from guanxi.customers.models import Account
from guanxi.identity.models import User
from guanxi.reports.analytics import cohorts, scores, selectors, services
from guanxi.reports.models import CustomerScore
from guanxi.sales.models import Deal
from guanxi.schedule import reports_refresh_customer_scores
from guanxi.tests_support import crm_factories, factories

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(dt.datetime(2026, 6, 30, 12, 0))


def won(
    owner: User, account: Account, amount: str, when: dt.datetime, cycle_days: int = 10
) -> Deal:
    deal = crm_factories.deal(owner, amount=amount, account_id=account.pk)
    Deal.objects.filter(pk=deal.pk).update(
        status=Deal.Status.WON, won_at=when, created_at=when - dt.timedelta(days=cycle_days)
    )
    return deal


def ago(days: int) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


def rfm_fixture(sales: User) -> dict[str, Account]:
    """R days / F wins / M revenue: a1 10/4/4000, a2 20/2/5100, a3 300/1/50, a4 400/3/30,
    a5 30/1/200."""
    acc = {f"a{i}": crm_factories.account(sales) for i in range(1, 6)}
    for d in (10, 40, 70, 100):
        won(sales, acc["a1"], "1000", ago(d))
    won(sales, acc["a2"], "5000", ago(20))
    won(sales, acc["a2"], "100", ago(200))
    won(sales, acc["a3"], "50", ago(300))
    for d in (400, 500, 600):
        won(sales, acc["a4"], "10", ago(d))
    won(sales, acc["a5"], "200", ago(30))
    for d in (100, 90, 80):
        activity_services.activity_create(
            actor=sales,
            target_entity="account",
            target_id=acc["a2"].pk,
            kind="call",
            content="回访",
            occurred_at=ago(d),
        )
    return acc


def test_quintile_scores_share_ties_and_split_evenly() -> None:
    assert scores.quintile_scores([10, 20, 30, 40, 50]) == [1, 2, 3, 4, 5]
    assert scores.quintile_scores([1, 1, 2, 3, 4]) == [1, 1, 3, 4, 5]
    assert scores.quintile_scores([7] * 4) == [1, 1, 1, 1]
    # ten values: two per quintile
    assert scores.quintile_scores(list(range(10))) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_segment_boundary_is_score_three() -> None:
    assert scores.segment_of(3, 3, 3) == "important_value"
    assert scores.segment_of(2, 3, 3) == "important_keep"
    assert scores.segment_of(3, 2, 3) == "important_develop"
    assert scores.segment_of(2, 2, 3) == "important_retain"
    assert scores.segment_of(3, 3, 2) == "general_value"
    assert scores.segment_of(5, 1, 1) == "general_develop"
    assert scores.segment_of(1, 5, 1) == "general_keep"
    assert scores.segment_of(1, 1, 1) == "general_retain"


def test_refresh_scores_segments_and_churn_reasons(
    django_capture_on_commit_callbacks: Any,
) -> None:
    sales = factories.user("sales")
    acc = rfm_fixture(sales)
    seen: list[events.Event] = []
    events.subscribe("account.churn_risk", seen.append)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            result = services.scores_refresh(actor=None, now=NOW)
            again = services.scores_refresh(actor=None, now=NOW)
    finally:
        events.unsubscribe("account.churn_risk", seen.append)
    assert result == {"customers": 5, "at_risk": 1, "crossed": 1}
    assert again == {"customers": 5, "at_risk": 1, "crossed": 0}
    got = {k: CustomerScore.objects.get(account=a) for k, a in acc.items()}
    assert [(got[k].r_score, got[k].f_score, got[k].m_score) for k in sorted(got)] == [
        (5, 5, 4),
        (4, 3, 5),
        (2, 1, 2),
        (1, 4, 1),
        (3, 1, 3),
    ]
    assert {k: s.segment for k, s in got.items()} == {
        "a1": "important_value",
        "a2": "important_value",
        "a3": "general_retain",
        "a4": "general_keep",
        "a5": "important_develop",
    }
    assert got["a1"].recency_days == 10 and got["a1"].monetary == Decimal("4000")
    # a4: wins every 100 days, none for 400 → purchase gap; 0 in the last 12 months vs 30
    assert got["a4"].churn_score == 60 and got["a4"].at_risk
    assert got["a4"].churn_reasons == [
        {"signal": "purchase_gap", "points": 35, "days": 400, "usual_days": 100.0},
        {
            "signal": "falling_spend",
            "points": 25,
            "last_12_months": "0.00",
            "previous_12_months": "30.00",
            "drop_percent": 100,
        },
    ]
    # a2: follow-ups every 10 days, none for 80 → follow-up gap only
    assert got["a2"].churn_score == 25 and not got["a2"].at_risk
    assert got["a2"].churn_reasons == [
        {"signal": "followup_gap", "points": 25, "days": 80, "usual_days": 10.0}
    ]
    assert got["a1"].churn_reasons == [] and got["a1"].churn_score == 0
    assert [e.payload["account_id"] for e in seen] == [acc["a4"].pk]
    assert seen[0].payload["score"] == 60
    text = selectors.score_as_dict(got["a4"])["reasons"][0]["text"]
    assert "400" in text and "100" in text
    assert AuditEvent.objects.filter(entity="customer_score", action="refresh").count() == 2


def test_scores_are_scoped_and_filter_the_account_list() -> None:
    sales = factories.user("sales")
    peer = factories.user("sales")
    acc = rfm_fixture(sales)
    other = crm_factories.account(peer)
    won(peer, other, "99999", ago(5))
    services.scores_refresh(actor=sales, now=NOW)
    summary = selectors.rfm_summary(actor=sales)
    counts = {s["segment"]: s["accounts"] for s in summary["segments"]}
    assert summary["total"] == 5
    assert counts["important_value"] == 2 and counts["general_keep"] == 1
    assert {s.account_id for s in selectors.churn_list(actor=sales).items} == {acc["a4"].pk}
    assert other.pk not in {s.account_id for s in selectors.rfm_list(actor=sales).items}
    listed = customer_selectors.account_list(
        actor=sales, filters={"rfm_segment": "important_value"}
    )
    assert {a.pk for a in listed.items} == {acc["a1"].pk, acc["a2"].pk}
    risky = customer_selectors.account_list(actor=sales, filters={"at_risk": "1"})
    assert [a.pk for a in risky.items] == [acc["a4"].pk]
    from guanxi.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        customer_selectors.account_list(actor=sales, filters={"rfm_segment": "vip"})


def test_periodic_task_refreshes() -> None:
    sales = factories.user("sales")
    rfm_fixture(sales)
    assert reports_refresh_customer_scores.call_local() == 5
    assert CustomerScore.objects.count() == 5


def cohort_fixture(sales: User) -> dict[str, Any]:
    a, b, c = (crm_factories.account(sales) for _ in range(3))
    march = timezone.make_aware(dt.datetime(2026, 3, 15, 12, 0))
    won(sales, a, "100", timezone.make_aware(dt.datetime(2026, 1, 10, 12)), cycle_days=10)
    won(sales, a, "100", timezone.make_aware(dt.datetime(2026, 3, 5, 12)), cycle_days=20)
    won(sales, b, "100", timezone.make_aware(dt.datetime(2026, 1, 20, 12)), cycle_days=30)
    won(sales, c, "300", timezone.make_aware(dt.datetime(2026, 2, 10, 12)), cycle_days=40)
    return {"now": march}


def test_cohort_retention_survival_and_clv_by_hand() -> None:
    sales = factories.user("sales")
    peer = factories.user("sales")
    now = cohort_fixture(sales)["now"]
    won(peer, crm_factories.account(peer), "5000", timezone.make_aware(dt.datetime(2026, 1, 3)))
    data = cohorts.cohorts(actor=sales, now=now)
    assert data["cohorts"] == [
        {"cohort": "2026-01", "customers": 2, "active": [2, 0, 1], "retention": [1.0, 0.0, 0.5]},
        {"cohort": "2026-02", "customers": 1, "active": [1, 0], "retention": [1.0, 0.0]},
    ]
    assert data["customers"] == 3
    assert data["repeat_customers"] == 1 and data["repurchase_rate"] == 0.3333
    # survival: k=0 3/3; k=1 (Jan+Feb cohorts) only A lasts → 1/3; k=2 (Jan) A → 1/2
    assert data["survival"] == [1.0, 0.3333, 0.5]
    assert data["expected_lifetime_months"] == 1.83
    # 600 revenue over 3 + 3 + 2 customer-months = 75 a month; × 1.8333 = 137.50
    assert data["revenue"] == "600.00"
    assert data["monthly_revenue_per_customer"] == "75.00"
    assert data["clv"] == "137.50"
    assert data["sales_cycle_days"] == 25.0
    assert cohorts.cohorts(actor=factories.user("sales"), now=now)["customers"] == 0


def test_contract_ending_without_renewal_is_a_signal() -> None:
    from guanxi.finance.tests import factories as finance_factories

    sales = factories.user("sales")
    acc = rfm_fixture(sales)
    finance_factories.settings()
    finance_factories.contract(
        sales, account=acc["a5"], ends_on=dt.date(2026, 7, 20), number="HT-A5"
    )
    finance_factories.contract(sales, account=acc["a3"], ends_on=dt.date(2026, 7, 10))
    crm_factories.deal(sales, account_id=acc["a3"].pk)  # open: the renewal is in the works
    finance_factories.contract(sales, account=acc["a1"], ends_on=dt.date(2026, 12, 31))
    services.scores_refresh(actor=None, now=NOW)
    a5 = CustomerScore.objects.get(account=acc["a5"])
    number = a5.churn_reasons[0]["contract"]
    assert a5.churn_reasons == [
        {"signal": "contract_ending", "points": 30, "contract": number, "ends_on": "2026-07-20"}
    ]
    assert a5.churn_score == 30
    assert CustomerScore.objects.get(account=acc["a3"]).churn_reasons == []
    assert CustomerScore.objects.get(account=acc["a1"]).churn_reasons == []
    assert "2026-07-20" in selectors.score_as_dict(a5)["reasons"][0]["text"]
