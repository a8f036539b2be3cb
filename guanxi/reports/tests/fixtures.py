"""Small hand-checked fixtures: deals moved through the real services, their history then
dated to fixed days so that the expected figures can be worked out by hand."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from guanxi.identity.models import User
from guanxi.sales import services as sales_services
from guanxi.sales.models import Deal, DealStageChange, LossReason, Stage
from guanxi.tests_support import crm_factories


def at(month: int, day: int, year: int = 2026) -> dt.datetime:
    return timezone.make_aware(dt.datetime(year, month, day, 10, 0))


def stage(name: str) -> Stage:
    return Stage.objects.get(pipeline__name="新客户", name=name)


def deal_with_history(
    owner: User, amount: str, steps: list[tuple[str, dt.datetime]], **data: Any
) -> Deal:
    """A deal created in ``steps[0]``'s stage and moved through the rest; each change then
    carries the given time (and the time spent in the stage it left)."""
    first, *rest = steps
    reason = data.pop("reason", None) or LossReason.objects.order_by("position", "id").first()
    deal = crm_factories.deal(
        owner,
        amount=amount,
        expected_close_date="2026-03-31",
        stage_id=stage(first[0]).pk,
        **data,
    )
    for name, _when in rest:
        target = stage(name)
        extra: dict[str, Any] = {}
        if target.kind == Stage.Kind.LOST:
            extra = {
                "loss_reason_id": reason.pk if reason else None,
                "loss_note": "—",
            }
        sales_services.deal_move_stage(actor=owner, deal=deal, stage=target, **extra)
    changes = list(DealStageChange.objects.filter(deal=deal).order_by("id"))
    previous: dt.datetime | None = None
    for change, (_name, when) in zip(changes, steps, strict=True):
        change.changed_at = when
        change.time_in_from_stage = None if previous is None else when - previous
        change.save(update_fields=["changed_at", "time_in_from_stage"])
        previous = when
    last = steps[-1][1]
    deal.refresh_from_db()
    Deal.objects.filter(pk=deal.pk).update(
        created_at=steps[0][1],
        won_at=last if deal.status == Deal.Status.WON else None,
        lost_at=last if deal.status == Deal.Status.LOST else None,
    )
    deal.refresh_from_db()
    return deal


def funnel_fixture(sales: User, peer: User) -> dict[str, Deal]:
    """d1 A→B→C; d2 A→D (skips B, C)→B (back)→D (again); d3 A→won; d4 A→B→lost;
    d5 moved only outside January; d6 is the peer's."""
    return {
        "d1": deal_with_history(
            sales,
            "100",
            [("初步接触", at(1, 5)), ("需求确认", at(1, 10)), ("方案/报价", at(1, 20))],
        ),
        "d2": deal_with_history(
            sales,
            "200",
            [
                ("初步接触", at(1, 3)),
                ("商务谈判", at(1, 8)),
                ("需求确认", at(1, 12)),
                ("商务谈判", at(1, 15)),
            ],
        ),
        "d3": deal_with_history(sales, "300", [("初步接触", at(1, 2)), ("赢单", at(1, 25))]),
        "d4": deal_with_history(
            sales,
            "400",
            [("初步接触", at(1, 6)), ("需求确认", at(1, 7)), ("输单", at(1, 9))],
            competitors=["纷享销客", "销售易"],
        ),
        "d5": deal_with_history(
            sales,
            "500",
            [
                ("初步接触", at(12, 1, 2025)),
                ("需求确认", at(12, 5, 2025)),
                ("方案/报价", at(2, 2)),
            ],
        ),
        "d6": deal_with_history(peer, "600", [("初步接触", at(1, 4))]),
    }
