"""Core writes: custom field definitions, revealing masked values, notes."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from django.db import models, transaction
from django.utils.translation import gettext as _

from guanxi.core import audit, custom_fields, events, permissions
from guanxi.core.errors import FieldError, NotPermitted, ValidationFailed
from guanxi.core.models import AuditEvent, CustomField, Note

if TYPE_CHECKING:
    from guanxi.identity.models import User

_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
_SELECT_KINDS = {CustomField.Kind.SELECT, CustomField.Kind.MULTI_SELECT}


def customfield_save(
    *, actor: User, field: CustomField | None, data: dict[str, Any]
) -> CustomField:
    """Create or change a custom field definition (administrators only)."""
    if not permissions.is_admin(actor):
        raise NotPermitted()
    errors: list[FieldError] = []
    entity = data.get("entity", field.entity if field else "")
    if entity not in {e.key for e in permissions.entities()}:
        errors.append(FieldError("entity", _("Unknown entity.")))
    key = (data.get("key", field.key if field else "") or "").strip()
    if not _KEY_RE.match(key):
        errors.append(
            FieldError(
                "key", _("Start with a letter; use lower-case letters, digits and _ (at most 50).")
            )
        )
    elif field is not None and key != field.key:
        errors.append(
            FieldError("key", _("The key cannot change once values are stored under it."))
        )
    elif (
        CustomField.objects.filter(entity=entity, key=key)
        .exclude(pk=field.pk if field else -1)
        .exists()
    ):
        errors.append(FieldError("key", _("This entity already has a field with this key.")))
    kind = data.get("kind", field.kind if field else CustomField.Kind.TEXT)
    if kind not in CustomField.Kind.values:
        errors.append(FieldError("kind", _("Unknown field type.")))
    elif field is not None and kind != field.kind:
        errors.append(
            FieldError(
                "kind", _("The type cannot change once values are stored; add a new field instead.")
            )
        )
    label_zh = (data.get("label_zh", field.label_zh if field else "") or "").strip()
    if not label_zh:
        errors.append(FieldError("label_zh", _("Enter a Chinese label.")))
    options = data.get("options", field.options if field else [])
    if kind in _SELECT_KINDS:
        clean_options = []
        seen: set[str] = set()
        for i, opt in enumerate(options or []):
            value = str(opt.get("value", "")).strip()
            if not value or value in seen:
                errors.append(FieldError(f"options.{i}", _("Each option needs a distinct value.")))
                continue
            seen.add(value)
            clean_options.append(
                {
                    "value": value,
                    "label_zh": str(opt.get("label_zh") or value).strip(),
                    "label_en": str(opt.get("label_en") or "").strip(),
                }
            )
        if not clean_options:
            errors.append(FieldError("options", _("A select field needs at least one option.")))
        options = clean_options
    else:
        options = []
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        created = field is None
        before = (
            audit.snapshot(
                field,
                ["label_zh", "label_en", "required", "position", "options", "help_text", "active"],
            )
            if field
            else {}
        )
        field = field or CustomField(entity=entity, key=key, kind=kind)
        field.label_zh = label_zh
        field.label_en = (data.get("label_en", field.label_en) or "").strip()
        field.required = bool(data.get("required", field.required))
        field.position = int(data.get("position", field.position) or 0)
        field.options = options
        field.help_text = (data.get("help_text", field.help_text) or "").strip()
        field.active = bool(data.get("active", field.active if not created else True))
        field.save()
        after = audit.snapshot(
            field,
            ["label_zh", "label_en", "required", "position", "options", "help_text", "active"],
        )
        audit.record(
            actor=actor,
            action=AuditEvent.Action.CREATE if created else AuditEvent.Action.UPDATE,
            entity="custom_field",
            obj=field,
            changes=audit.diff(before, after),
        )
    transaction.on_commit(lambda: custom_fields.forget_definitions(entity))
    custom_fields.forget_definitions(entity)
    return field


def customfield_delete(*, actor: User, field: CustomField) -> None:
    """Deactivate (values are kept, hidden): deleting definitions would orphan data."""
    customfield_save(actor=actor, field=field, data={"active": False})


def field_reveal(*, actor: User, entity_key: str, obj: models.Model, field: str) -> Any:
    """Return the unmasked value of ``field`` on a record in scope, and audit the reveal."""
    permissions.require(actor, entity_key, "view")
    if not permissions.in_scope(actor, entity_key, obj):
        from guanxi.core.errors import OutOfScope

        raise OutOfScope()
    ent = permissions.entity(entity_key)
    if field not in ent.maskable:
        raise ValidationFailed([FieldError("field", _("This field is never masked."))])
    if field in permissions.masked_fields(actor, entity_key) and not permissions.can_reveal(
        actor, entity_key
    ):
        raise NotPermitted(_("Your role does not allow revealing this field."))
    value = getattr(obj, field)
    audit.record(
        actor=actor,
        action=AuditEvent.Action.REVEAL,
        entity=entity_key,
        obj=obj,
        changes={"field": field},
    )
    return value


# --- Notes ------------------------------------------------------------------------------

events.define("note.created", "A note was created")
events.define("note.updated", "A note was changed")
events.define("note.deleted", "A note was deleted")

_NOTE_FIELDS = ["title", "body", "owner", "custom"]


def _clean_note(data: dict[str, Any], note: Note | None) -> dict[str, Any]:
    errors: list[FieldError] = []
    cleaned: dict[str, Any] = {}
    if "title" in data or note is None:
        title = str(data.get("title") or "").strip()
        if not title:
            errors.append(FieldError("title", _("Enter a title.")))
        elif len(title) > 200:
            errors.append(FieldError("title", _("At most 200 characters.")))
        cleaned["title"] = title
    if "body" in data:
        cleaned["body"] = str(data.get("body") or "").strip()
    if "custom" in data or note is None:
        try:
            cleaned["custom"] = custom_fields.validate(
                "note",
                data.get("custom") or {},
                current=note.custom if note else None,
                partial=note is not None,
            )
        except ValidationFailed as exc:
            errors.extend(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def note_create(*, actor: User, data: dict[str, Any]) -> Note:
    """Create a note owned by the actor."""
    permissions.require(actor, "note", "create")
    cleaned = _clean_note(data, None)
    with transaction.atomic():
        note = Note.objects.create(owner=actor, created_by=actor, **cleaned)
        audit.record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            entity="note",
            obj=note,
            changes=audit.diff({}, audit.snapshot(note, _NOTE_FIELDS)),
        )
        events.emit("note.created", {"id": note.pk, "title": note.title}, actor_id=actor.pk)
    return note


def note_update(*, actor: User, note: Note, data: dict[str, Any]) -> Note:
    """Change a note in the actor's edit scope; custom values are merged (partial update).

    ``owner`` (a User) hands the note over and needs the ``transfer`` permission.
    """
    note = permissions.get_for_user(actor, "note", note.pk, "edit")
    cleaned = _clean_note(data, note)
    if "owner" in data and data["owner"] != note.owner:
        permissions.require(actor, "note", "transfer")
        cleaned["owner"] = data["owner"]
    with transaction.atomic():
        before = audit.snapshot(note, _NOTE_FIELDS)
        for name, value in cleaned.items():
            setattr(note, name, value)
        note.save()
        changes = audit.diff(before, audit.snapshot(note, _NOTE_FIELDS))
        if changes:
            action = (
                AuditEvent.Action.TRANSFER
                if set(changes) == {"owner"}
                else AuditEvent.Action.UPDATE
            )
            audit.record(actor=actor, action=action, entity="note", obj=note, changes=changes)
            events.emit(
                "note.updated", {"id": note.pk, "changes": list(changes)}, actor_id=actor.pk
            )
    return note


def note_delete(*, actor: User, note: Note) -> None:
    note = permissions.get_for_user(actor, "note", note.pk, "delete")
    with transaction.atomic():
        audit.record(
            actor=actor,
            action=AuditEvent.Action.DELETE,
            entity="note",
            obj=note,
            changes={"title": [note.title, None]},
        )
        pk = note.pk
        note.delete()
        events.emit("note.deleted", {"id": pk}, actor_id=actor.pk)
