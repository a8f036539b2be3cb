"""Write helpers shared by accounts, contacts and leads: field cleaning, phone / e-mail
normalisation, owner resolution, duplicate checks, and the audited create / update /
delete / transfer steps. Services in ``customers`` and ``leads`` call these; nothing here
checks permissions except where it says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from guanxi.core import audit, custom_fields, events, normalize, permissions
from guanxi.core.errors import DuplicateRecord, FieldError, OutOfScope, ValidationFailed
from guanxi.core.models import AuditEvent

if TYPE_CHECKING:
    from guanxi.identity.models import User

A = AuditEvent.Action
KEEP = object()


@dataclass(frozen=True)
class Text:
    max_length: int
    required: bool = False


@dataclass(frozen=True)
class LongText:
    pass


@dataclass(frozen=True)
class Choice:
    choices: Sequence[str]
    blank: bool = True


@dataclass(frozen=True)
class Integer:
    minimum: int = -1_000_000
    maximum: int = 1_000_000


@dataclass(frozen=True)
class DateTime:
    pass


@dataclass(frozen=True)
class Date:
    pass


@dataclass(frozen=True)
class Boolean:
    pass


@dataclass(frozen=True)
class Tags:
    pass


FieldSpec = Text | LongText | Choice | Integer | DateTime | Date | Boolean | Tags

CONTACT_POINTS = ("mobile", "phone", "email")


def _clean_value(name: str, spec: FieldSpec, value: Any) -> Any:
    """One field's value, cleaned; raises ValueError with a user-facing message."""
    if isinstance(spec, Text):
        text = "" if value is None else str(value).strip()
        if spec.required and not text:
            raise ValueError(_("This field is required."))
        if len(text) > spec.max_length:
            raise ValueError(_("At most %(n)d characters.") % {"n": spec.max_length})
        return text
    if isinstance(spec, LongText):
        return "" if value is None else str(value).strip()
    if isinstance(spec, Choice):
        text = "" if value is None else str(value).strip()
        if not text and spec.blank:
            return ""
        if text not in spec.choices:
            raise ValueError(_("Choose one of: %(c)s.") % {"c": ", ".join(spec.choices)})
        return text
    if isinstance(spec, Integer):
        if value is None or value == "":
            return 0
        if isinstance(value, bool):
            raise ValueError(_("Enter a whole number."))
        try:
            number = int(str(value).strip())
        except ValueError as exc:
            raise ValueError(_("Enter a whole number.")) from exc
        if not spec.minimum <= number <= spec.maximum:
            raise ValueError(
                _("Enter a number between %(a)d and %(b)d.")
                % {"a": spec.minimum, "b": spec.maximum}
            )
        return number
    if isinstance(spec, DateTime):
        if value in (None, ""):
            return None
        parsed = value if isinstance(value, dt.datetime) else parse_datetime(str(value).strip())
        if parsed is None:
            raise ValueError(_("Enter a date and time (YYYY-MM-DDTHH:MM)."))
        return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed
    if isinstance(spec, Date):
        if value in (None, ""):
            return None
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        parsed_date = parse_date(str(value).strip())
        if parsed_date is None:
            raise ValueError(_("Enter a date (YYYY-MM-DD)."))
        return parsed_date
    if isinstance(spec, Boolean):
        return bool(value)
    if isinstance(spec, Tags):
        if value in (None, ""):
            return []
        items = (
            value if isinstance(value, list | tuple) else str(value).replace("，", ",").split(",")
        )
        tags: list[str] = []
        for item in items:
            tag = str(item).strip()
            if len(tag) > 50:
                raise ValueError(_("A tag has at most 50 characters."))
            if tag and tag not in tags:
                tags.append(tag)
        return tags
    raise AssertionError(f"unknown spec for {name}")


def clean_field(name: str, spec: FieldSpec, value: Any) -> Any:
    """One field's value cleaned by its spec (bulk edits); ValueError with a message."""
    return _clean_value(name, spec, value)


def clean(
    data: dict[str, Any],
    spec: dict[str, FieldSpec],
    *,
    entity_key: str,
    instance: models.Model | None,
    errors: list[FieldError],
) -> dict[str, Any]:
    """Clean the fields of ``spec`` present in ``data`` (all required ones on create),
    phones and e-mail (with their matching keys), pinyin keys and custom values.

    Collects problems into ``errors`` (so one response names every bad field).
    """
    cleaned: dict[str, Any] = {}
    creating = instance is None
    for name, field_spec in spec.items():
        if name not in data and not (
            creating and isinstance(field_spec, Text) and field_spec.required
        ):
            continue
        try:
            cleaned[name] = _clean_value(name, field_spec, data.get(name))
        except ValueError as exc:
            errors.append(FieldError(name, str(exc)))
    if "name" in cleaned:
        cleaned["name_pinyin"], cleaned["name_initials"] = normalize.pinyin_keys(cleaned["name"])
        cleaned["name_pinyin"] = cleaned["name_pinyin"][:200]
        cleaned["name_initials"] = cleaned["name_initials"][:50]
    for name in ("mobile", "phone"):
        if name not in data:
            continue
        try:
            parsed = normalize.phone(data[name])
        except normalize.InvalidValue as exc:
            errors.append(FieldError(name, str(exc)))
            continue
        cleaned[name] = parsed.raw[:40] if parsed else ""
        cleaned[f"{name}_e164"] = parsed.e164 if parsed else ""
        if name == "phone":
            cleaned["phone_ext"] = parsed.extension[:10] if parsed else ""
    if "email" in data:
        try:
            norm = normalize.email(data["email"])
        except normalize.InvalidValue as exc:
            errors.append(FieldError("email", str(exc)))
        else:
            cleaned["email"] = str(data["email"] or "").strip() if norm else ""
            cleaned["email_norm"] = norm or ""
    if "custom" in data or creating:
        try:
            cleaned["custom"] = custom_fields.validate(
                entity_key,
                data.get("custom") or {},
                current=getattr(instance, "custom", None),
                partial=not creating,
            )
        except ValidationFailed as exc:
            errors.extend(exc.errors)
    return cleaned


def resolve_owner(
    *, actor: User, entity_key: str, data: dict[str, Any], current_owner_id: object
) -> Any:
    """The owner ``data`` asks for (``owner`` as a User or ``owner_id``), or KEEP.

    Creating (``current_owner_id`` is KEEP) defaults to the actor. Giving a record to
    someone else, or to the public pool (None), needs the ``transfer`` permission.
    """
    from guanxi.identity.models import User as UserModel

    if "owner" in data:
        wanted = data["owner"]
        wanted_id = wanted.pk if wanted is not None else None
    elif "owner_id" in data:
        wanted_id = data["owner_id"]
    else:
        return actor if current_owner_id is KEEP else KEEP
    if wanted_id == (actor.pk if current_owner_id is KEEP else current_owner_id):
        return actor if current_owner_id is KEEP else KEEP
    permissions.require(actor, entity_key, "transfer")
    if wanted_id is None:
        return None
    owner = UserModel.objects.filter(pk=wanted_id, is_active=True).first()
    if owner is None:
        raise ValidationFailed([FieldError("owner_id", _("No such active user."))])
    return owner


def check_duplicate(
    *,
    actor: User,
    values: dict[str, Any],
    exclude: tuple[str, Any] | None,
    allow_duplicate: bool,
) -> None:
    """Raise DuplicateRecord when another lead / contact has the same phone or e-mail."""
    if allow_duplicate:
        return
    from guanxi.leads.dedup import find_duplicate

    dup = find_duplicate(
        mobile_e164=values.get("mobile_e164") or "",
        phone_e164=values.get("phone_e164") or "",
        email_norm=values.get("email_norm") or "",
        exclude=exclude,
        actor=actor,
    )
    if dup is not None:
        raise DuplicateRecord(dup)


def _pool_fields(model: type[Any], old_owner_id: Any, new_owner_id: Any, now: Any) -> Any:
    """Pool columns to set when a record changes owner (see leads.pool.owner_change_fields)."""
    from guanxi.leads.pool import owner_change_fields

    return owner_change_fields(model, old_owner_id, new_owner_id, now)


def create(
    *,
    actor: User | None,
    entity_key: str,
    obj: models.Model,
    audit_fields: Iterable[str],
    event: str,
    m2m: dict[str, list[Any]] | None = None,
) -> models.Model:
    """Save a new record with its audit entry and event (inside one transaction)."""
    fields = list(audit_fields)
    with transaction.atomic():
        obj.save()
        changes = audit.diff({}, audit.snapshot(obj, fields))
        for name, values in (m2m or {}).items():
            getattr(obj, name).set(values)
            if values:
                changes[name] = [[], sorted(v.pk for v in values)]
        audit.record(actor=actor, action=A.CREATE, entity=entity_key, obj=obj, changes=changes)
        events.emit(event, {"id": obj.pk}, actor_id=actor.pk if actor else None)
    return obj


def update(
    *,
    actor: User,
    entity_key: str,
    obj: models.Model,
    cleaned: dict[str, Any],
    audit_fields: Iterable[str],
    event: str,
    m2m: dict[str, list[Any]] | None = None,
) -> dict[str, list[Any]]:
    """Apply ``cleaned`` to ``obj``, save, and audit the field-by-field diff."""
    fields = list(audit_fields)
    with transaction.atomic():
        before = audit.snapshot(obj, fields)
        if "owner" in cleaned:
            new_owner = cleaned["owner"]
            new_owner_id = new_owner.pk if new_owner is not None else None
            if new_owner_id != getattr(obj, "owner_id", None):
                extra = _pool_fields(type(obj), obj.owner_id, new_owner_id, timezone.now())  # type: ignore[attr-defined]
                for name, value in extra.items():
                    setattr(obj, name, value)
        for name, value in cleaned.items():
            setattr(obj, name, value)
        obj.save()
        changes = audit.diff(before, audit.snapshot(obj, fields))
        for name, values in (m2m or {}).items():
            manager = getattr(obj, name)
            old = sorted(manager.values_list("pk", flat=True))
            new = sorted(v.pk for v in values)
            if old != new:
                manager.set(values)
                changes[name] = [old, new]
        if changes:
            action = A.TRANSFER if set(changes) == {"owner"} else A.UPDATE
            audit.record(actor=actor, action=action, entity=entity_key, obj=obj, changes=changes)
            events.emit(event, {"id": obj.pk, "changes": list(changes)}, actor_id=actor.pk)
    return changes


def delete(*, actor: User, entity_key: str, obj: models.Model, event: str) -> None:
    """Delete with an audit entry that keeps the record's name."""
    with transaction.atomic():
        audit.record(
            actor=actor,
            action=A.DELETE,
            entity=entity_key,
            obj=obj,
            changes={"name": [str(obj), None]},
        )
        pk = obj.pk
        obj.delete()
        events.emit(event, {"id": pk}, actor_id=actor.pk)


def transfer(
    *,
    actor: User,
    entity_key: str,
    records: Iterable[models.Model | int],
    to_user: User | None,
    event: str,
    also_set: dict[str, Any] | None = None,
) -> int:
    """Give ``records`` (in the actor's transfer scope) to ``to_user`` (None: the pool).

    All or nothing: a record outside the scope fails the whole transfer (404).
    ``also_set``: more fields written on the records that move (e.g. a lead's reason).
    """
    permissions.require(actor, entity_key, "transfer")
    if to_user is not None and not to_user.is_active:
        raise ValidationFailed([FieldError("to_user", _("No such active user."))])
    ids = sorted({r.pk if isinstance(r, models.Model) else int(r) for r in records})
    if not ids:
        return 0
    scoped = permissions.scoped_queryset(actor, entity_key, "transfer").filter(pk__in=ids)
    with transaction.atomic():
        rows = list(scoped.select_for_update().values_list("pk", "owner_id"))
        if len(rows) != len(ids):
            raise OutOfScope()
        new_id = to_user.pk if to_user else None
        moving = [(pk, old) for pk, old in rows if old != new_id]
        model = permissions.entity(entity_key).model
        now = timezone.now()
        # Pooled kinds also route to the right pool (or restart the ownership clock);
        # one UPDATE per previous owner, since each may route to a different pool.
        by_old: dict[Any, list[Any]] = {}
        for pk, old in moving:
            by_old.setdefault(old, []).append(pk)
        for old, pks in by_old.items():
            model._default_manager.filter(pk__in=pks).update(
                owner_id=new_id,
                updated_at=now,
                **_pool_fields(model, old, new_id, now),
                **(also_set or {}),
            )
        audit.record_many(
            [
                AuditEvent(
                    actor=actor,
                    actor_label=actor.get_username(),
                    action=A.TRANSFER,
                    entity=entity_key,
                    object_id=str(pk),
                    changes={"owner": [old, new_id]},
                )
                for pk, old in moving
            ]
        )
        for pk, old in moving:
            events.emit(event, {"id": pk, "from": old, "to": new_id}, actor_id=actor.pk)
    return len(moving)
