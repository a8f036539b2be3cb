from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from guanxi.core import permissions
from guanxi.web import navigation as nav_registry


def _search_url() -> str:
    # The search app may land after this layout; until then the box is hidden.
    try:
        return reverse("search:global")
    except NoReverseMatch:
        return ""


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    apps = nav_registry.items_for(user, request.path)
    admin = nav_registry.items_for(user, request.path, section="admin")
    # /leads/rules/… is under /leads/ too: only the closest entry is the current page.
    current = [i for i in apps + admin if i["current"]]
    if len(current) > 1:
        best = max(current, key=lambda i: len(i["url"]))
        for item in current:
            item["current"] = item is best
    return {
        "is_admin": permissions.is_admin(user),
        "can_view_users": permissions.can(user, "user", "view"),
        "search_url": _search_url(),
        "nav_items": apps,
        "admin_nav_items": admin,
    }
