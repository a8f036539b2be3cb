"""Writes of rules (admins only): create, change, switch on and off, delete.

Every rule is checked whole (trigger, conditions, actions) and its errors name the
field (``trigger``, ``conditions.items[2].value``, ``actions[1].title`` …).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from guanxi.automation.rules import actions, conditions, engine, entities
from guanxi.automation.rules.models import Rule
from guanxi.core import audit, events, permissions
from guanxi.core.errors import FieldError, NotPermitted, ValidationFailed
from guanxi.core.models import AuditEvent
from guanxi.identity.models import User

RULE_CHANGED = events.define("automation_rule.changed", "An automation rule was saved or deleted")
AUDIT_FIELDS = (
    "name",
    "entity",
    "trigger",
    "event",
    "date_field",
    "offset_days",
    "inactivity_days",
    "conditions",
    "actions",
    "enabled",
)


def require_admin(actor: User) -> None:
    if not permissions.is_admin(actor):
        raise NotPermitted()


def event_choices(entity_key: str | None = None) -> list[tuple[str, str]]:
    """The events a rule can listen to (those of ``entity_key``)."""
    return [
        (name, f"{name} — {desc}")
        for name, desc in sorted(events.EVENT_NAMES.items())
        if entity_key is None or events.entity_of(name) == entity_key
    ]


def _int(errors: list[FieldError], name: str, value: Any, low: int, high: int) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        errors.append(FieldError(name, _("Enter a whole number.")))
        return 0
    if not low <= number <= high:
        errors.append(
            FieldError(
                name, _("Enter a number from %(low)d to %(high)d.") % {"low": low, "high": high}
            )
        )
    return number


def clean(data: dict[str, Any], rule: Rule | None = None) -> dict[str, Any]:
    """The checked values of a rule (merged over ``rule`` for partial changes)."""
    current = {f: getattr(rule, f) for f in AUDIT_FIELDS} if rule else {}
    merged = {**current, **{k: v for k, v in data.items() if k in AUDIT_FIELDS}}
    if "description" in data:
        merged["description"] = data["description"]
    errors: list[FieldError] = []
    out: dict[str, Any] = {}
    name = str(merged.get("name") or "").strip()
    if not name:
        errors.append(FieldError("name", _("This field is required.")))
    elif len(name) > 200:
        errors.append(FieldError("name", _("At most %(n)d characters.") % {"n": 200}))
    out["name"] = name
    if "description" in merged:
        out["description"] = str(merged.get("description") or "").strip()
    entity = str(merged.get("entity") or "")
    if entity not in entities.entity_keys():
        errors.append(FieldError("entity", _("Choose a record type.")))
        raise ValidationFailed(errors)
    out["entity"] = entity
    trigger = str(merged.get("trigger") or "")
    out["trigger"] = trigger
    out["event"], out["date_field"] = "", ""
    out["offset_days"], out["inactivity_days"] = 0, 0
    spec = entities.get(entity)
    if trigger == Rule.Trigger.EVENT:
        event = str(merged.get("event") or "")
        if event not in dict(event_choices(entity)):
            errors.append(FieldError("event", _("Choose an event of this record type.")))
        out["event"] = event
    elif trigger == Rule.Trigger.DATE:
        date_field = str(merged.get("date_field") or "")
        if date_field not in spec.dates:
            errors.append(FieldError("date_field", _("Choose a date field of this record type.")))
        out["date_field"] = date_field
        out["offset_days"] = _int(errors, "offset_days", merged.get("offset_days", 0), -3650, 3650)
    elif trigger == Rule.Trigger.INACTIVITY:
        if spec.last_touch is None:
            errors.append(FieldError("trigger", _("This record type has no follow-ups.")))
        out["inactivity_days"] = _int(
            errors, "inactivity_days", merged.get("inactivity_days", 0), 1, 3650
        )
    else:
        errors.append(FieldError("trigger", _("Choose a trigger.")))
    out["conditions"] = conditions.clean(entity, merged.get("conditions"), errors)
    out["actions"] = actions.clean(entity, merged.get("actions"), errors)
    enabled = merged.get("enabled", False)
    if not isinstance(enabled, bool):
        errors.append(FieldError("enabled", _("Give true or false.")))
    out["enabled"] = bool(enabled)
    if errors:
        raise ValidationFailed(errors)
    return out


def _after_write(actor: User, rule: Rule, change: str, changes: dict[str, Any]) -> None:
    action = {
        "created": AuditEvent.Action.CREATE,
        "updated": AuditEvent.Action.UPDATE,
        "deleted": AuditEvent.Action.DELETE,
    }[change]
    audit.record(actor=actor, action=action, entity="automation_rule", obj=rule, changes=changes)
    events.emit(RULE_CHANGED, {"id": rule.pk, "change": change}, actor_id=actor.pk)
    engine.forget_rules()


def rule_create(*, actor: User, data: dict[str, Any]) -> Rule:
    """A new rule by an admin; it runs with the admin's rights (disabled unless asked)."""
    require_admin(actor)
    values = clean(data)
    with transaction.atomic():
        rule = Rule.objects.create(**values, created_by=actor)
        _after_write(actor, rule, "created", audit.diff({}, audit.snapshot(rule, AUDIT_FIELDS)))
    return rule


def rule_update(*, actor: User, rule: Rule, data: dict[str, Any]) -> Rule:
    """Change a rule (partial). A rule without an active author (a shipped template, or
    its author left) gets the saving admin as author: its actions run with their rights."""
    require_admin(actor)
    values = clean(data, rule)
    with transaction.atomic():
        rule = Rule.objects.select_for_update().get(pk=rule.pk)
        before = audit.snapshot(rule, AUDIT_FIELDS)
        for key, value in values.items():
            setattr(rule, key, value)
        if rule.created_by_id is None or not rule.created_by or not rule.created_by.is_active:
            rule.created_by = actor
        rule.save()
        changes = audit.diff(before, audit.snapshot(rule, AUDIT_FIELDS))
        if changes:
            _after_write(actor, rule, "updated", changes)
    return rule


def rule_set_enabled(*, actor: User, rule: Rule, enabled: bool) -> Rule:
    return rule_update(actor=actor, rule=rule, data={"enabled": enabled})


def rule_delete(*, actor: User, rule: Rule) -> None:
    require_admin(actor)
    with transaction.atomic():
        _after_write(actor, rule, "deleted", {"name": [rule.name, None]})
        rule.delete()
