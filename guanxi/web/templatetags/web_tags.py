"""Template filters shared by every page."""

from __future__ import annotations

from typing import Any

from django import template
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.core import permissions
from guanxi.core.models import AuditEvent

register = template.Library()

# Audited things that are not permission entities of their own.
EXTRA_ENTITY_LABELS: dict[str, Any] = {
    "department": gettext_lazy("Departments"),
    "role": gettext_lazy("Roles"),
    "api_token": gettext_lazy("API tokens"),
    "custom_field": gettext_lazy("Custom fields"),
    "saved_view": gettext_lazy("Saved views"),
}


def _text(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, dict):
        if "label" in value:
            return str(value["label"])
        return ", ".join(f"{k}={_text(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value) or "—"
    return str(value)


def _model_for(entity_key: str) -> type[models.Model] | None:
    try:
        return permissions.entity(entity_key).model
    except KeyError:
        pass
    from guanxi.core.models import CustomField, SavedView
    from guanxi.identity.models import ApiToken, Department, Role

    extra: dict[str, type[models.Model]] = {
        "department": Department,
        "role": Role,
        "api_token": ApiToken,
        "custom_field": CustomField,
        "saved_view": SavedView,
    }
    return extra.get(entity_key)


def _field_label(model: type[models.Model] | None, name: str) -> str:
    if model is None:
        return name
    try:
        label = getattr(model._meta.get_field(name), "verbose_name", None)
    except FieldDoesNotExist:
        label = None
    return str(label) if label else name


@register.filter
def audit_changes(changes: Any, entity_key: str = "") -> list[tuple[str, str, str | None]]:
    """``{field: [old, new]}`` as (field label, old, new) rows; single values have no arrow."""
    rows: list[tuple[str, str, str | None]] = []
    if not isinstance(changes, dict):
        return rows
    model = _model_for(entity_key) if entity_key else None
    custom = {}
    if model is not None and any(str(k).startswith("custom.") for k in changes):
        from guanxi.core import custom_fields

        custom = {d.key: d.label() for d in custom_fields.definitions(entity_key)}
    for field, change in changes.items():
        name = str(field)
        if name.startswith("custom.") and name[7:] in custom:
            label = custom[name[7:]]
        else:
            label = _field_label(model, name)
        if isinstance(change, list | tuple) and len(change) == 2:
            rows.append((label, _text(change[0]), _text(change[1])))
        else:
            rows.append((label, _text(change), None))
    return rows


@register.filter
def action_label(action: str) -> str:
    try:
        return str(AuditEvent.Action(action).label)
    except ValueError:
        return action


@register.filter
def entity_label(key: str) -> str:
    try:
        return str(permissions.entity(key).label)
    except KeyError:
        return str(EXTRA_ENTITY_LABELS.get(key, key))


@register.simple_tag(takes_context=True)
def page_url(context: dict[str, Any], page: int) -> str:
    """The current URL's query string with ``page`` replaced (filters kept)."""
    request = context.get("request")
    params = request.GET.copy() if request is not None else QueryDict(mutable=True)
    params["page"] = str(page)
    return "?" + params.urlencode()


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    if isinstance(mapping, dict):
        return mapping.get(key)
    return None


@register.filter
def indent(depth: int) -> str:
    """Ideographic spaces that indent a tree item in a select."""
    return "\u3000" * int(depth or 0)
