"""Sidebar entries contributed by apps, so that new apps need not edit the base layout.

An app registers its entries once, in ``AppConfig.ready``::

    from guanxi.web.navigation import NavItem, register
    register(NavItem("leads:list", _("Leads"), entity="lead", order=20))

An entry shows for users who may ``view`` its entity (or for everyone when it names none).
Entries with ``section="admin"`` are listed under the administrators' heading instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.urls import NoReverseMatch, reverse

from guanxi.core import permissions

if TYPE_CHECKING:
    from guanxi.identity.models import User


@dataclass(frozen=True)
class NavItem:
    url_name: str
    label: Any
    entity: str = ""
    order: int = 100
    admin_only: bool = False
    section: str = "apps"


_items: dict[str, NavItem] = {}


def register(item: NavItem) -> NavItem:
    _items[item.url_name] = item
    return item


def items_for(user: User, current_path: str, section: str = "apps") -> list[dict[str, Any]]:
    """The registered entries of ``section`` ``user`` may open, with their URLs, in order."""
    out: list[dict[str, Any]] = []
    for item in sorted(_items.values(), key=lambda i: (i.order, i.url_name)):
        if item.section != section:
            continue
        if item.admin_only and not permissions.is_admin(user):
            continue
        if item.entity:
            try:
                if not permissions.can(user, item.entity, "view"):
                    continue
            except KeyError:
                continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        out.append({"url": url, "label": item.label, "current": current_path.startswith(url)})
    return out
