"""/targets (CRUD), /attainment and /forecast."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router
from ninja.responses import Status

from guanxi.api.auth import actor
from guanxi.sales import forecast, periods, targets
from guanxi.sales.forecast_schemas import (
    AttainmentOut,
    ForecastOut,
    TargetIn,
    TargetList,
    TargetOut,
    TargetPatch,
)

router = Router(tags=["targets and forecast"])


@router.get(
    "/targets",
    response=TargetList,
    summary="Monthly sales targets in the caller's scope",
    description="Filter by `year`, `month`, `measure` (won_amount, receipts, new_customers), "
    "`user` or `department` (ids). A quarter or a year is the sum of its months.",
)
def target_list(
    request: HttpRequest,
    year: str = "",
    month: str = "",
    measure: str = "",
    user: str = "",
    department: str = "",
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    result = targets.target_list(
        actor=actor(request),
        year=year,
        month=month,
        measure=measure,
        user_id=user,
        department_id=department,
        page=page,
        page_size=page_size,
    )
    return result.as_api([targets.target_as_dict(target=t) for t in result.items])


@router.post("/targets", response={201: TargetOut})
def target_create(request: HttpRequest, payload: TargetIn) -> Status[dict[str, Any]]:
    target = targets.target_create(actor=actor(request), data=payload.dict())
    caller = actor(request)
    return Status(
        201, targets.target_as_dict(target=targets.target_get_for_user(actor=caller, pk=target.pk))
    )


@router.get("/targets/{target_id}", response=TargetOut)
def target_detail(request: HttpRequest, target_id: int) -> dict[str, Any]:
    return targets.target_as_dict(
        target=targets.target_get_for_user(actor=actor(request), pk=target_id)
    )


@router.patch("/targets/{target_id}", response=TargetOut)
def target_update(request: HttpRequest, target_id: int, payload: TargetPatch) -> dict[str, Any]:
    caller = actor(request)
    target = targets.target_get_for_user(actor=caller, pk=target_id, action="edit")
    target = targets.target_update(
        actor=caller, target=target, data=payload.dict(exclude_unset=True)
    )
    return targets.target_as_dict(target=targets.target_get_for_user(actor=caller, pk=target.pk))


@router.delete("/targets/{target_id}", response={204: None})
def target_delete(request: HttpRequest, target_id: int) -> Status[None]:
    caller = actor(request)
    target = targets.target_get_for_user(actor=caller, pk=target_id, action="delete")
    targets.target_delete(actor=caller, target=target)
    return Status(204, None)


@router.get(
    "/attainment",
    response=AttainmentOut,
    summary="Actual vs target, with ranks, for a period",
    description="`period`: 2026, 2026-Q4 or 2026-11 (default: this quarter); `measure`: "
    "won_amount (default), receipts or new_customers. Lines outside the caller's data "
    "scope are left out; `me` carries the caller's own ranks.",
)
def attainment(request: HttpRequest, period: str = "", measure: str = "won_amount") -> Any:
    caller = actor(request)
    p = periods.parse(period, default=periods.current(periods.QUARTER))
    targets.clean_measure(measure)
    return forecast.attainment(actor=caller, period=p, measure=measure).as_dict()


@router.get(
    "/forecast",
    response=ForecastOut,
    summary="Committed, weighted and best-case forecast of a period",
    description="`period`: 2026, 2026-Q4 or 2026-11 (default: this quarter); `group_by`: "
    "owner (default), department or pipeline; `pipeline`: a pipeline id. Amounts are "
    "decimal strings per currency, never converted.",
)
def deal_forecast(
    request: HttpRequest, period: str = "", group_by: str = "owner", pipeline: str = ""
) -> Any:
    caller = actor(request)
    p = periods.parse(period, default=periods.current(periods.QUARTER))
    return forecast.deal_forecast(
        actor=caller,
        period=p,
        group_by=forecast.clean_group_by(group_by),
        pipeline=forecast.clean_pipeline(pipeline),
    ).as_dict()
