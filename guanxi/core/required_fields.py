"""Required-field rules per entity (数据治理): which fields an admin made mandatory for
leads, contacts and accounts (deals use their stage's ``required_fields``).

Every entry path checks them: the services' cleaning (UI forms and the API go through
it) and the import engine, which reports a missing value as that row's error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.db import transaction
from django.utils.translation import gettext as _

from guanxi.core import audit, custom_fields, permissions
from guanxi.core.errors import FieldError, NotPermitted, ValidationFailed
from guanxi.core.models import AuditEvent, RequiredFieldRule

if TYPE_CHECKING:
    from guanxi.identity.models import User

ENTITIES = ("lead", "contact", "account")
_CACHE_KEY = "required-fields:v1:{entity}"

# Standard fields that can be made required (name is always required).
STANDARD: dict[str, list[str]] = {
    "lead": [
        "company", "title", "mobile", "phone", "email", "wechat", "source", "campaign",
        "province", "city", "industry", "next_followup_at", "notes",
    ],
    "contact": [
        "account", "title", "mobile", "phone", "email", "wechat", "birthday",
        "preferred_channel", "notes",
    ],
    "account": [
        "industry", "size", "province", "city", "address", "website", "tier", "credit_code",
        "special_requirements",
    ],
}  # fmt: skip


def choices(entity_key: str) -> list[tuple[str, str]]:
    """``(name, label)`` of every field that may be made required for ``entity_key``."""
    model = permissions.entity(entity_key).model
    out = [
        (name, str(getattr(model._meta.get_field(name), "verbose_name", name)))
        for name in STANDARD[entity_key]
    ]
    out += [(f"custom.{f.key}", f.label_zh) for f in custom_fields.definitions(entity_key)]
    return out


def required(entity_key: str) -> list[str]:
    """The fields made required for ``entity_key`` (cached; cleared on change)."""
    if entity_key not in ENTITIES:
        return []
    key = _CACHE_KEY.format(entity=entity_key)
    names: list[str] | None = cache.get(key)
    if names is None:
        rule = RequiredFieldRule.objects.filter(entity=entity_key).first()
        names = list(rule.fields) if rule is not None else []
        cache.set(key, names, 300)
    return names


def all_rules() -> dict[str, list[str]]:
    return {e: required(e) for e in ENTITIES}


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def missing(entity_key: str, value_of: Callable[[str], Any]) -> list[FieldError]:
    """An error for each required field whose value (``value_of(name)``; custom fields as
    ``custom.<key>``) is empty."""
    errors = []
    for name in required(entity_key):
        if _empty(value_of(name)):
            errors.append(FieldError(name, _("This field is required.")))
    return errors


def check(
    entity_key: str,
    data: dict[str, Any],
    cleaned: dict[str, Any],
    instance: Any,
    errors: list[FieldError],
) -> None:
    """For the services: a new record needs every required field; a change may not empty
    one (fields it does not touch are left alone, so old records stay editable)."""
    names = required(entity_key)
    if not names:
        return
    reported = {e.field for e in errors}

    def value_of(name: str) -> Any:
        if name.startswith("custom."):
            custom = cleaned.get("custom")
            if custom is None:
                return None if instance is None else (instance.custom or {}).get(name[7:])
            return custom.get(name[7:])
        for key in (name, f"{name}_id"):
            if key in cleaned:
                return cleaned[key]
            if key in data:
                return data[key]
        return (
            None
            if instance is None
            else getattr(instance, f"{name}_id", None) or getattr(instance, name, None)
        )

    for error in missing(entity_key, value_of):
        if error.field in reported:
            continue
        touched = error.field in data or f"{error.field}_id" in data
        if error.field.startswith("custom."):
            touched = "custom" in data and error.field[7:] in (data.get("custom") or {})
        if instance is None or touched:
            errors.append(error)


def rule_set(*, actor: User, entity_key: str, fields: list[str]) -> list[str]:
    """Set the required fields of ``entity_key`` (admins only; audited)."""
    if not permissions.is_admin(actor):
        raise NotPermitted()
    if entity_key not in ENTITIES:
        raise ValidationFailed([FieldError("entity", _("Choose lead, contact or account."))])
    allowed = {name for name, _label in choices(entity_key)}
    unknown = [f for f in fields if f not in allowed]
    if unknown:
        raise ValidationFailed(
            [FieldError("fields", _("Unknown field: %(f)s.") % {"f": ", ".join(unknown)})]
        )
    names = list(dict.fromkeys(fields))
    with transaction.atomic():
        rule, _created = RequiredFieldRule.objects.get_or_create(entity=entity_key)
        before = list(rule.fields)
        rule.fields = names
        rule.save()
        audit.record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            entity="required_fields",
            object_id=entity_key,
            object_repr=entity_key,
            changes={"fields": [before, names]},
        )
        transaction.on_commit(lambda: cache.delete(_CACHE_KEY.format(entity=entity_key)))
    cache.delete(_CACHE_KEY.format(entity=entity_key))
    return names
