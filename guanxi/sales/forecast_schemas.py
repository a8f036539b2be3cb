"""Ninja schemas of /targets, /attainment and /forecast."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema


class UserRef(Schema):
    id: int
    username: str
    display_name: str


class DepartmentRef(Schema):
    id: int
    name: str


class TargetOut(Schema):
    id: int
    measure: str
    user: UserRef | None
    department: DepartmentRef | None
    year: int
    month: int
    value: str
    currency: str
    created_at: dt.datetime
    updated_at: dt.datetime


class TargetList(Schema):
    items: list[TargetOut]
    count: int
    count_exact: bool
    page: int
    page_size: int


class TargetIn(Schema):
    """A monthly target of one user (``user_id``) or one department (``department_id``).

    ``value`` as a decimal string or number; ``currency`` for won amount and receipts
    (default CNY), none for new customers.
    """

    measure: str
    user_id: int | None = None
    department_id: int | None = None
    year: int
    month: int
    value: str | int | float
    currency: str | None = None


class TargetPatch(Schema):
    value: str | int | float | None = None
    currency: str | None = None


class PeriodOut(Schema):
    key: str
    kind: str
    start: dt.date
    end: dt.date


class GroupOut(Schema):
    type: str
    id: Any
    label: str
    depth: int


class ForecastRow(Schema):
    group: GroupOut
    currency: str
    committed: str
    weighted: str
    open_amount: str
    best_case: str
    won_count: int
    open_count: int
    target: str | None
    attainment: str | None
    expected_attainment: str | None


class ForecastMonth(ForecastRow):
    month: str


class PipelineRef(Schema):
    id: int
    name: str


class ForecastOut(Schema):
    period: PeriodOut
    group_by: str
    pipeline: PipelineRef | None
    currencies: list[str]
    rows: list[ForecastRow]
    totals: list[ForecastRow]
    months: list[ForecastMonth]


class AttainmentRow(Schema):
    type: str
    id: int
    label: str
    department: str
    depth: int
    currency: str
    actual: str | int | None
    target: str | int | None
    percent: str | None
    other_currencies: dict[str, str | int | None]
    rank: int | None
    rank_of: int
    company_rank: int | None
    company_of: int


class AttainmentOut(Schema):
    period: PeriodOut
    measure: str
    me: AttainmentRow | None
    users: list[AttainmentRow]
    departments: list[AttainmentRow]
