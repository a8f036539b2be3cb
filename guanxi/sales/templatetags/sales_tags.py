"""Small display helpers of the deal pages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.html import format_html_join

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


@register.simple_tag
def kanban_cards(cards: list[Any], deal_base: str) -> str:
    """The cards of a board column, built in one pass: a column holds up to 50 cards and
    the board six columns, and the template engine would spend most of the page's time
    on them."""
    return format_html_join(
        "",
        '<li class="kanban-card" data-deal="{}" data-name="{}" tabindex="0">'
        '<span class="kanban-handle" aria-hidden="true">⠿</span>'
        '<a class="kanban-card-title" href="{}{}/" draggable="false">{}</a>'
        '<span class="kanban-card-account">{}</span>'
        '<span class="kanban-card-meta">{} · {} · {}</span></li>',
        (
            (c.id, c.name, deal_base, c.id, c.name, c.account, c.amount, c.close, c.owner)
            for c in cards
        ),
    )
