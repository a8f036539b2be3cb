"""Figures on the forecast, attainment and targets pages."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils.safestring import mark_safe

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


@register.filter
def bar(line: Any) -> str:
    """The stacked bar of a forecast line: best case, committed, weighted, target mark.

    Built here rather than in an included template: a page has one per line, and the
    widths are plain numbers (percent of the widest figure in the same currency).
    """
    widths = getattr(line, "bars", None) or {}
    committed = widths.get("committed", 0.0)
    parts = [
        '<div class="fc-bar" aria-hidden="true">',
        f'<span class="fc-best" style="width: {widths.get("best_case", 0.0):.1f}%"></span>',
        f'<span class="fc-committed" style="width: {committed:.1f}%"></span>',
        f'<span class="fc-weighted" style="left: {committed:.1f}%; '
        f'width: {widths.get("weighted", 0.0):.1f}%"></span>',
    ]
    target = widths.get("target", -1.0)
    if target >= 0:
        parts.append(f'<i class="fc-target" style="left: {target:.1f}%"></i>')
    parts.append("</div>")
    return mark_safe("".join(parts))
