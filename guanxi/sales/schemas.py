"""Ninja schemas of the deal and pipeline API (DESIGN §3 field names)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema

from guanxi.customers.schemas import OwnerOut, RefOut


class DealContactIn(Schema):
    contact_id: int
    role: str = "other"


class DealIn(Schema):
    name: str
    account_id: int
    pipeline_id: int | None = None
    stage_id: int | None = None
    amount: str | int | float | None = Field(
        None, description="Decimal string, e.g. '120000.00' (numbers accepted)"
    )
    currency: str = "CNY"
    expected_close_date: dt.date | None = None
    probability: int | None = Field(None, description="0–100; default: the stage's")
    owner_id: int | None = None
    collaborator_ids: list[int] = []
    source_id: int | None = None
    lead_id: int | None = None
    competitors: list[str] = []
    next_step: str = ""
    tags: list[str] = []
    contacts: list[DealContactIn] = []
    custom: dict[str, Any] = {}


class DealPatch(Schema):
    name: str | None = None
    account_id: int | None = None
    pipeline_id: int | None = None
    stage_id: int | None = None
    loss_reason_id: int | None = None
    loss_note: str | None = None
    amount: str | int | float | None = None
    currency: str | None = None
    expected_close_date: dt.date | None = None
    probability: int | None = None
    owner_id: int | None = None
    collaborator_ids: list[int] | None = None
    source_id: int | None = None
    lead_id: int | None = None
    competitors: list[str] | None = None
    next_step: str | None = None
    tags: list[str] | None = None
    contacts: list[DealContactIn] | None = None
    custom: dict[str, Any] | None = None


class StageRefOut(Schema):
    id: int
    name: str
    kind: str
    probability: int


class DealOut(Schema):
    id: int
    created_at: str
    updated_at: str
    owner: OwnerOut | None
    custom: dict[str, Any]
    name: str
    account: RefOut
    pipeline: RefOut
    stage: StageRefOut
    status: str
    amount: str | None
    currency: str
    expected_close_date: str | None
    probability: int
    source: str | None = Field(None, description="Lead source code (carried from the lead)")
    lead_id: int | None
    competitors: list[str]
    next_step: str
    tags: list[str]
    won_at: str | None
    lost_at: str | None
    loss_reason: int | None
    loss_note: str
    stage_changed_at: str | None
    position: int


class DealDetailOut(DealOut):
    collaborator_ids: list[int]
    contacts: list[dict[str, Any]]
    stage_history: list[dict[str, Any]]


class DealPage(Schema):
    items: list[DealOut]
    count: int
    count_exact: bool
    page: int
    page_size: int


class DealFilter(Schema):
    q: str = Field("", description="Deal or account name")
    owner: str = Field("", description="A user id or 'me'")
    stage: str = ""
    pipeline: str = ""
    account: str = ""
    status: str = Field("", description="open, won or lost")
    close_month: str = Field("", description="Expected close month, YYYY-MM")
    tag: str = ""
    department: str = Field("", description="Owner's department id (with sub-departments)")
    loss_reason: str = Field("", description="Loss reason id")
    reached_stage: str = Field(
        "", description="Stage id: deals that reached it (funnel rule), with reached_from/_to"
    )
    reached_from: str = Field("", description="YYYY-MM-DD")
    reached_to: str = Field("", description="YYYY-MM-DD (inclusive)")
    closed_from: str = Field("", description="Won or lost on or after YYYY-MM-DD")
    closed_to: str = Field("", description="Won or lost on or before YYYY-MM-DD")
    sort: str = "-created_at"
    page: int = 1
    page_size: int = 50


class DealMoveIn(Schema):
    stage: int
    loss_reason: int | None = None
    loss_note: str = ""
    before_id: int | None = Field(None, description="Place the card above this deal")
    probability: int | None = None


class StageIn(Schema):
    name: str
    name_en: str = ""
    position: int | None = None
    probability: int = 0
    kind: str = "open"
    required_fields: list[str] = []


class StagePatch(Schema):
    name: str | None = None
    name_en: str | None = None
    position: int | None = None
    probability: int | None = None
    kind: str | None = None
    required_fields: list[str] | None = None


class StageOut(Schema):
    id: int
    name: str
    name_en: str
    position: int
    probability: int
    kind: str
    required_fields: list[str]


class PipelineIn(Schema):
    name: str
    name_en: str = ""
    is_default: bool = False
    position: int | None = None
    active: bool = True
    stages: list[StageIn] | None = None


class PipelinePatch(Schema):
    name: str | None = None
    name_en: str | None = None
    is_default: bool | None = None
    position: int | None = None
    active: bool | None = None


class PipelineOut(Schema):
    id: int
    name: str
    name_en: str
    is_default: bool
    position: int
    active: bool
    stages: list[StageOut]


class StageDeleteIn(Schema):
    move_to: int | None = Field(None, description="Stage the deals in this stage move to")


class LossReasonIn(Schema):
    name_zh: str
    name_en: str = ""
    active: bool = True
    position: int | None = None


class LossReasonPatch(Schema):
    name_zh: str | None = None
    name_en: str | None = None
    active: bool | None = None
    position: int | None = None


class LossReasonOut(Schema):
    id: int
    name_zh: str
    name_en: str
    active: bool
    position: int


class TransferIn(Schema):
    ids: list[int]
    to_user_id: int


class TransferOut(Schema):
    transferred: int
