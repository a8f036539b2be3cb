"""Small display helpers of the deal pages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma

register = template.Library()


@register.filter
def duration_days(value: dt.timedelta | None) -> str:
    """A duration in days with one decimal (0.5, 12.0)."""
    if value is None:
        return ""
    return f"{value.total_seconds() / 86400:.1f}"


@register.filter
def money(value: Decimal | None, currency: str = "") -> str:
    """¥-style amount with thousands separators: ``CNY 12,000.00``."""
    if value is None:
        return "—"
    text = intcomma(f"{Decimal(value):.2f}")
    return f"{currency} {text}".strip()


@register.filter
def get_item(mapping: dict[Any, Any], key: Any) -> Any:
    return mapping.get(key) if mapping else None
