"""Merge two or more leads, contacts or accounts into one (issue 6).

The survivor (``primary``) takes, per field, the value of the record the user picked
(default: its own, or the first non-empty one of the others). Every row pointing at a
merged record is moved to the survivor: the foreign keys are found by introspection
(``_meta`` relations, hidden ones included), so apps added later are covered; follow-ups,
tasks and notifications point through ``target_entity`` / ``target_id`` and move too.
Audit history stays where it is: a MERGE event on every id links the histories, and the
survivor's timeline shows the merged records' entries. One transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.db import models, transaction
from django.utils.translation import gettext as _

from guanxi.core import audit, events, permissions
from guanxi.core.errors import FieldError, ValidationFailed
from guanxi.core.models import AuditEvent

if TYPE_CHECKING:
    from guanxi.identity.models import User

RECORD_MERGED = events.define("record.merged", "Leads, contacts or accounts were merged")

MERGEABLE = ("lead", "contact", "account")

# Fields a user picks per merge, beyond the entity's form fields; derived fields (E.164,
# pinyin, normalised e-mail) follow from these through the entity's update service.
_PICKABLE: dict[str, list[str]] = {
    "lead": [
        "name", "company", "title", "mobile", "phone", "phone_ext", "email", "wechat",
        "source", "campaign", "province", "city", "industry", "next_followup_at", "notes",
        "tags",
    ],
    "contact": [
        "name", "title", "mobile", "phone", "phone_ext", "email", "wechat", "birthday",
        "preferred_channel", "consent_marketing", "consent_source", "consent_at", "notes",
        "tags",
    ],
    "account": [
        "name", "industry", "size", "province", "city", "address", "website", "tier",
        "lifecycle_stage", "credit_code", "special_requirements", "tags",
    ],
}  # fmt: skip

# Rows that name a record by (entity, id) instead of a foreign key.
GENERIC_REFS: list[tuple[str, str, str]] = [
    ("activities.Activity", "target_entity", "target_id"),
    ("activities.Task", "target_entity", "target_id"),
    ("activities.Notification", "target_entity", "target_id"),
    ("automation.ApprovalRequest", "entity", "object_id"),
]


def pickable_fields(entity_key: str) -> list[str]:
    return list(_PICKABLE[entity_key])


def _model(entity_key: str) -> type[models.Model]:
    return permissions.entity(entity_key).model


def foreign_keys(model: type[models.Model]) -> list[tuple[type[models.Model], str]]:
    """``(model, field name)`` of every foreign key / one-to-one pointing at ``model``
    (hidden ones and auto-created many-to-many tables included)."""
    out: list[tuple[type[models.Model], str]] = []
    for rel in model._meta.get_fields(include_hidden=True):
        if not rel.auto_created or rel.concrete or rel.many_to_many:
            continue
        related = rel.related_model
        assert isinstance(related, type) and issubclass(related, models.Model)
        out.append((related, rel.field.name))  # type: ignore[union-attr]
    return sorted(out, key=lambda r: (r[0]._meta.label, r[1]))


def _generic_refs() -> list[tuple[type[models.Model], str, str]]:
    out = []
    for label, entity_field, id_field in GENERIC_REFS:
        try:
            out.append((apps.get_model(label), entity_field, id_field))
        except LookupError:
            continue
    return out


def _value(obj: models.Model, name: str) -> Any:
    if name == "source":
        source = getattr(obj, "source", None)
        return source.code if source is not None else None
    return getattr(obj, name)


def _empty(value: Any) -> bool:
    return value in (None, "", [], {})


@dataclass
class MergePlan:
    entity_key: str
    primary: Any
    others: list[Any]
    choice: dict[str, int] = field(default_factory=dict)


def default_choice(entity_key: str, primary: Any, others: list[Any]) -> dict[str, int]:
    """Per field, the id whose value survives: the primary's, or the first non-empty."""
    choice: dict[str, int] = {}
    for name in _PICKABLE[entity_key]:
        chosen = primary
        if _empty(_value(primary, name)):
            chosen = next((o for o in others if not _empty(_value(o, name))), primary)
        choice[name] = chosen.pk
    return choice


def load(*, actor: User, entity_key: str, primary_id: Any, other_ids: list[Any]) -> MergePlan:
    """The records of a merge, permission-checked: edit on all, delete on the others.

    A record outside the scope is a 404 (OutOfScope); a missing grant is NotPermitted.
    """
    if entity_key not in MERGEABLE:
        raise ValidationFailed(
            [FieldError("entity", _("Only leads, contacts and accounts can be merged."))]
        )
    permissions.require(actor, entity_key, "edit")
    permissions.require(actor, entity_key, "delete")
    ids = [i for i in other_ids if str(i) != str(primary_id)]
    if not ids:
        raise ValidationFailed(
            [FieldError("other_ids", _("Choose at least one other record to merge."))]
        )
    if len(set(map(str, ids))) != len(ids):
        raise ValidationFailed([FieldError("other_ids", _("A record is listed twice."))])
    primary = permissions.get_for_user(actor, entity_key, primary_id, "edit")
    others = []
    for pk in ids:
        permissions.get_for_user(actor, entity_key, pk, "edit")
        others.append(permissions.get_for_user(actor, entity_key, pk, "delete"))
    return MergePlan(entity_key, primary, others)


def _relink_fk(model: type[models.Model], name: str, primary: Any, loser_ids: list[int]) -> int:
    """Point ``model.name`` at the primary; rows that would break a unique constraint
    (the primary already has the same link) are dropped, the primary's row stays."""
    rows = model._default_manager.filter(**{f"{name}__in": loser_ids})
    together: list[list[str]] = [list(u) for u in model._meta.unique_together]
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and constraint.fields:
            together.append(list(constraint.fields))
    fk = model._meta.get_field(name)
    if fk.unique:  # type: ignore[union-attr]
        together.append([name])
    manager = model._default_manager
    for fields in together:
        if name not in fields:
            continue
        rest = [f for f in fields if f != name]
        kept: set[tuple[Any, ...]] = {
            tuple(r) for r in manager.filter(**{name: primary.pk}).values_list("pk", *rest)
        }
        kept = {k[1:] for k in kept}
        for row in list(rows.values_list("pk", *rest)):
            key = tuple(row[1:])
            if key in kept:
                manager.filter(pk=row[0]).delete()
            else:
                kept.add(key)
    moved = model._default_manager.filter(**{f"{name}__in": loser_ids}).update(**{name: primary.pk})
    if model is type(primary):
        # A record that pointed at a merged one and is the primary itself (parent loop).
        model._default_manager.filter(pk=primary.pk, **{name: primary.pk}).update(**{name: None})
    return moved


def merge(
    *,
    actor: User,
    entity_key: str,
    primary_id: Any,
    other_ids: list[Any],
    fields: dict[str, Any] | None = None,
) -> Any:
    """Merge ``other_ids`` into ``primary_id``; ``fields`` maps a field to the id of the
    record whose value survives. Returns the survivor."""
    plan = load(actor=actor, entity_key=entity_key, primary_id=primary_id, other_ids=other_ids)
    primary, others = plan.primary, plan.others
    by_id = {primary.pk: primary, **{o.pk: o for o in others}}
    choice = default_choice(entity_key, primary, others)
    errors: list[FieldError] = []
    for name, pk in (fields or {}).items():
        if name not in choice:
            errors.append(
                FieldError(f"fields.{name}", _("This field cannot be chosen in a merge."))
            )
            continue
        try:
            chosen = int(pk)
        except (TypeError, ValueError):
            chosen = -1
        if chosen not in by_id:
            errors.append(
                FieldError(f"fields.{name}", _("Pick the value of one of the merged records."))
            )
            continue
        choice[name] = chosen
    if errors:
        raise ValidationFailed(errors)
    data: dict[str, Any] = {}
    for name, pk in choice.items():
        value = _value(by_id[pk], name)
        if pk != primary.pk and value != _value(primary, name):
            data[name] = value
    if entity_key in ("lead", "contact") and any(k in data for k in ("mobile", "phone", "email")):
        for name in ("mobile", "phone", "email"):
            data.setdefault(name, _value(primary, name))
    custom = dict(getattr(primary, "custom", None) or {})
    for other in others:
        for key, value in (getattr(other, "custom", None) or {}).items():
            if _empty(custom.get(key)) and not _empty(value):
                custom[key] = value
    if custom != (getattr(primary, "custom", None) or {}):
        data["custom"] = custom
    loser_ids = [o.pk for o in others]
    model = type(primary)
    with transaction.atomic():
        relinked: dict[str, int] = {}
        for related, name in foreign_keys(model):
            n = _relink_fk(related, name, primary, loser_ids)
            if n:
                relinked[f"{related._meta.label}.{name}"] = n
        for related, entity_field, id_field in _generic_refs():
            n = related._default_manager.filter(
                **{entity_field: entity_key, f"{id_field}__in": loser_ids}
            ).update(**{id_field: primary.pk})
            if n:
                relinked[related._meta.label] = n
        for other in others:
            audit.record(
                actor=actor,
                action=AuditEvent.Action.MERGE,
                entity=entity_key,
                obj=other,
                changes={"merged_into": [other.pk, primary.pk], "name": [str(other), None]},
            )
        model._default_manager.filter(pk__in=loser_ids).delete()
        if data:
            _update(actor, entity_key, primary, data)
        audit.record(
            actor=actor,
            action=AuditEvent.Action.MERGE,
            entity=entity_key,
            obj=primary,
            changes={
                "merged_ids": loser_ids,
                "fields": {k: [v, by_id[v].pk] for k, v in choice.items() if v != primary.pk},
                "values": {k: v for k, v in data.items() if k != "custom"},
                "relinked": relinked,
            },
        )
        events.emit(
            RECORD_MERGED,
            {"entity": entity_key, "id": primary.pk, "merged_ids": loser_ids},
            actor_id=actor.pk,
        )
    primary.refresh_from_db()
    return primary


def _update(actor: User, entity_key: str, obj: Any, data: dict[str, Any]) -> None:
    if entity_key == "lead":
        from guanxi.leads.services import lead_update

        lead_update(actor=actor, lead=obj, data=data, allow_duplicate=True)
    elif entity_key == "contact":
        from guanxi.customers.services import contact_update

        contact_update(actor=actor, contact=obj, data=data, allow_duplicate=True)
    else:
        from guanxi.customers.services import account_update

        account_update(actor=actor, account=obj, data=data)


def merged_ids(entity_key: str, pk: Any) -> list[str]:
    """Ids merged into this record, directly or through earlier merges (for its timeline)."""
    found: list[str] = []
    todo = [str(pk)]
    while todo and len(found) < 1000:
        rows = AuditEvent.objects.filter(
            entity=entity_key, object_id__in=todo, action=AuditEvent.Action.MERGE
        ).values_list("changes", flat=True)
        todo = []
        for changes in rows:
            for other in (changes or {}).get("merged_ids", []) if isinstance(changes, dict) else []:
                if str(other) not in found:
                    found.append(str(other))
                    todo.append(str(other))
    return found
