"""Bulk actions on list records: edit one field, add / remove tags, transfer, delete.

Every action checks the actor's permission *per record*: records outside the scope of the
action (or not visible at all) are skipped and counted by reason, never failing the rest.
Work runs in chunks of :data:`CHUNK` records, one transaction per chunk, set-based (one
UPDATE / DELETE per chunk, one INSERT of the audit entries, no query per record). Each
changed record gets its own audit entry and domain event.

Field edits and tag changes are kept as a :class:`~guanxi.core.models.BulkOperation` and
can be undone by the same user for :data:`UNDO_HOURS` hours: an undo restores a record only
while it still holds the value the bulk action gave it. Deletions and transfers are not
undoable here: a deletion is confirmed first and is final (restore from a backup); a
transfer is reverted by transferring back.

Entity apps register a :class:`BulkSpec` (``guanxi.leads.bulk``, ``guanxi.customers.bulk``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import ProtectedError, Q, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from guanxi.core import audit, custom_fields, events, permissions
from guanxi.core.errors import Conflict, FieldError, OutOfScope, ValidationFailed
from guanxi.core.models import AuditEvent, BulkOperation, CustomField

if TYPE_CHECKING:
    from guanxi.identity.models import User

CHUNK = 500
UNDO_HOURS = 24
CUSTOM = "custom."
ACTIONS = ("edit", "add_tags", "remove_tags", "transfer", "delete")
UNDOABLE = ("edit", "add_tags", "remove_tags")
# The permission each action needs on every record.
NEEDS = {"edit": "edit", "add_tags": "edit", "remove_tags": "edit"}
NEEDS.update({"transfer": "transfer", "delete": "delete"})
A = AuditEvent.Action

SKIP_REASONS: dict[str, Promise] = {
    "no_permission": gettext_lazy("no permission"),
    "not_found": gettext_lazy("not found"),
    "locked": gettext_lazy("read-only (converted)"),
    "in_use": gettext_lazy("still in use"),
    "changed": gettext_lazy("changed since"),
}


def max_records() -> int:
    """The most records one bulk action may touch (``GUANXI_BULK_MAX``)."""
    return int(getattr(settings, "GUANXI_BULK_MAX", 50_000))


@dataclass(frozen=True)
class BulkField:
    """A standard field that may be edited in bulk.

    ``clean`` turns the submitted value into the database value of ``attname`` (raises
    ValueError with a user-facing message). ``choices`` feed the UI's select.
    """

    name: str
    label: str | Promise
    clean: Callable[[Any], Any]
    attname: str = ""
    choices: Callable[[], list[tuple[str, str]]] | None = None

    @property
    def column(self) -> str:
        return self.attname or self.name


@dataclass
class BulkSpec:
    entity: str
    fields: list[BulkField]
    # The list's records for a filter (the list page's query-string parameters), in the
    # actor's view scope; raises ValidationFailed for bad filters.
    filtered: Callable[[User, dict[str, Any]], QuerySet[Any]]
    transfer: Callable[..., int]
    updated_event: str
    deleted_event: str
    repr_fields: tuple[str, ...] = ("name",)
    # Records whose fields are read-only (tags stay editable), e.g. converted leads.
    locked: Q | None = None
    # Ids among the given ones that other records still depend on (never deleted).
    in_use: Callable[[list[int]], set[int]] | None = None

    def field(self, name: str) -> BulkField | None:
        return next((f for f in self.fields if f.name == name), None)


_registry: dict[str, BulkSpec] = {}


def register(spec: BulkSpec) -> BulkSpec:
    _registry[spec.entity] = spec
    return spec


def spec(entity: str) -> BulkSpec:
    try:
        return _registry[entity]
    except KeyError as exc:
        raise ValidationFailed(
            [FieldError("entity", _("Bulk actions are not offered here."))]
        ) from exc


@dataclass
class BulkResult:
    action: str
    matched: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: dict[str, int] = dataclasses.field(default_factory=dict)
    operation_id: int | None = None
    dry_run: bool = False

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    @property
    def undoable(self) -> bool:
        return self.operation_id is not None and self.updated > 0

    def skip(self, reason: str, count: int) -> None:
        if count:
            self.skipped[reason] = self.skipped.get(reason, 0) + count

    def message(self) -> str:
        """ "12 updated, 3 skipped: no permission" in the user's language."""
        if self.action == "delete":
            done = ngettext("%(n)d deleted", "%(n)d deleted", self.updated) % {"n": self.updated}
        elif self.action == "transfer":
            done = ngettext("%(n)d transferred", "%(n)d transferred", self.updated) % {
                "n": self.updated
            }
        else:
            done = ngettext("%(n)d updated", "%(n)d updated", self.updated) % {"n": self.updated}
        parts = [done]
        if self.unchanged:
            parts.append(_("%(n)d already so") % {"n": self.unchanged})
        for reason, count in sorted(self.skipped.items()):
            parts.append(
                _("%(n)d skipped: %(reason)s") % {"n": count, "reason": SKIP_REASONS[reason]}
            )
        return _(", ").join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "matched": self.matched,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": [{"reason": r, "count": c} for r, c in sorted(self.skipped.items())],
            "operation_id": self.operation_id,
            "undoable": self.undoable,
            "dry_run": self.dry_run,
            "message": self.message(),
        }


# --- input ------------------------------------------------------------------------------


@dataclass
class Change:
    """What an action does, cleaned once before touching any record."""

    action: str
    field: str = ""  # edit: field name or custom.<key>
    column: str = ""  # edit: the model attribute (attname) of a standard field
    value: Any = None  # edit: the cleaned database value
    custom: CustomField | None = None
    tags: list[str] = dataclasses.field(default_factory=list)
    to_user: Any = None  # transfer: a User or None (the public pool)

    def params(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.action == "edit":
            out = {"field": self.field, "value": audit._plain(self.value)}
        elif self.action in ("add_tags", "remove_tags"):
            out = {"tags": self.tags}
        elif self.action == "transfer":
            out = {"to_user_id": self.to_user.pk if self.to_user else None}
        return out


def _clean_tags(raw: Any) -> list[str]:
    items = raw if isinstance(raw, list | tuple) else str(raw or "").replace("，", ",").split(",")
    tags: list[str] = []
    for item in items:
        tag = str(item).strip()
        if len(tag) > 50:
            raise ValidationFailed([FieldError("tags", _("A tag has at most 50 characters."))])
        if tag and tag not in tags:
            tags.append(tag)
    if not tags:
        raise ValidationFailed([FieldError("tags", _("Enter at least one tag."))])
    return tags


def clean_change(entity: str, data: dict[str, Any]) -> Change:
    """Validate an action's parameters: ``action`` plus ``field`` / ``value`` (edit),
    ``tags`` (add_tags / remove_tags) or ``to_user_id`` (transfer; null = public pool)."""
    bulk_spec = spec(entity)
    action = str(data.get("action") or "")
    if action not in ACTIONS:
        raise ValidationFailed(
            [FieldError("action", _("Choose one of: %(c)s.") % {"c": ", ".join(ACTIONS)})]
        )
    change = Change(action=action)
    if action == "edit":
        name = str(data.get("field") or "").strip()
        value = data.get("value")
        if name.startswith(CUSTOM):
            key = name[len(CUSTOM) :]
            definition = next((d for d in custom_fields.definitions(entity) if d.key == key), None)
            if definition is None:
                raise ValidationFailed([FieldError("field", _("Unknown custom field."))])
            if value in (None, "", []):
                if definition.required:
                    raise ValidationFailed([FieldError("value", _("This field is required."))])
                coerced = None
            else:
                try:
                    coerced = custom_fields.coerce(definition, value)
                except ValueError as exc:
                    raise ValidationFailed([FieldError("value", str(exc))]) from exc
            change.field, change.custom, change.value = name, definition, coerced
            return change
        bulk_field = bulk_spec.field(name)
        if bulk_field is None:
            offered = ", ".join(f.name for f in bulk_spec.fields)
            raise ValidationFailed(
                [FieldError("field", _("Choose one of: %(c)s.") % {"c": offered})]
            )
        try:
            cleaned = bulk_field.clean(value)
        except ValueError as exc:
            raise ValidationFailed([FieldError("value", str(exc))]) from exc
        change.field, change.column, change.value = name, bulk_field.column, cleaned
    elif action in ("add_tags", "remove_tags"):
        change.tags = _clean_tags(data.get("tags"))
    elif action == "transfer":
        if "to_user_id" not in data:
            raise ValidationFailed([FieldError("to_user_id", _("Choose a user or the pool."))])
        user_id = data.get("to_user_id")
        if user_id not in (None, ""):
            from guanxi.identity.models import User as UserModel

            try:
                change.to_user = UserModel.objects.filter(
                    pk=int(str(user_id)), is_active=True
                ).first()
            except (TypeError, ValueError):
                change.to_user = None
            if change.to_user is None:
                raise ValidationFailed([FieldError("to_user_id", _("No such active user."))])
    return change


# --- selecting records ----------------------------------------------------------------------


@dataclass
class Selection:
    """The records an action is asked for: explicit ``ids`` or every match of ``filter``."""

    ids: list[Any] | None = None
    filter: dict[str, Any] | None = None


def _clean_ids(raw: Iterable[Any]) -> list[int]:
    try:
        ids = sorted({int(i) for i in raw})
    except (TypeError, ValueError) as exc:
        raise ValidationFailed([FieldError("ids", _("Ids must be whole numbers."))]) from exc
    if not ids:
        raise ValidationFailed([FieldError("ids", _("Select at least one record."))])
    if len(ids) > max_records():
        raise ValidationFailed(
            [FieldError("ids", _("At most %(n)d records at once.") % {"n": max_records()})]
        )
    return ids


def selection_count(*, actor: User, entity: str, selection: Selection) -> int:
    """How many records the selection names (a filter: how many the actor sees)."""
    if selection.ids is not None:
        return len(_clean_ids(selection.ids))
    return spec(entity).filtered(actor, dict(selection.filter or {})).count()


def _chunks(
    actor: User, bulk_spec: BulkSpec, selection: Selection, result: BulkResult
) -> Iterator[tuple[list[int], bool]]:
    """(ids, all_visible) per chunk; keyset-paged over a filter's matches."""
    if selection.ids is not None:
        ids = _clean_ids(selection.ids)
        result.matched = len(ids)
        for start in range(0, len(ids), CHUNK):
            yield ids[start : start + CHUNK], False
        return
    qs = bulk_spec.filtered(actor, dict(selection.filter or {})).order_by("pk")
    total = qs.count()
    if total > max_records():
        raise ValidationFailed(
            [
                FieldError(
                    "filter",
                    _("%(n)d records match; at most %(max)d at once: narrow the filter.")
                    % {"n": total, "max": max_records()},
                )
            ]
        )
    result.matched = total
    last = 0
    while True:
        ids = list(qs.filter(pk__gt=last).values_list("pk", flat=True)[:CHUNK])
        if not ids:
            return
        last = ids[-1]
        yield ids, True


# --- the action ---------------------------------------------------------------------------


def _model(entity: str) -> type[models.Model]:
    return permissions.entity(entity).model


# Up to this many distinct new values per chunk, one UPDATE each; beyond, bulk_update.
_MAX_GROUPS = 50


def _save_json(model: type[models.Model], objs: list[Any], column: str, now: Any) -> None:
    """Write ``column`` (tags / custom) of ``objs``: one UPDATE per distinct new value —
    records that end up alike (most tag changes) share it — else one bulk_update."""
    groups: dict[str, list[Any]] = {}
    for obj in objs:
        key = json.dumps(getattr(obj, column), sort_keys=True, ensure_ascii=False)
        groups.setdefault(key, []).append(obj)
    if len(groups) > _MAX_GROUPS:
        model._default_manager.bulk_update(objs, [column, "updated_at"], batch_size=CHUNK)
        return
    for members in groups.values():
        value = getattr(members[0], column)
        model._default_manager.filter(pk__in=[o.pk for o in members]).update(
            **{column: value, "updated_at": now}
        )


def _record_audit(
    actor: User, entity: str, action: str, entries: list[tuple[models.Model, dict[str, Any]]]
) -> None:
    audit.record_many(
        [
            AuditEvent(
                actor=actor,
                actor_label=actor.get_username(),
                action=action,
                entity=entity,
                object_id=str(obj.pk),
                object_repr=str(obj)[:200],
                changes=audit._plain(changes),
            )
            for obj, changes in entries
        ]
    )


def _apply_edit(
    actor: User,
    bulk_spec: BulkSpec,
    change: Change,
    qs: QuerySet[Any],
    result: BulkResult,
    undo: dict[str, Any],
    expect: dict[str, Any] | None = None,
) -> None:
    entity, model = bulk_spec.entity, _model(bulk_spec.entity)
    now = timezone.now()
    if bulk_spec.locked is not None:
        locked = qs.filter(bulk_spec.locked).count()
        result.skip("locked", locked)
        qs = qs.exclude(bulk_spec.locked)
    entries: list[tuple[models.Model, dict[str, Any]]] = []
    if change.custom is not None:
        key = change.custom.key
        objs = list(qs.only("pk", "custom", *bulk_spec.repr_fields))
        changed = []
        for obj in objs:
            values = dict(obj.custom or {})
            old = values.get(key)
            if expect is not None and old != expect.get(str(obj.pk), {}).get("new"):
                result.skip("changed", 1)
                continue
            new = expect[str(obj.pk)]["old"] if expect is not None else change.value
            if old == new:
                result.unchanged += 1
                continue
            if new is None:
                values.pop(key, None)
            else:
                values[key] = new
            obj.custom = values
            obj.updated_at = now
            changed.append(obj)
            entries.append((obj, {change.field: [old, new]}))
            undo.setdefault("records", {})[str(obj.pk)] = {"old": old, "new": new}
        _save_json(model, changed, "custom", now)
    else:
        column = change.column
        objs = list(qs.only("pk", column, *bulk_spec.repr_fields))
        groups: dict[Any, list[int]] = {}
        for obj in objs:
            old = getattr(obj, column)
            if expect is not None:
                if audit._plain(old) != expect.get(str(obj.pk), {}).get("new"):
                    result.skip("changed", 1)
                    continue
                new = expect[str(obj.pk)]["old"]
            else:
                new = change.value
            if old == new:
                result.unchanged += 1
                continue
            groups.setdefault(new, []).append(obj.pk)
            entries.append((obj, {change.field: [old, new]}))
            undo.setdefault("records", {})[str(obj.pk)] = {
                "old": audit._plain(old),
                "new": audit._plain(new),
            }
        # One UPDATE per distinct new value: one for an edit, one per old value on undo.
        for new, pks in groups.items():
            model._default_manager.filter(pk__in=pks).update(**{column: new, "updated_at": now})
    _record_audit(actor, entity, A.UPDATE, entries)
    result.updated += len(entries)
    for obj, changes in entries:
        events.emit(
            bulk_spec.updated_event, {"id": obj.pk, "changes": list(changes)}, actor_id=actor.pk
        )


def _apply_tags(
    actor: User,
    bulk_spec: BulkSpec,
    change: Change,
    qs: QuerySet[Any],
    result: BulkResult,
    undo: dict[str, Any],
) -> None:
    model = _model(bulk_spec.entity)
    now = timezone.now()
    adding = change.action == "add_tags"
    objs = list(qs.only("pk", "tags", *bulk_spec.repr_fields))
    changed = []
    entries: list[tuple[models.Model, dict[str, Any]]] = []
    by_tag = undo.setdefault("tags", {})
    for obj in objs:
        old = list(obj.tags or [])
        if adding:
            new = old + [t for t in change.tags if t not in old]
        else:
            new = [t for t in old if t not in change.tags]
        if new == old:
            result.unchanged += 1
            continue
        for tag in change.tags:
            if (tag in new) != (tag in old):
                by_tag.setdefault(tag, []).append(obj.pk)
        obj.tags = new
        obj.updated_at = now
        changed.append(obj)
        entries.append((obj, {"tags": [old, new]}))
    _save_json(model, changed, "tags", now)
    _record_audit(actor, bulk_spec.entity, A.UPDATE, entries)
    result.updated += len(entries)
    for obj, _changes in entries:
        events.emit(bulk_spec.updated_event, {"id": obj.pk, "changes": ["tags"]}, actor_id=actor.pk)


def _apply_delete(actor: User, bulk_spec: BulkSpec, qs: QuerySet[Any], result: BulkResult) -> None:
    model = _model(bulk_spec.entity)
    objs = list(qs.only("pk", *bulk_spec.repr_fields))
    busy = bulk_spec.in_use([o.pk for o in objs]) if bulk_spec.in_use and objs else set()
    result.skip("in_use", len(busy))
    objs = [o for o in objs if o.pk not in busy]
    deleted: list[models.Model] = []
    try:
        with transaction.atomic():
            model._default_manager.filter(pk__in=[o.pk for o in objs]).delete()
        deleted = objs
    except ProtectedError:
        # Something else refers to some of them: delete one by one, keeping the rest.
        for obj in objs:
            try:
                with transaction.atomic():
                    model._default_manager.filter(pk=obj.pk).delete()
            except ProtectedError:
                result.skip("in_use", 1)
            else:
                deleted.append(obj)
    _record_audit(
        actor, bulk_spec.entity, A.DELETE, [(o, {"name": [str(o), None]}) for o in deleted]
    )
    result.updated += len(deleted)
    for obj in deleted:
        events.emit(bulk_spec.deleted_event, {"id": obj.pk}, actor_id=actor.pk)


def bulk_apply(
    *,
    actor: User,
    entity: str,
    selection: Selection,
    data: dict[str, Any],
    dry_run: bool = False,
) -> BulkResult:
    """Apply one action (``data``: see :func:`clean_change`) to the selected records.

    Returns what happened: ``updated``, ``unchanged`` (already so) and ``skipped`` by
    reason (``no_permission``: visible but outside the action's scope; ``not_found``:
    missing or invisible; ``locked``; ``in_use``). ``dry_run`` checks and counts only.
    """
    bulk_spec = spec(entity)
    change = clean_change(entity, data)
    needs = NEEDS[change.action]
    result = BulkResult(action=change.action, dry_run=dry_run)
    may_act = permissions.can(actor, entity, needs)
    may_view = permissions.can(actor, entity, "view")
    undo: dict[str, Any] = {}
    model = _model(entity)
    for ids, all_visible in _chunks(actor, bulk_spec, selection, result):
        if all_visible:
            visible = set(ids)
        elif may_view:
            visible = set(
                permissions.scoped_queryset(actor, entity)
                .filter(pk__in=ids)
                .values_list("pk", flat=True)
            )
        else:
            visible = set()
        result.skip("not_found", len(ids) - len(visible))
        if not may_act:
            result.skip("no_permission", len(visible))
            continue
        allowed_qs = permissions.scoped_queryset(actor, entity, needs).filter(
            pk__in=sorted(visible)
        )
        if dry_run:
            allowed = allowed_qs.count()
            result.skip("no_permission", len(visible) - allowed)
            result.updated += allowed
            continue
        with transaction.atomic():
            allowed_ids = sorted(allowed_qs.select_for_update().values_list("pk", flat=True))
            result.skip("no_permission", len(visible) - len(allowed_ids))
            if not allowed_ids:
                continue
            rows = model._default_manager.filter(pk__in=allowed_ids).order_by("pk")
            if change.action == "edit":
                _apply_edit(actor, bulk_spec, change, rows, result, undo)
            elif change.action in ("add_tags", "remove_tags"):
                _apply_tags(actor, bulk_spec, change, rows, result, undo)
            elif change.action == "transfer":
                moved = bulk_spec.transfer(actor=actor, records=allowed_ids, to_user=change.to_user)
                result.updated += moved
                result.unchanged += len(allowed_ids) - moved
            else:
                _apply_delete(actor, bulk_spec, rows, result)
    if not dry_run:
        operation = BulkOperation.objects.create(
            actor=actor,
            entity=entity,
            action=change.action,
            params={**change.params(), "matched": result.matched},
            updated=result.updated,
            skipped=result.skipped,
            undo=undo if change.action in UNDOABLE else {},
        )
        if change.action in UNDOABLE:
            result.operation_id = operation.pk
    return result


def bulk_undo(*, actor: User, operation_id: Any) -> BulkResult:
    """Revert a bulk field edit or tag change made by ``actor`` in the last
    :data:`UNDO_HOURS` hours. A record changed again since keeps its newer value
    (skipped: ``changed``); records now outside the actor's edit scope are skipped."""
    try:
        operation = BulkOperation.objects.get(pk=int(operation_id), actor=actor)
    except (BulkOperation.DoesNotExist, TypeError, ValueError) as exc:
        raise OutOfScope() from exc
    if operation.action not in UNDOABLE:
        raise Conflict(_("Deletions and transfers cannot be undone."))
    if operation.undone_at is not None:
        raise Conflict(_("This bulk change has already been undone."))
    if timezone.now() - operation.created_at > dt.timedelta(hours=UNDO_HOURS):
        raise Conflict(
            _("Too late to undo: bulk changes can be undone for %(h)d hours.") % {"h": UNDO_HOURS}
        )
    entity = operation.entity
    bulk_spec = spec(entity)
    result = BulkResult(action=operation.action)
    with transaction.atomic():
        locked = BulkOperation.objects.select_for_update().get(pk=operation.pk)
        if locked.undone_at is not None:
            raise Conflict(_("This bulk change has already been undone."))
        if operation.action == "edit":
            records: dict[str, Any] = operation.undo.get("records", {})
            change = _edit_change(entity, bulk_spec, operation.params["field"])
            ids = sorted(int(pk) for pk in records)
            result.matched = len(ids)
            for start in range(0, len(ids), CHUNK):
                chunk = ids[start : start + CHUNK]
                allowed = _editable(actor, entity, chunk, result)
                rows = _model(entity)._default_manager.filter(pk__in=allowed).order_by("pk")
                _apply_edit(actor, bulk_spec, change, rows, result, {}, expect=records)
        else:
            reverse = "remove_tags" if operation.action == "add_tags" else "add_tags"
            # Each record once, with every tag it got (or lost): grouped by that set.
            per_record: dict[int, list[str]] = {}
            for tag, tag_ids in operation.undo.get("tags", {}).items():
                for pk in tag_ids:
                    per_record.setdefault(int(pk), []).append(tag)
            groups: dict[tuple[str, ...], list[int]] = {}
            for pk, record_tags in per_record.items():
                groups.setdefault(tuple(record_tags), []).append(pk)
            result.matched = len(per_record)
            for group_tags, group_ids in groups.items():
                change = Change(action=reverse, tags=list(group_tags))
                ids = sorted(group_ids)
                for start in range(0, len(ids), CHUNK):
                    chunk = ids[start : start + CHUNK]
                    allowed = _editable(actor, entity, chunk, result)
                    rows = _model(entity)._default_manager.filter(pk__in=allowed).order_by("pk")
                    _apply_tags(actor, bulk_spec, change, rows, result, {})
        locked.undone_at = timezone.now()
        locked.save(update_fields=["undone_at"])
    return result


def _edit_change(entity: str, bulk_spec: BulkSpec, name: str) -> Change:
    """The edit an undo reverts (its values come from the operation's records)."""
    if name.startswith(CUSTOM):
        key = name[len(CUSTOM) :]
        definition = CustomField.objects.filter(entity=entity, key=key).first()
        if definition is None:
            raise Conflict(_("This field can no longer be edited in bulk."))
        return Change(action="edit", field=name, custom=definition)
    bulk_field = bulk_spec.field(name)
    if bulk_field is None:
        raise Conflict(_("This field can no longer be edited in bulk."))
    return Change(action="edit", field=name, column=bulk_field.column)


def _editable(actor: User, entity: str, ids: list[int], result: BulkResult) -> list[int]:
    if not permissions.can(actor, entity, "edit"):
        result.skip("no_permission", len(ids))
        return []
    allowed = sorted(
        permissions.scoped_queryset(actor, entity, "edit")
        .filter(pk__in=ids)
        .select_for_update()
        .values_list("pk", flat=True)
    )
    missing = len(ids) - len(allowed)
    result.skip("no_permission", missing)
    return allowed


def operation_get(*, actor: User, pk: Any) -> BulkOperation:
    """One of ``actor``'s own bulk operations (OutOfScope otherwise)."""
    try:
        return BulkOperation.objects.get(pk=int(pk), actor=actor)
    except (BulkOperation.DoesNotExist, TypeError, ValueError) as exc:
        raise OutOfScope() from exc
