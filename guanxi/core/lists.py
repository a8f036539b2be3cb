"""What a list page of an entity offers: its columns (standard and custom fields) and the
query-string keys a saved view may store.

Entity apps register a :class:`ListSpec` when they load (``guanxi.leads.columns``,
``guanxi.customers.columns``). Cells read the record's *serialised, masked* dict, so a
masked phone stays masked in every column.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from guanxi.core import custom_fields
from guanxi.core.errors import FieldError, ValidationFailed
from guanxi.core.models import CustomField

CUSTOM = "custom."
DASH = "—"

Render = Callable[[Any, dict[str, Any]], SafeString]


@dataclass(frozen=True)
class Column:
    """One column: ``render(obj, data)`` returns the cell's HTML (``data`` is masked)."""

    key: str
    label: str | Promise
    render: Render


@dataclass
class ListSpec:
    entity: str
    columns: list[Column]
    default_columns: list[str]
    # Query-string keys a saved view may keep (besides ``custom.<key>`` filters).
    query_keys: set[str] = dataclasses.field(default_factory=set)
    url_name: str = ""


_registry: dict[str, ListSpec] = {}


def register(spec: ListSpec) -> ListSpec:
    _registry[spec.entity] = spec
    return spec


def spec(entity: str) -> ListSpec:
    try:
        return _registry[entity]
    except KeyError as exc:
        raise ValidationFailed([FieldError("entity", _("Unknown list."))]) from exc


def entities() -> list[str]:
    return sorted(_registry)


# --- cell renderers ---------------------------------------------------------------------


def text(name: str) -> Render:
    def render(obj: Any, data: dict[str, Any]) -> SafeString:
        value = data.get(name)
        return format_html("{}", value if value not in (None, "") else DASH)

    return render


def choice(name: str) -> Render:
    """The display label of a choice field."""

    def render(obj: Any, data: dict[str, Any]) -> SafeString:
        value = getattr(obj, name)
        if not value:
            return format_html("{}", DASH)
        return format_html("{}", getattr(obj, f"get_{name}_display")())

    return render


def when(name: str, with_time: bool = True) -> Render:
    def render(obj: Any, data: dict[str, Any]) -> SafeString:
        value = getattr(obj, name)
        if value is None:
            return format_html("{}", DASH)
        if isinstance(value, dt.datetime):
            value = timezone.localtime(value)
            return format_html("{}", value.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d"))
        return format_html("{}", value.isoformat())

    return render


def owner(obj: Any, data: dict[str, Any]) -> SafeString:
    user = obj.owner if obj.owner_id else None
    if user is None:
        return format_html('<span class="tag tag-off">{}</span>', _("Public pool"))
    return format_html("{}", user.label)


def tags(obj: Any, data: dict[str, Any]) -> SafeString:
    values = data.get("tags") or []
    if not values:
        return format_html("{}", DASH)
    return format_html_join(" ", '<span class="tag">{}</span>', ((t,) for t in values))


def custom_text(definition: CustomField, value: Any) -> str:
    """A custom value as text, like the detail page shows it."""
    if value in (None, "", []):
        return DASH
    for shown_field, shown in custom_fields.display(definition.entity, {definition.key: value}):
        if shown_field.key == definition.key:
            return shown
    return str(value)


def _custom_column(definition: CustomField) -> Column:
    def render(obj: Any, data: dict[str, Any]) -> SafeString:
        return format_html(
            "{}", custom_text(definition, (data.get("custom") or {}).get(definition.key))
        )

    return Column(CUSTOM + definition.key, definition.label(), render)


# --- choosing columns ---------------------------------------------------------------------


def available(entity: str) -> list[Column]:
    """Standard columns, then one per active custom field (in field order)."""
    list_spec = spec(entity)
    return [*list_spec.columns, *(_custom_column(d) for d in custom_fields.definitions(entity))]


def clean_columns(entity: str, keys: Iterable[str]) -> list[str]:
    """Validated column keys in the given order (an unknown key is an error; no repeats)."""
    known = {c.key for c in available(entity)}
    out: list[str] = []
    bad: list[str] = []
    for raw in keys:
        key = str(raw).strip()
        if not key:
            continue
        if key not in known:
            bad.append(key)
        elif key not in out:
            out.append(key)
    if bad:
        raise ValidationFailed(
            [FieldError("columns", _("Unknown column: %(c)s.") % {"c": ", ".join(bad)})]
        )
    return out


def resolve(entity: str, keys: Iterable[str] | None) -> list[Column]:
    """The columns to show: ``keys`` in order (keys no longer offered, such as a custom
    field since deactivated, are left out), else the entity's defaults."""
    by_key = {c.key: c for c in available(entity)}
    chosen = [by_key[k] for k in keys or [] if k in by_key]
    if chosen:
        return chosen
    return [by_key[k] for k in spec(entity).default_columns if k in by_key]


def clean_query(entity: str, query: dict[str, Any]) -> dict[str, str]:
    """The query-string parameters a saved view keeps: known keys only, as strings."""
    allowed = spec(entity).query_keys
    out: dict[str, str] = {}
    bad: list[str] = []
    for key, value in (query or {}).items():
        if key in ("page", "sv", "csrfmiddlewaretoken"):
            continue
        if key not in allowed and not (key.startswith(CUSTOM) and len(key) > len(CUSTOM)):
            bad.append(key)
            continue
        text_value = "" if value is None else str(value)
        if len(text_value) > 200:
            raise ValidationFailed(
                [FieldError(f"query.{key}", _("At most %(n)d characters.") % {"n": 200})]
            )
        if text_value:
            out[key] = text_value
    if bad:
        raise ValidationFailed(
            [FieldError("query", _("Unknown filter: %(f)s.") % {"f": ", ".join(sorted(bad))})]
        )
    return out


@dataclass
class Row:
    obj: Any
    data: dict[str, Any]
    cells: list[tuple[Column, SafeString]]


def rows(
    columns: list[Column], items: Iterable[Any], as_dict: Callable[[Any], dict[str, Any]]
) -> list[Row]:
    """Render the cells of each record (no queries: relations are select_related)."""
    out: list[Row] = []
    for obj in items:
        data = as_dict(obj)
        out.append(Row(obj, data, [(c, c.render(obj, data)) for c in columns]))
    return out
