"""Deals for the forecast and attainment tests, made through the real deal services.

Won and lost deals are moved to their stage by ``deal_move_stage``; the moment of the win
is then set to a date of the test's choosing (the service stamps "now").
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal
from typing import Any

from guanxi.identity.models import User
from guanxi.sales import services
from guanxi.sales.models import Deal, LossReason, Pipeline, Stage
from guanxi.tests_support import crm_factories

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def at(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> dt.datetime:
    """A moment in Beijing time (the company's time zone in tests)."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def stage(kind: str, pipeline: Pipeline | None = None) -> Stage:
    p = pipeline or Pipeline.objects.get(is_default=True)
    return Stage.objects.filter(pipeline=p, kind=kind).order_by("position").first()  # type: ignore[return-value]


def deal(
    owner: User,
    amount: str | int,
    *,
    currency: str = "CNY",
    status: str = "open",
    probability: int | None = None,
    close: dt.date | None = None,
    won_at: dt.datetime | None = None,
    account_id: int | None = None,
    pipeline: Pipeline | None = None,
    by: User | None = None,
) -> Deal:
    data: dict[str, Any] = {
        "amount": str(amount),
        "currency": currency,
        "expected_close_date": (close or dt.date(2026, 11, 15)).isoformat(),
    }
    if probability is not None:
        data["probability"] = probability
    if account_id is not None:
        data["account_id"] = account_id
    if pipeline is not None:
        data["pipeline_id"] = pipeline.pk
    actor = by or owner
    if by is not None:
        data["owner_id"] = owner.pk
    created: Deal = crm_factories.deal(actor, **data)
    if status == "won":
        services.deal_move_stage(actor=actor, deal=created, stage=stage("won", pipeline))
        Deal.objects.filter(pk=created.pk).update(won_at=won_at or at(2026, 11, 1))
    elif status == "lost":
        services.deal_move_stage(
            actor=actor,
            deal=created,
            stage=stage("lost", pipeline),
            loss_reason_id=LossReason.objects.first().pk,  # type: ignore[union-attr]
            loss_note="预算取消",
        )
    created.refresh_from_db()
    assert created.amount == Decimal(str(amount))
    return created
