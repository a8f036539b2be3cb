"""API schemas of /reports/…"""

from __future__ import annotations

from ninja import Field, Schema


class FunnelStageOut(Schema):
    stage: str
    stage_id: int
    count: int
    amount: str | None = Field(None, description="Sum of the deals' amounts (null when masked)")
    conversion_rate: float | None = Field(None, description="count / previous stage's count")
    avg_days_in_stage: float | None = None


class FunnelWonOut(Schema):
    count: int
    amount: str | None
    conversion_rate: float | None = Field(None, description="won / last open stage's count")
    win_rate: float | None = Field(None, description="won / (won + lost)")


class FunnelLostOut(Schema):
    count: int
    amount: str | None
    rate: float | None = Field(None, description="lost / (won + lost)")


class PipelineRef(Schema):
    id: int
    name: str


class FunnelOut(Schema):
    pipeline: PipelineRef
    date_from: str
    date_to: str
    stages: list[FunnelStageOut]
    won: FunnelWonOut
    lost: FunnelLostOut


class ChannelRowOut(Schema):
    source: str | None
    source_id: int | None
    source_name: str
    leads: int
    converted: int
    conversion_rate: float | None
    deals_won: int
    customers: int
    won_amount: str | None
    cost: str | None
    cost_per_lead: str | None
    cac: str | None = Field(None, description="cost / customers won")
    roi: float | None = Field(None, description="(won_amount - cost) / cost")


class ChannelsOut(Schema):
    date_from: str
    date_to: str
    rows: list[ChannelRowOut]


class PerformanceUserOut(Schema):
    user_id: int
    user: str
    department_id: int | None
    department: str
    followups: int
    new_leads: int
    new_customers: int
    deals_won: int
    won_amount: str | None
    receipts: str | None = Field(None, description="Received in the period (null: no access)")
    target_attainment: str | None = Field(
        None, description="Won amount / target in % (month, quarter or year of the period)"
    )
    avg_cycle_days: float | None


class PerformanceDeptOut(Schema):
    department_id: int | None
    department: str
    followups: int
    new_leads: int
    new_customers: int
    deals_won: int
    won_amount: str | None
    receipts: str | None = None
    target_attainment: str | None = None
    avg_cycle_days: float | None


class PerformanceOut(Schema):
    date_from: str
    date_to: str
    users: list[PerformanceUserOut]
    departments: list[PerformanceDeptOut]


class BucketOut(Schema):
    value: str
    count: int


class TopCustomerOut(Schema):
    account_id: int
    account: str
    deals_won: int
    won_amount: str | None


class CustomersOut(Schema):
    distribution: dict[str, list[BucketOut]]
    top_customers: list[TopCustomerOut]
    buyers: int
    repeat_buyers: int
    repeat_purchase_rate: float | None


class ReasonOut(Schema):
    reason_id: int | None
    reason: str
    count: int
    amount: str | None


class CompetitorOut(Schema):
    competitor: str
    count: int


class StageCountOut(Schema):
    stage: str
    count: int


class LostOut(Schema):
    date_from: str
    date_to: str
    count: int
    by_reason: list[ReasonOut]
    by_competitor: list[CompetitorOut]
    by_stage: list[StageCountOut]


class CampaignCostIn(Schema):
    source: str = Field(..., description="Lead source code")
    month: str = Field(..., description="YYYY-MM")
    amount: str
    currency: str = "CNY"
    note: str = ""


class CampaignCostOut(Schema):
    id: int
    source: str
    source_name: str
    month: str
    amount: str
    currency: str
    note: str
    created_at: str
    updated_at: str
