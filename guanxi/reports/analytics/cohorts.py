"""Retention and repurchase by cohort (month of first win), CLV and sales-cycle length.

Everything is read from the won deals the user may see (scoped), aggregated in SQL to one
row per (account, month); the cohort arithmetic then runs over those rows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from guanxi.core import permissions
from guanxi.identity.models import User
from guanxi.sales.models import Deal

CENT = Decimal("0.01")


def _month_index(day: dt.date | dt.datetime) -> int:
    return day.year * 12 + day.month - 1


def _label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def won_deals(actor: User) -> Any:
    return permissions.scoped_queryset(actor, "deal").filter(
        status=Deal.Status.WON, won_at__isnull=False
    )


def cohorts(*, actor: User, now: dt.datetime | None = None) -> dict[str, Any]:
    """Cohort table, repurchase rate, survival curve and CLV over ``actor``'s won deals."""
    now = timezone.localtime(now or timezone.now())
    current = _month_index(now)
    rows = (
        won_deals(actor)
        .filter(won_at__lte=now)
        .annotate(month=TruncMonth("won_at"))
        .values("account_id", "month")
        .annotate(n=Count("id"), revenue=Sum("amount"))
        .order_by()
    )
    months: dict[int, set[int]] = defaultdict(set)
    wins: dict[int, int] = defaultdict(int)
    revenue = Decimal(0)
    for row in rows:
        month = row["month"]
        if isinstance(month, dt.datetime):
            month = timezone.localtime(month) if timezone.is_aware(month) else month
        months[row["account_id"]].add(_month_index(month))
        wins[row["account_id"]] += row["n"]
        revenue += row["revenue"] or Decimal(0)
    first = {acc: min(ms) for acc, ms in months.items()}
    last = {acc: max(ms) for acc, ms in months.items()}
    by_cohort: dict[int, list[int]] = defaultdict(list)
    for acc, start in first.items():
        by_cohort[start].append(acc)
    table = []
    for start in sorted(by_cohort):
        members = by_cohort[start]
        active = []
        for k in range(current - start + 1):
            count = sum(1 for acc in members if start + k in months[acc])
            active.append(count)
        table.append(
            {
                "cohort": _label(start),
                "customers": len(members),
                "active": active,
                "retention": [round(a / len(members), 4) for a in active],
            }
        )
    survival: list[float] = []
    horizon = max((current - s for s in by_cohort), default=-1)
    for k in range(horizon + 1):
        observable = [acc for acc, start in first.items() if start + k <= current]
        alive = sum(1 for acc in observable if last[acc] - first[acc] >= k)
        survival.append(round(alive / len(observable), 4) if observable else 0.0)
    customers = len(first)
    lifetime: Decimal = sum(
        (
            Decimal(
                sum(
                    1
                    for acc, start in first.items()
                    if start + k <= current and last[acc] - start >= k
                )
            )
            / Decimal(sum(1 for start in first.values() if start + k <= current))
        )
        for k in range(horizon + 1)
    ) or Decimal(0)
    observed_months = sum(current - start + 1 for start in first.values())
    monthly = revenue / observed_months if observed_months else Decimal(0)
    clv = (monthly * lifetime).quantize(CENT, ROUND_HALF_UP)
    repeat = sum(1 for acc in first if wins[acc] >= 2)
    return {
        "cohorts": table,
        "customers": customers,
        "repeat_customers": repeat,
        "repurchase_rate": round(repeat / customers, 4) if customers else None,
        "survival": survival,
        "expected_lifetime_months": float(lifetime.quantize(CENT, ROUND_HALF_UP)),
        "revenue": str(revenue.quantize(CENT, ROUND_HALF_UP)),
        "monthly_revenue_per_customer": str(monthly.quantize(CENT, ROUND_HALF_UP)),
        "clv": str(clv),
        "sales_cycle_days": sales_cycle_days(actor=actor),
    }


def sales_cycle_days(*, actor: User) -> float | None:
    """Average days from a deal's creation to its win, over ``actor``'s won deals."""
    result = won_deals(actor).aggregate(
        cycle=Avg(ExpressionWrapper(F("won_at") - F("created_at"), output_field=DurationField()))
    )["cycle"]
    if result is None:
        return None
    if isinstance(result, dt.timedelta):
        return round(result.total_seconds() / 86400, 1)
    return round(float(result) / 86_400_000_000, 1)  # microseconds (SQLite)
