"""Figures on the forecast, attainment and targets pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.template.defaultfilters import floatformat

register = template.Library()

MASK = "****"


@register.filter
def figure(value: Any, line: Any) -> str:
    """An amount (two decimals, grouped) or a count of ``line``; **** when masked."""
    if getattr(line, "masked", False):
        return MASK
    if value is None:
        return "—"
    if getattr(line, "currency", "CNY") == "" and getattr(line, "kind", "") in (
        "user",
        "department",
    ):
        return str(floatformat(value, "0g"))
    return str(floatformat(value, "2g"))


@register.filter
def target_figure(value: Any, line: Any) -> str:
    """A target: never masked (targets are not deal data), counts without decimals."""
    if value is None:
        return "—"
    if getattr(line, "currency", "CNY") == "" and getattr(line, "kind", "") in (
        "user",
        "department",
    ):
        return str(floatformat(value, "0g"))
    return str(floatformat(value, "2g"))
