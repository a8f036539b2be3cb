"""/reports/…: funnel, channels, performance, customers, lost deals; campaign costs."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router
from ninja.responses import Status

from guanxi.api.auth import actor
from guanxi.reports import periods, selectors, services
from guanxi.reports.schemas import (
    CampaignCostIn,
    CampaignCostOut,
    ChannelsOut,
    CustomersOut,
    FunnelOut,
    LostOut,
    PerformanceOut,
)

PREFIX = "/reports"
router = Router(tags=["reports"])


def _period(period: str, date_from: str, date_to: str) -> periods.Period:
    return periods.parse({"period": period, "date_from": date_from, "date_to": date_to})


@router.get("/funnel", response=FunnelOut, summary="Deals reaching each stage in a period")
def funnel(
    request: HttpRequest,
    pipeline: str = "",
    date_from: str = "",
    date_to: str = "",
    period: str = "",
    owner: str = "",
    department: str = "",
) -> dict[str, Any]:
    return selectors.funnel(
        actor=actor(request),
        period=_period(period, date_from, date_to),
        pipeline=pipeline,
        owner=owner,
        department=department,
    )


@router.get("/channels", response=ChannelsOut, summary="Leads, revenue, cost and ROI per source")
def channels(
    request: HttpRequest, date_from: str = "", date_to: str = "", period: str = ""
) -> dict[str, Any]:
    return selectors.channels(actor=actor(request), period=_period(period, date_from, date_to))


@router.get("/performance", response=PerformanceOut, summary="Sales performance per user")
def performance(
    request: HttpRequest,
    date_from: str = "",
    date_to: str = "",
    period: str = "",
    department: str = "",
) -> dict[str, Any]:
    return selectors.performance(
        actor=actor(request), period=_period(period, date_from, date_to), department=department
    )


@router.get("/customers", response=CustomersOut, summary="Customer distribution and top customers")
def customers(request: HttpRequest) -> dict[str, Any]:
    return selectors.customers(actor=actor(request))


@router.get("/lost", response=LostOut, summary="Lost deals by reason, competitor and stage")
def lost(
    request: HttpRequest,
    date_from: str = "",
    date_to: str = "",
    period: str = "",
    department: str = "",
) -> dict[str, Any]:
    return selectors.lost(
        actor=actor(request), period=_period(period, date_from, date_to), department=department
    )


@router.get("/campaign-costs", response=list[CampaignCostOut], summary="Campaign costs")
def campaign_cost_list(request: HttpRequest, year: int | None = None) -> list[dict[str, Any]]:
    return [
        selectors.campaign_cost_as_dict(c)
        for c in selectors.campaign_cost_list(actor=actor(request), year=year)
    ]


@router.post(
    "/campaign-costs",
    response={200: CampaignCostOut, 201: CampaignCostOut},
    summary="Enter a source's cost for a month (replaces that month's figure)",
)
def campaign_cost_save(request: HttpRequest, payload: CampaignCostIn) -> Status[dict[str, Any]]:
    cost, created = services.campaign_cost_save(actor=actor(request), data=payload.dict())
    return Status(201 if created else 200, selectors.campaign_cost_as_dict(cost))


@router.delete("/campaign-costs/{int:cost_id}", response={204: None})
def campaign_cost_delete(request: HttpRequest, cost_id: int) -> Status[None]:
    services.campaign_cost_delete(actor=actor(request), pk=cost_id)
    return Status(204, None)
