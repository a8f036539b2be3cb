"""Running a report-builder definition: validated against the whitelist in ``fields``,
read through the permission layer (scope + masking), grouped and measured in one
aggregate SQL query (plus one for the totals and one per labelled dimension).

A definition (JSON)::

    {"entity": "deal",
     "filters": [{"field": "status", "op": "eq", "value": "won"},
                 {"field": "custom.region", "op": "eq", "value": "east"}],
     "dimensions": [{"field": "won_at", "bucket": "month"}, {"field": "owner"}],
     "measures": [{"op": "count"}, {"op": "sum", "field": "amount"}],
     "limit": 1000}
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from django.db.models import Avg, Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncDay, TruncMonth, TruncQuarter, TruncWeek, TruncYear
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from guanxi.core import custom_fields, permissions
from guanxi.core.errors import FieldError, ValidationFailed
from guanxi.core.pagination import Page, paginate
from guanxi.identity.models import Department, User
from guanxi.reports.builder.fields import (
    BUCKETS,
    DATES,
    ENTITIES,
    MEASURES,
    NUMERIC,
    OPERATORS,
    BuilderEntity,
    Field,
)

MAX_LIMIT = 5000
CENT = Decimal("0.01")
TRUNC = {
    "day": TruncDay,
    "week": TruncWeek,
    "month": TruncMonth,
    "quarter": TruncQuarter,
    "year": TruncYear,
}


@dataclass(frozen=True)
class Filter:
    field: str
    op: str
    value: Any


@dataclass(frozen=True)
class Dimension:
    field: Field
    bucket: str = ""


@dataclass(frozen=True)
class Measure:
    op: str
    field: Field | None

    @property
    def key(self) -> str:
        return f"{self.op}:{self.field.name}" if self.field else self.op


@dataclass(frozen=True)
class Definition:
    entity: BuilderEntity
    filters: list[Filter]
    dimensions: list[Dimension]
    measures: list[Measure]
    limit: int

    def as_json(self) -> dict[str, Any]:
        return {
            "entity": self.entity.key,
            "filters": [{"field": f.field, "op": f.op, "value": f.value} for f in self.filters],
            "dimensions": [
                {"field": d.field.name, **({"bucket": d.bucket} if d.bucket else {})}
                for d in self.dimensions
            ],
            "measures": [
                {"op": m.op, **({"field": m.field.name} if m.field else {})} for m in self.measures
            ],
            "limit": self.limit,
        }


def _err(field: str, message: str) -> ValidationFailed:
    return ValidationFailed([FieldError(field, message)])


def _field(entity: BuilderEntity, name: Any, where: str) -> Field:
    found = entity.fields.get(str(name or ""))
    if found is None:
        raise _err(
            where,
            _("Unknown field %(name)r; choose one of: %(all)s.")
            % {"name": name, "all": ", ".join(entity.fields)},
        )
    return found


def parse(raw: Any) -> Definition:
    """Validate a definition; every error names the part at fault."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise _err("definition", _("The definition is not valid JSON.")) from exc
    if not isinstance(raw, dict):
        raise _err("definition", _("The definition must be an object."))
    entity = ENTITIES.get(str(raw.get("entity") or ""))
    if entity is None:
        raise _err("entity", _("Choose one of: %(all)s.") % {"all": ", ".join(ENTITIES)})
    filters: list[Filter] = []
    for i, item in enumerate(raw.get("filters") or []):
        where = f"filters[{i}]"
        if not isinstance(item, dict):
            raise _err(where, _("Each filter is an object with field, op and value."))
        name = str(item.get("field") or "")
        op = str(item.get("op") or "eq")
        if op not in OPERATORS:
            raise _err(f"{where}.op", _("Choose one of: %(all)s.") % {"all": ", ".join(OPERATORS)})
        if name.startswith("custom."):
            if not entity.custom:
                raise _err(f"{where}.field", _("This record type has no custom fields."))
            if op not in ("eq", "gte", "lte", "contains"):
                raise _err(f"{where}.op", _("Custom fields take eq, gte, lte or contains."))
        else:
            _field(entity, name, f"{where}.field")
        filters.append(Filter(name, op, item.get("value")))
    dims_raw = raw.get("dimensions") or []
    if not isinstance(dims_raw, list) or len(dims_raw) > 2:
        raise _err("dimensions", _("Group by at most two dimensions."))
    dimensions: list[Dimension] = []
    for i, item in enumerate(dims_raw):
        where = f"dimensions[{i}]"
        item = item if isinstance(item, dict) else {"field": item}
        fld = _field(entity, item.get("field"), f"{where}.field")
        bucket = str(item.get("bucket") or "")
        if fld.kind in DATES:
            bucket = bucket or "month"
            if bucket not in BUCKETS:
                raise _err(
                    f"{where}.bucket", _("Choose one of: %(all)s.") % {"all": ", ".join(BUCKETS)}
                )
        elif bucket:
            raise _err(f"{where}.bucket", _("Only date fields take a bucket."))
        elif fld.kind in NUMERIC:
            raise _err(f"{where}.field", _("Group by a category or a date, not an amount."))
        dimensions.append(Dimension(fld, bucket))
    measures: list[Measure] = []
    for i, item in enumerate(raw.get("measures") or [{"op": "count"}]):
        where = f"measures[{i}]"
        item = item if isinstance(item, dict) else {"op": item}
        op = str(item.get("op") or "")
        if op not in MEASURES:
            raise _err(f"{where}.op", _("Choose one of: %(all)s.") % {"all": ", ".join(MEASURES)})
        measured: Field | None = None
        if op != "count":
            measured = _field(entity, item.get("field"), f"{where}.field")
            if op in ("sum", "avg") and measured.kind not in NUMERIC:
                raise _err(f"{where}.field", _("Sum and average take a number or an amount."))
        measures.append(Measure(op, measured))
    if len(measures) > 6:
        raise _err("measures", _("At most six measures."))
    try:
        limit = int(raw.get("limit") or 1000)
    except (TypeError, ValueError) as exc:
        raise _err("limit", _("Enter a whole number.")) from exc
    if not 1 <= limit <= MAX_LIMIT:
        raise _err("limit", _("Between 1 and %(n)s.") % {"n": MAX_LIMIT})
    return Definition(entity, filters, dimensions, measures, limit)


# --- Filtering ---------------------------------------------------------------------------


def _number(value: Any, where: str) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise _err(where, _("Enter a number.")) from exc


def _coerce(fld: Field, value: Any, where: str, actor: User) -> Any:
    if fld.kind in NUMERIC:
        return _number(value, where)
    if fld.kind in DATES:
        day = value if isinstance(value, dt.date) else parse_date(str(value or ""))
        if day is None:
            raise _err(where, _("Enter a date (YYYY-MM-DD)."))
        return day
    if fld.kind in ("user", "department", "ref"):
        if fld.kind == "user" and str(value) == "me":
            return actor.pk
        try:
            return int(value)
        except (TypeError, ValueError) as exc:
            raise _err(where, _("Enter an id.")) from exc
    if fld.kind == "choice" and fld.choices is not None:
        allowed = [k for k, _label in fld.choices()]
        if str(value) not in allowed:
            raise _err(where, _("Choose one of: %(all)s.") % {"all": ", ".join(allowed)})
    return str(value)


def _condition(fld: Field, f: Filter, where: str, actor: User) -> Q:
    path = fld.path
    if f.op == "isnull":
        return Q(**{f"{path}__isnull": str(f.value).lower() in ("1", "true", "yes")})
    if f.op == "in":
        values = f.value if isinstance(f.value, list) else str(f.value or "").split(",")
        return Q(**{f"{path}__in": [_coerce(fld, v, where, actor) for v in values]})
    if f.op == "contains":
        if fld.kind not in ("text",):
            raise _err(f"{where}.op", _("Only text fields take contains."))
        return Q(**{f"{path}__icontains": str(f.value)})
    value = _coerce(fld, f.value, where, actor)
    if fld.kind == "datetime":
        path = f"{path}__date"
    if f.op == "eq":
        return Q(**{path: value})
    if f.op == "ne":
        return ~Q(**{path: value})
    return Q(**{f"{path}__{f.op}": value})


def queryset(actor: User, d: Definition, extra: list[Filter] | None = None) -> QuerySet[Any]:
    """The records of the definition's entity ``actor`` may see, filtered."""
    key = d.entity.permission_key
    permissions.require(actor, key, "view")
    qs = permissions.scoped_queryset(actor, key, base=d.entity.model()._default_manager.all())
    custom: dict[str, Any] = {}
    for i, f in enumerate([*d.filters, *(extra or [])]):
        where = f"filters[{i}]"
        if f.field.startswith("custom."):
            name = f.field[7:] + ("" if f.op == "eq" else f"__{f.op}")
            custom[name] = f.value
            continue
        qs = qs.filter(_condition(d.entity.fields[f.field], f, where, actor))
    if custom:
        qs = custom_fields.filter_queryset(qs, key, custom)
    return qs


# --- Running -----------------------------------------------------------------------------


def _aggregate(m: Measure) -> Any:
    if m.op == "count":
        return Count("pk")
    assert m.field is not None
    if m.op == "sum":
        return Sum(m.field.path)
    if m.op == "avg":
        return Avg(m.field.path)
    return Count(m.field.path, distinct=True)


def _bucket_start(value: Any, bucket: str) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        return value.date()
    return value if isinstance(value, dt.date) else None


def bucket_label(day: dt.date | None, bucket: str) -> str:
    if day is None:
        return "—"
    if bucket == "day":
        return day.isoformat()
    if bucket == "week":
        year, week, _d = day.isocalendar()
        return f"{year}-W{week:02d}"
    if bucket == "month":
        return f"{day:%Y-%m}"
    if bucket == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return str(day.year)


def bucket_end(day: dt.date, bucket: str) -> dt.date:
    """The first day after the bucket starting on ``day``."""
    if bucket == "day":
        return day + dt.timedelta(days=1)
    if bucket == "week":
        return day + dt.timedelta(days=7)
    months = {"month": 1, "quarter": 3, "year": 12}[bucket]
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _labels(
    actor: User, d: Definition, dim: Dimension, values: set[Any], qs: QuerySet[Any]
) -> dict[Any, str]:
    fld = dim.field
    known = {v for v in values if v is not None}
    out: dict[Any, str] = {None: "—", "": "—"}
    if fld.kind == "user":
        for user in User.objects.filter(pk__in=known):
            out[user.pk] = user.label
    elif fld.kind == "department":
        out.update(Department.objects.filter(pk__in=known).values_list("pk", "name"))
    elif fld.kind == "ref":
        out.update(
            qs.filter(**{f"{fld.path}__in": known})
            .order_by()
            .values_list(fld.path, fld.label_path)
            .distinct()
        )
    elif fld.kind == "choice" and fld.choices is not None:
        names = dict(fld.choices())
        out.update({v: str(names.get(v, v)) for v in known})
    else:
        out.update({v: str(v) for v in known})
    if fld.mask and fld.mask in permissions.masked_fields(actor, d.entity.permission_key):
        kind = permissions.entity(d.entity.permission_key).maskable.get(fld.mask, "other")
        out = {
            k: (permissions.mask_value(kind, v) if k not in (None, "") else v)
            for k, v in out.items()
        }
    return out


def _measure_value(actor: User, d: Definition, m: Measure, value: Any) -> Any:
    if m.op in ("count", "distinct"):
        return int(value or 0)
    number = Decimal(str(value)) if value is not None else None
    if number is not None:
        number = number.quantize(CENT, ROUND_HALF_UP)
    if (
        m.field is not None
        and m.field.mask
        and m.field.mask in permissions.masked_fields(actor, d.entity.permission_key)
    ):
        kind = permissions.entity(d.entity.permission_key).maskable.get(m.field.mask, "other")
        return permissions.mask_value(kind, number)
    return number


def measure_label(m: Measure) -> str:
    names = {"count": _("Count"), "sum": _("Sum"), "avg": _("Average"), "distinct": _("Distinct")}
    if m.field is None:
        return names[m.op]
    return f"{names[m.op]}: {m.field.label}"


def run(*, actor: User, definition: Any) -> dict[str, Any]:
    """The grouped table of a definition for ``actor`` (scoped and masked)."""
    d = parse(definition)
    qs = queryset(actor, d)
    aliases: dict[str, Any] = {}
    for i, dim in enumerate(d.dimensions):
        if dim.bucket:
            aliases[f"d{i}"] = (
                TRUNC[dim.bucket](dim.field.path, tzinfo=timezone.get_current_timezone())
                if dim.field.kind == "datetime"
                else TRUNC[dim.bucket](dim.field.path)
            )
        else:
            aliases[f"d{i}"] = F(dim.field.path)
    measures = {f"m{j}": _aggregate(m) for j, m in enumerate(d.measures)}
    keys = list(aliases)
    grouped = list(
        qs.annotate(**aliases).values(*keys).annotate(**measures).order_by(*keys)[: d.limit + 1]
        if keys
        else []
    )
    truncated = len(grouped) > d.limit
    grouped = grouped[: d.limit]
    totals = qs.order_by().aggregate(**measures)
    labels: list[dict[Any, str]] = []
    for i, dim in enumerate(d.dimensions):
        if dim.bucket:
            labels.append({})
        else:
            labels.append(_labels(actor, d, dim, {r[f"d{i}"] for r in grouped}, qs))
    rows = []
    base = reverse("analytics:builder_records")
    for r in grouped:
        cells = []
        drill: list[dict[str, Any]] = []
        for i, dim in enumerate(d.dimensions):
            raw = r[f"d{i}"]
            if dim.bucket:
                day = _bucket_start(raw, dim.bucket)
                cells.append(
                    {
                        "value": day.isoformat() if day else None,
                        "label": bucket_label(day, dim.bucket),
                    }
                )
                if day is None:
                    drill.append({"field": dim.field.name, "op": "isnull", "value": True})
                else:
                    drill.append({"field": dim.field.name, "op": "gte", "value": day.isoformat()})
                    drill.append(
                        {
                            "field": dim.field.name,
                            "op": "lt",
                            "value": bucket_end(day, dim.bucket).isoformat(),
                        }
                    )
            else:
                cells.append({"value": raw, "label": labels[i].get(raw, str(raw))})
                if raw in (None, ""):
                    drill.append(
                        {"field": dim.field.name, "op": "isnull", "value": True}
                        if raw is None
                        else {"field": dim.field.name, "op": "eq", "value": ""}
                    )
                else:
                    drill.append({"field": dim.field.name, "op": "eq", "value": raw})
        rows.append(
            {
                "dimensions": cells,
                "values": [
                    _measure_value(actor, d, m, r[f"m{j}"]) for j, m in enumerate(d.measures)
                ],
                "drill": drill_url(d, drill, base),
            }
        )
    return {
        "definition": d.as_json(),
        "entity_label": str(d.entity.label),
        "dimension_labels": [
            str(dim.field.label) + (f" ({dim.bucket})" if dim.bucket else "")
            for dim in d.dimensions
        ],
        "measure_labels": [measure_label(m) for m in d.measures],
        "rows": rows,
        "totals": [_measure_value(actor, d, m, totals[f"m{j}"]) for j, m in enumerate(d.measures)],
        "truncated": truncated,
    }


def drill_url(d: Definition, extra: list[dict[str, Any]], base: str = "") -> str:
    definition = d.as_json()
    definition["filters"] = [*definition["filters"], *extra]
    definition.pop("dimensions")
    definition.pop("measures")
    definition.pop("limit")
    return (
        (base or reverse("analytics:builder_records"))
        + "?"
        + urlencode({"definition": json.dumps(definition, ensure_ascii=False, default=str)})
    )


def records(*, actor: User, definition: Any, page: Any = 1) -> tuple[Definition, Page]:
    """The records behind a cell (a definition's filters), scoped, newest first."""
    d = parse(definition)
    qs = queryset(actor, d).order_by("-created_at", "-pk")
    return d, paginate(qs, page, 50)


def record_row(d: Definition, obj: Any) -> dict[str, Any]:
    url = ""
    if d.entity.detail_url:
        try:
            url = reverse(d.entity.detail_url, args=[obj.pk])
        except NoReverseMatch:
            url = ""
    title = getattr(obj, d.entity.title_path, "") or str(obj)
    return {"id": obj.pk, "title": str(title)[:80], "url": url, "created_at": obj.created_at}
