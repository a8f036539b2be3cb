"""Ninja schemas of the lead API (DESIGN §3 field names)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema


class OwnerOut(Schema):
    id: int
    username: str


class LeadIn(Schema):
    name: str
    company: str = ""
    title: str = ""
    mobile: str | None = None
    phone: str | None = None
    email: str | None = None
    wechat: str = ""
    source: str | None = Field(None, description="A lead source code (see /lead-sources)")
    campaign: str = ""
    province: str = ""
    city: str = ""
    industry: str = ""
    status: str = "new"
    score: int = Field(
        0, description="Only while no scoring rule is active (then 422): the rules compute it"
    )
    owner_id: int | None = Field(
        None,
        description=(
            "Given: this owner (null: the public pool), the assignment rules are skipped. "
            "Left out: the assignment rules decide when any is active, else the caller."
        ),
    )
    assign_by_rules: bool | None = Field(
        None,
        description=(
            "true: let the assignment rules decide even when none would by default; "
            "false: the caller owns the lead. Not together with owner_id."
        ),
    )
    next_followup_at: dt.datetime | None = None
    last_contacted_at: dt.datetime | None = None
    notes: str = ""
    tags: list[str] = []
    custom: dict[str, Any] = {}


class LeadPatch(Schema):
    name: str | None = None
    company: str | None = None
    title: str | None = None
    mobile: str | None = None
    phone: str | None = None
    email: str | None = None
    wechat: str | None = None
    source: str | None = None
    campaign: str | None = None
    province: str | None = None
    city: str | None = None
    industry: str | None = None
    status: str | None = None
    score: int | None = None
    owner_id: int | None = None
    next_followup_at: dt.datetime | None = None
    last_contacted_at: dt.datetime | None = None
    notes: str | None = None
    tags: list[str] | None = None
    custom: dict[str, Any] | None = None


class ScoreReasonOut(Schema):
    rule_id: int
    rule: str
    points: int


class LeadOut(Schema):
    id: int
    created_at: str
    updated_at: str
    owner: OwnerOut | None
    custom: dict[str, Any]
    name: str
    name_pinyin: str
    name_initials: str
    company: str
    title: str
    mobile: str
    mobile_e164: str
    phone: str
    phone_e164: str
    phone_ext: str
    email: str
    wechat: str
    source: str | None
    source_name: str | None
    campaign: str
    status: str
    score: int
    score_reasons: list[ScoreReasonOut]
    province: str
    city: str
    industry: str
    tags: list[str]
    next_followup_at: str | None
    last_contacted_at: str | None
    notes: str
    converted_at: str | None
    converted_account_id: int | None
    converted_contact_id: int | None
    assigned_reason: str
    pool_locked: bool = False
    pool_department_id: int | None = Field(
        None, description="In the public pool: the department whose pool (null: company pool)"
    )


class LeadPage(Schema):
    items: list[LeadOut]
    count: int
    count_exact: bool
    page: int
    page_size: int


class LeadFilter(Schema):
    q: str = Field("", description="Name, company, pinyin / initials, phone (or its tail), e-mail")
    owner: str = Field("", description="A user id, 'me' or 'none' (the public pool)")
    status: str = ""
    source: str = ""
    city: str = ""
    province: str = ""
    industry: str = ""
    tag: str = ""
    created_from: str = ""
    created_to: str = ""
    sort: str = "-created_at"
    page: int = 1
    page_size: int = 50


class ConvertDealIn(Schema):
    name: str | None = None
    amount: str | int | float | None = None
    currency: str | None = None
    pipeline_id: int | None = None
    stage_id: int | None = None
    expected_close_date: dt.date | None = None


class LeadConvertIn(Schema):
    account_id: int | None = None
    create_deal: bool = False
    deal: ConvertDealIn | None = Field(
        None, description="Fields of the deal created with create_deal (all optional)"
    )


class LeadSourceOut(Schema):
    code: str
    name_zh: str
    name_en: str
    active: bool
