"""Template helpers of the finance pages."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def get(mapping: Any, key: str) -> Any:
    """``row|get:"d0_30"``: a value of a dict by a key held in a variable."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None
