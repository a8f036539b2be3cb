"""``{{ amount|money:currency }}`` → ¥1,234.50 and ``{{ rate|percent }}`` → 13%."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

from guanxi.core.money import format_money

register = template.Library()


@register.filter
def money(value: Any, currency: str = "CNY") -> str:
    if value in (None, ""):
        return ""
    return format_money(Decimal(value), currency or "CNY")


@register.filter
def amount(value: Any, currency: str = "CNY") -> str:
    """The number without the currency sign (table columns that name the currency once)."""
    if value in (None, ""):
        return ""
    return format_money(Decimal(value), currency or "CNY", symbol=False)


@register.filter
def percent(value: Any) -> str:
    if value in (None, ""):
        return ""
    number = Decimal(value).normalize()
    text = f"{number:f}"
    return f"{text}%"
