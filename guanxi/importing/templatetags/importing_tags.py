"""``{% export_links "leads" %}``: export buttons for a list page (current filters kept)."""

from __future__ import annotations

from typing import Any

from django import template

from guanxi.core import permissions
from guanxi.importing import fields as fieldmap

register = template.Library()


@register.inclusion_tag("importing/_export_links.html", takes_context=True)
def export_links(context: dict[str, Any], entity: str) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    allowed = bool(
        user is not None
        and user.is_authenticated
        and permissions.can(user, fieldmap.ENTITY_KEY[entity], "export")
    )
    query = request.GET.copy() if request is not None else None
    if query is not None:
        query.pop("page", None)
    return {
        "allowed": allowed,
        "entity": entity,
        "query": query.urlencode() if query is not None else "",
        "can_import": bool(
            user is not None
            and user.is_authenticated
            and permissions.can(user, fieldmap.ENTITY_KEY[entity], "import")
        ),
    }
