"""The actual figures targets are measured against, as aggregate queries.

Each measure is one ``GROUP BY`` over the deals (or receipts) of a period: never a loop
over records in Python. Amounts are summed per currency and never converted.

- won amount: deals with status *won* and ``won_at`` in the period, Σ amount;
- new customers: accounts whose first won deal (earliest ``won_at``, then lowest id)
  was won in the period, counted for the owner of that deal;
- receipts: money received (回款) with its date in the period, Σ amount, for the
  receipt's owner (provided by the finance app when it is installed).

Periods are calendar dates in the company's time zone (``guanxi.sales.periods``).
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth

from guanxi.sales.models import Deal, SalesTarget
from guanxi.sales.periods import Period

Measure = SalesTarget.Measure

# Group names callers may ask for, and the deal field behind each.
DEAL_GROUPS = {
    "owner": "owner_id",
    "department": "owner__department_id",
    "pipeline": "pipeline_id",
}


@dataclass(frozen=True)
class Figure:
    """One aggregated row: the group values, a currency ("" for counts), a total."""

    group: dict[str, Any]
    currency: str
    total: Decimal
    count: int


def won_deals(base: QuerySet[Deal], period: Period) -> QuerySet[Deal]:
    start, end = period.bounds()
    return base.filter(status=Deal.Status.WON, won_at__gte=start, won_at__lt=end)


def open_deals(base: QuerySet[Deal], period: Period) -> QuerySet[Deal]:
    return base.filter(
        status=Deal.Status.OPEN,
        expected_close_date__gte=period.start,
        expected_close_date__lt=period.end,
    )


def first_win() -> Any:
    """True for a won deal that is its account's first win (over all deals, unscoped)."""
    earlier = Deal.objects.filter(account_id=OuterRef("account_id"), status=Deal.Status.WON).filter(
        Q(won_at__lt=OuterRef("won_at")) | Q(won_at=OuterRef("won_at"), id__lt=OuterRef("id"))
    )
    return ~Exists(earlier)


def month_of(field: str, *, moment: bool = True) -> TruncMonth:
    """The month of a datetime (in the company's time zone) or of a date (``moment=False``)."""
    if not moment:
        return TruncMonth(field)
    return TruncMonth(field, tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))


def _fields(groups: list[str], mapping: dict[str, str]) -> dict[str, str]:
    return {g: mapping[g] for g in groups}


def won_amount(base: QuerySet[Deal], period: Period, groups: list[str]) -> list[Figure]:
    """Σ amount of deals won in ``period`` per group and currency."""
    fields = _fields(groups, DEAL_GROUPS)
    qs = won_deals(base, period).values(*fields.values(), "currency")
    rows = qs.annotate(total=Sum("amount"), n=Count("id")).order_by()
    return [
        Figure(
            {g: row[f] for g, f in fields.items()},
            row["currency"],
            row["total"] or Decimal(0),
            row["n"],
        )
        for row in rows
    ]


def new_customers(base: QuerySet[Deal], period: Period, groups: list[str]) -> list[Figure]:
    """Accounts whose first win fell in ``period``, per group of that winning deal."""
    fields = _fields(groups, DEAL_GROUPS)
    qs = won_deals(base, period).filter(first_win()).values(*fields.values())
    rows = qs.annotate(n=Count("account_id", distinct=True)).order_by()
    return [
        Figure({g: row[f] for g, f in fields.items()}, "", Decimal(row["n"]), row["n"])
        for row in rows
    ]


RECEIPT_GROUPS = {
    "owner": "contract__owner_id",
    "department": "contract__owner__department_id",
}


def receipts(base: QuerySet[Any], period: Period, groups: list[str]) -> list[Figure]:
    """Σ amount of receipts (回款) dated in ``period``, per group of the contract's owner,
    in the contract's currency."""
    fields = _fields(groups, RECEIPT_GROUPS)
    qs = base.filter(received_on__gte=period.start, received_on__lt=period.end)
    rows = (
        qs.values(*fields.values(), "contract__currency")
        .annotate(total=Sum("amount"), n=Count("id"))
        .order_by()
    )
    return [
        Figure(
            {g: row[f] for g, f in fields.items()},
            row["contract__currency"],
            row["total"] or Decimal(0),
            row["n"],
        )
        for row in rows
    ]


@dataclass(frozen=True)
class Source:
    """Where a measure's actual figures come from."""

    entity: str  # the permission entity whose data scope limits who sees the figures
    base: Callable[[], QuerySet[Any]]  # every record (unscoped)
    figures: Callable[[QuerySet[Any], Period, list[str]], list[Figure]]
    # (entity, field): when the viewer's role masks this field, amounts are hidden.
    masked_by: tuple[str, str] | None = None


_sources: dict[str, Source] = {
    Measure.WON_AMOUNT.value: Source("deal", Deal.objects.all, won_amount, ("deal", "amount")),
    Measure.NEW_CUSTOMERS.value: Source("deal", Deal.objects.all, new_customers),
}


def _receipt_source() -> Source | None:
    """Receipts come from the finance app, when it is installed."""
    if not apps.is_installed("guanxi.finance"):
        return None
    from guanxi.finance.models import Receipt

    return Source("payment", Receipt.objects.all, receipts, ("contract", "amount"))


def source(measure: str) -> Source | None:
    if measure == Measure.RECEIPTS.value:
        return _receipt_source()
    return _sources.get(measure)


def available_measures() -> list[str]:
    """Measures whose actual figures can be computed in this installation."""
    return [m for m in Measure.values if source(m) is not None]
