from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from guanxi.core import permissions


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"is_admin": permissions.is_admin(user)}
