"""``notification_count`` for the bell in the top bar (one COUNT per page)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from guanxi.activities import selectors


def notifications(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or getattr(request, "htmx", False):
        return {}
    return {"notification_count": selectors.notification_unread_count(actor=user)}
