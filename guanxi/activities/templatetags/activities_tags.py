"""Drop-ins for record pages::

{% load activities_tags %}
{% followup_form "lead" lead.pk %}
{% timeline "lead" lead.pk %}
"""

from __future__ import annotations

from typing import Any

from django import template

from guanxi.activities.forms import FollowupForm
from guanxi.activities.models import Activity

register = template.Library()


@register.inclusion_tag("activities/_followup_form.html", takes_context=True)
def followup_form(context: dict[str, Any], target_entity: str, target_id: Any) -> dict[str, Any]:
    form = FollowupForm(initial={"target_entity": target_entity, "target_id": target_id})
    return {
        "form": form,
        "kinds": Activity.Kind.choices,
        "target_entity": target_entity,
        "target_id": target_id,
        "csrf_token": context.get("csrf_token"),
        "request": context.get("request"),
    }


@register.inclusion_tag("activities/_timeline_loader.html")
def timeline(target_entity: str, target_id: Any, kind: str = "") -> dict[str, Any]:
    return {"entity": target_entity, "target_id": target_id, "kind": kind}
