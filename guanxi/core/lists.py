"""What a list page of an entity offers: its columns (standard and custom fields) and the
query-string keys a saved view may store.

Entity apps register a :class:`ListSpec` when they load (``guanxi.leads.columns``,
``guanxi.customers.columns``). Cells read the record's *serialised, masked* dict, so a
masked phone stays masked in every column.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from html import escape as _escape
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from guanxi.core import custom_fields
from guanxi.core.errors import FieldError, ValidationFailed
from guanxi.core.models import CustomField

CUSTOM = "custom."
DASH = "—"

# A cell renderer returns HTML with every value escaped (see :func:`esc`). Plain strings
# rather than SafeString: a page renders hundreds of cells, and Django's lazy-aware
# format_html costs several times more per call than the standard library's escape.
Render = Callable[[Any, dict[str, Any]], str]


def esc(value: Any) -> str:
    return _escape(str(value), quote=True)


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
    # The first cell (the record's name, linked); ``name_label`` heads it.
    name_cell: Render | None = None
    name_label: str | Promise = ""


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


@functools.cache
def _url_pattern(url_name: str) -> tuple[str, str]:
    marker = 987654321
    url = reverse(url_name, args=[marker])
    head, _sep, tail = url.partition(str(marker))
    return head, tail


def detail_url(url_name: str, pk: Any) -> str:
    """``reverse(url_name, args=[pk])`` without resolving the pattern for every row."""
    head, tail = _url_pattern(url_name)
    return f"{head}{int(pk)}{tail}"


# --- cell renderers ---------------------------------------------------------------------


def text(name: str) -> Render:
    def render(obj: Any, data: dict[str, Any]) -> str:
        value = data.get(name)
        return esc(value) if value not in (None, "") else DASH

    return render


def choice(name: str) -> Render:
    """The display label of a choice field."""

    def render(obj: Any, data: dict[str, Any]) -> str:
        if not getattr(obj, name):
            return DASH
        return esc(getattr(obj, f"get_{name}_display")())

    return render


def when(name: str, with_time: bool = True) -> Render:
    def render(obj: Any, data: dict[str, Any]) -> str:
        value = getattr(obj, name)
        if value is None:
            return DASH
        if isinstance(value, dt.datetime):
            value = timezone.localtime(value)
            return value.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")
        return esc(value.isoformat())

    return render


def owner(obj: Any, data: dict[str, Any]) -> str:
    user = obj.owner if obj.owner_id else None
    if user is None:
        return f'<span class="tag tag-off">{esc(_("Public pool"))}</span>'
    return esc(user.label)


def tag_spans(values: Any) -> str:
    return " ".join(f'<span class="tag">{esc(t)}</span>' for t in values or [])


def tags(obj: Any, data: dict[str, Any]) -> str:
    return tag_spans(data.get("tags")) or DASH


def custom_text(definition: CustomField, value: Any) -> str:
    """A custom value as text, like the detail page shows it."""
    if value in (None, "", []):
        return DASH
    kind = definition.kind
    if kind == CustomField.Kind.SELECT:
        return definition.option_label(str(value))
    if kind == CustomField.Kind.MULTI_SELECT:
        return "、".join(definition.option_label(str(v)) for v in value or [])
    if kind == CustomField.Kind.BOOLEAN:
        return str(_("Yes") if value else _("No"))
    return str(value)


def _custom_column(definition: CustomField) -> Column:
    def render(obj: Any, data: dict[str, Any]) -> str:
        return esc(custom_text(definition, (data.get("custom") or {}).get(definition.key)))

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
    html: SafeString


def rows(
    entity: str,
    columns: list[Column],
    items: Iterable[Any],
    as_dict: Callable[[Any], dict[str, Any]],
    *,
    selectable: bool = False,
) -> list[Row]:
    """Each record's table row, rendered here rather than by a template loop (50 rows of
    a dozen cells cost a few milliseconds in Python, tens of them in the template engine).
    No queries: relations are select_related."""
    list_spec = spec(entity)
    name_cell = list_spec.name_cell
    name_td = f'<td class="primary-cell" data-label="{esc(list_spec.name_label)}">'
    tds = [(f'<td data-label="{esc(c.label)}">', c.render) for c in columns]
    select_label = esc(_("Select"))
    out: list[Row] = []
    for obj in items:
        data = as_dict(obj)
        parts = ["<tr>"]
        if selectable:
            parts.append(
                f'<td class="select-cell"><input type="checkbox" name="ids" value="{int(obj.pk)}"'
                f' form="bulk-form" data-row-check aria-label="{select_label}"></td>'
            )
        parts.append(name_td)
        parts.append(name_cell(obj, data) if name_cell else esc(obj))
        parts.append("</td>")
        for opening, render in tds:
            parts.append(opening)
            parts.append(render(obj, data))
            parts.append("</td>")
        parts.append("</tr>")
        # Every value was escaped by the renderers (esc); the markup is ours.
        out.append(Row(obj, data, mark_safe("".join(parts))))
    return out
