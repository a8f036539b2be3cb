"""Readable change lists for history panels: foreign keys (owner, source, account,
parent …) become names and choice values become their labels.

The audit trail stores ids and raw values (it must stay exact and language-neutral); this
module resolves them for display, for a whole page of entries at once: one query per kind
of referenced record, whatever the number of entries. A referenced customer record (an
account, a contact, a lead) is named only when it lies in the viewer's scope; otherwise it
stays ``#id``. Call it after :func:`guanxi.core.permissions.mask_changes`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.db import models

from guanxi.core import custom_fields, permissions
from guanxi.core.models import CustomField

if TYPE_CHECKING:
    from guanxi.identity.models import User

CUSTOM = "custom."
# Change keys that are not model fields but name records of another entity.
EXTRA_REFERENCES = {"from_lead": "lead"}

Resolver = Callable[[Any], Any]


def _entity_of(model: type[models.Model]) -> str | None:
    for ent in permissions.entities():
        if ent.model is model:
            return ent.key
    return None


def _as_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


class _Lookups:
    """Ids to resolve, grouped by the model they point to; resolved in one query each."""

    def __init__(self, actor: User) -> None:
        self.actor = actor
        self.wanted: dict[type[models.Model], set[int]] = defaultdict(set)
        self.names: dict[type[models.Model], dict[int, str]] = {}

    def want(self, model: type[models.Model], value: Any) -> None:
        if isinstance(value, list | tuple):
            for item in value:
                self.want(model, item)
            return
        pk = _as_id(value)
        if pk is not None:
            self.wanted[model].add(pk)

    def resolve(self) -> None:
        from guanxi.identity.models import User as UserModel

        for model, ids in self.wanted.items():
            if model is UserModel:
                rows = UserModel.objects.filter(pk__in=ids).only("id", "username", "display_name")
                self.names[model] = {u.pk: u.label for u in rows}
                continue
            entity = _entity_of(model)
            if entity is not None:
                if not permissions.can(self.actor, entity, "view"):
                    self.names[model] = {}
                    continue
                qs = permissions.scoped_queryset(self.actor, entity).filter(pk__in=ids)
            else:
                qs = model._default_manager.filter(pk__in=ids)
            self.names[model] = {obj.pk: str(obj) for obj in qs}

    def label(self, model: type[models.Model], value: Any) -> Any:
        if isinstance(value, list | tuple):
            return [self.label(model, v) for v in value]
        pk = _as_id(value)
        if pk is None:
            return value
        return self.names.get(model, {}).get(pk, f"#{pk}")


def _choice_labels(field: models.Field[Any, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in field.flatchoices}


def _plan(
    model: type[models.Model] | None,
    entity_key: str,
    key: str,
    definitions: dict[str, CustomField],
    lookups: _Lookups,
    value: Any,
) -> Resolver | None:
    """How to label the values of change ``key`` (registering ids to look up)."""
    from guanxi.identity.models import User as UserModel

    if key.startswith(CUSTOM):
        definition = definitions.get(key[len(CUSTOM) :])
        if definition is None:
            return None
        kind = definition.kind
        if kind == CustomField.Kind.USER:
            lookups.want(UserModel, value)
            return lambda v: lookups.label(UserModel, v)
        if kind in (CustomField.Kind.SELECT, CustomField.Kind.MULTI_SELECT):
            return lambda v: (
                [definition.option_label(str(x)) for x in v]
                if isinstance(v, list)
                else (definition.option_label(str(v)) if v not in (None, "") else v)
            )
        return None
    if key in EXTRA_REFERENCES:
        target = permissions.entity(EXTRA_REFERENCES[key]).model
        lookups.want(target, value)
        return lambda v: lookups.label(target, v)
    if model is None:
        return None
    try:
        field = model._meta.get_field(key)
    except Exception:  # not a field of the model (e.g. "field" of a reveal)
        return None
    if isinstance(field, models.ForeignKey | models.ManyToManyField):
        related = field.related_model
        assert isinstance(related, type)
        lookups.want(related, value)
        return lambda v: lookups.label(related, v)
    if getattr(field, "choices", None):
        labels = _choice_labels(field)  # type: ignore[arg-type]
        return lambda v: labels.get(str(v), v) if v not in (None, "") else v
    return None


def _model_of(entity_key: str) -> type[models.Model] | None:
    try:
        return permissions.entity(entity_key).model
    except KeyError:
        return None


def label_changes(
    *, actor: User, entity_key: str, changes_list: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Copies of audit ``changes`` dicts ({field: [old, new]} or {field: value}) with
    ids and choice values replaced by display names, resolved in one query per kind."""
    model = _model_of(entity_key)
    has_custom = any(str(k).startswith(CUSTOM) for c in changes_list for k in (c or {}))
    definitions = (
        {d.key: d for d in custom_fields.definitions(entity_key)} if model and has_custom else {}
    )
    lookups = _Lookups(actor)
    plans: list[dict[str, Resolver]] = []
    for changes in changes_list:
        plan: dict[str, Resolver] = {}
        for key, value in (changes or {}).items():
            resolver = _plan(model, entity_key, str(key), definitions, lookups, value)
            if resolver is not None:
                plan[str(key)] = resolver
        plans.append(plan)
    lookups.resolve()
    out: list[dict[str, Any]] = []
    for changes, plan in zip(changes_list, plans, strict=True):
        labelled = dict(changes or {})
        for key, resolver in plan.items():
            value = labelled[key]
            if isinstance(value, list) and len(value) == 2:
                labelled[key] = [resolver(value[0]), resolver(value[1])]
            else:
                labelled[key] = resolver(value)
        out.append(labelled)
    return out
