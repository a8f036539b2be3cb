"""Figures on the forecast, attainment and targets pages."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

from guanxi.core.money import format_money

register = template.Library()

MASK = "****"


def _plain(value: Any, line: Any) -> str:
    if value is None:
        return "—"
    currency = getattr(line, "currency", "CNY")
    if currency == "" and getattr(line, "kind", "") in ("user", "department"):
        return f"{int(value):,}"  # a count (new customers)
    return format_money(Decimal(value), currency or "CNY", symbol=False)


@register.filter
def figure(value: Any, line: Any) -> str:
    """An amount of ``line`` (grouped, rounded to the currency's minor unit) or a count;
    **** when the viewer's role masks deal or contract amounts."""
    if getattr(line, "masked", False):
        return MASK
    return _plain(value, line)


@register.filter
def target_figure(value: Any, line: Any) -> str:
    """A target: never masked (targets are not deal data)."""
    return _plain(value, line)


@register.filter
def grouped(value: Any, currency: str = "CNY") -> str:
    """A sum of the targets grid: grouped, in the row's currency (a count without one)."""
    if value is None:
        return "—"
    if not currency:
        return f"{int(value):,}"
    return format_money(Decimal(value), currency, symbol=False)
