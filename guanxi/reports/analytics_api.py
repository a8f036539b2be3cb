"""/reports/builder, /reports/saved, /reports/rfm, /reports/churn, /reports/cohorts."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.responses import Status

from guanxi.api.auth import actor
from guanxi.core import permissions
from guanxi.core.errors import FieldError, ValidationFailed
from guanxi.reports.analytics import cohorts as cohort_selectors
from guanxi.reports.analytics import selectors, services
from guanxi.reports.builder import engine
from guanxi.reports.builder import selectors as saved_selectors
from guanxi.reports.builder import services as builder_services

PREFIX = "/reports"
router = Router(tags=["reports"])


class DefinitionIn(Schema):
    entity: str
    filters: list[dict[str, Any]] = []
    dimensions: list[dict[str, Any]] = []
    measures: list[dict[str, Any]] = []
    limit: int = 1000


class SavedIn(Schema):
    name: str
    definition: DefinitionIn
    shared_roles: list[str] = []


class SavedPatch(Schema):
    name: str | None = None
    definition: DefinitionIn | None = None
    shared_roles: list[str] | None = None


class BuilderCell(Schema):
    value: Any = None
    label: str


class BuilderRow(Schema):
    dimensions: list[BuilderCell]
    values: list[Any]
    drill: str


class BuilderOut(Schema):
    definition: dict[str, Any]
    entity_label: str
    dimension_labels: list[str]
    measure_labels: list[str]
    rows: list[BuilderRow]
    totals: list[Any]
    truncated: bool


class OwnerRef(Schema):
    id: int
    label: str


class SavedOut(Schema):
    id: int
    name: str
    definition: dict[str, Any]
    owner: OwnerRef
    shared_roles: list[str]
    created_at: str
    updated_at: str


class SegmentOut(Schema):
    segment: str
    label: str
    rule: str
    accounts: int
    share: float | None


class ReasonOut(Schema):
    signal: str
    points: int
    label: str
    text: str


class ScoreOut(Schema):
    account_id: int
    account_name: str
    owner: str | None
    last_won_at: str | None
    recency_days: int | None
    frequency: int
    monetary: str
    r_score: int
    f_score: int
    m_score: int
    segment: str
    segment_label: str
    churn_score: int
    at_risk: bool
    reasons: list[ReasonOut]


class RfmOut(Schema):
    total: int
    segments: list[SegmentOut]
    items: list[ScoreOut]
    count: int
    page: int


class ChurnOut(Schema):
    threshold: int
    items: list[ScoreOut]
    count: int
    page: int


class CohortRow(Schema):
    cohort: str
    customers: int
    active: list[int]
    retention: list[float]


class CohortsOut(Schema):
    cohorts: list[CohortRow]
    customers: int
    repeat_customers: int
    repurchase_rate: float | None
    survival: list[float]
    expected_lifetime_months: float
    revenue: str
    monthly_revenue_per_customer: str
    clv: str
    sales_cycle_days: float | None


def _json_values(result: dict[str, Any]) -> dict[str, Any]:
    for row in result["rows"]:
        row["values"] = [v if v is None or isinstance(v, int) else str(v) for v in row["values"]]
    result["totals"] = [v if v is None or isinstance(v, int) else str(v) for v in result["totals"]]
    return result


@router.post("/builder", response=BuilderOut, summary="Run a report-builder definition")
def builder_run(request: HttpRequest, payload: DefinitionIn) -> dict[str, Any]:
    return _json_values(engine.run(actor=actor(request), definition=payload.dict()))


@router.get("/saved", response=list[SavedOut], summary="Saved reports (own and shared)")
def saved_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        saved_selectors.saved_report_as_dict(r)
        for r in saved_selectors.saved_reports(actor(request))
    ]


@router.post("/saved", response={201: SavedOut}, summary="Save a report definition")
def saved_create(request: HttpRequest, payload: SavedIn) -> Status[dict[str, Any]]:
    report = builder_services.saved_report_create(actor=actor(request), data=payload.dict())
    return Status(201, saved_selectors.saved_report_as_dict(report))


@router.get("/saved/{int:report_id}", response=SavedOut)
def saved_get(request: HttpRequest, report_id: int) -> dict[str, Any]:
    return saved_selectors.saved_report_as_dict(
        saved_selectors.saved_report_get(actor=actor(request), pk=report_id)
    )


@router.get("/saved/{int:report_id}/run", response=BuilderOut, summary="Run a saved report")
def saved_run(request: HttpRequest, report_id: int) -> dict[str, Any]:
    caller = actor(request)
    report = saved_selectors.saved_report_get(actor=caller, pk=report_id)
    return _json_values(engine.run(actor=caller, definition=report.definition))


@router.patch("/saved/{int:report_id}", response=SavedOut)
def saved_update(request: HttpRequest, report_id: int, payload: SavedPatch) -> dict[str, Any]:
    caller = actor(request)
    report = saved_selectors.saved_report_get(actor=caller, pk=report_id)
    data = payload.dict(exclude_unset=True)
    if "name" in data and data["name"] is None:
        raise ValidationFailed([FieldError("name", _("Enter a name."))])
    report = builder_services.saved_report_update(actor=caller, report=report, data=data)
    return saved_selectors.saved_report_as_dict(report)


@router.delete("/saved/{int:report_id}", response={204: None})
def saved_delete(request: HttpRequest, report_id: int) -> Status[None]:
    caller = actor(request)
    report = saved_selectors.saved_report_get(actor=caller, pk=report_id)
    builder_services.saved_report_delete(actor=caller, report=report)
    return Status(204, None)


@router.get("/rfm", response=RfmOut, summary="RFM segments with counts, and the scored accounts")
def rfm(
    request: HttpRequest, segment: str = "", page: int = 1, page_size: int = 50
) -> dict[str, Any]:
    caller = actor(request)
    permissions.require(caller, "account", "view")
    summary = selectors.rfm_summary(actor=caller)
    result = selectors.rfm_list(actor=caller, segment=segment, page=page, page_size=page_size)
    return {
        "total": summary["total"],
        "segments": summary["segments"],
        "items": [selectors.score_as_dict(s) for s in result.items],
        "count": result.count,
        "page": result.page,
    }


@router.post("/rfm/refresh", summary="Recompute RFM segments and churn risk now")
def rfm_refresh(request: HttpRequest) -> dict[str, int]:
    return services.scores_refresh(actor=actor(request))


@router.get("/churn", response=ChurnOut, summary="Accounts at risk of churning, with reasons")
def churn(
    request: HttpRequest, all: bool = False, page: int = 1, page_size: int = 50
) -> dict[str, Any]:
    caller = actor(request)
    permissions.require(caller, "account", "view")
    result = selectors.churn_list(actor=caller, page=page, page_size=page_size, all_=all)
    return {
        "threshold": selectors.THRESHOLD,
        "items": [selectors.score_as_dict(s) for s in result.items],
        "count": result.count,
        "page": result.page,
    }


@router.get("/cohorts", response=CohortsOut, summary="Retention by cohort, CLV, sales cycle")
def cohorts(request: HttpRequest) -> dict[str, Any]:
    caller = actor(request)
    permissions.require(caller, "deal", "view")
    return cohort_selectors.cohorts(actor=caller)
