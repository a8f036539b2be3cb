"""Conditions: field comparisons in AND / OR groups (one level of nesting), with reasons.

Stored as ``{"match": "all"|"any", "items": [row | group]}``, a row being
``{"field", "op", "value"}`` and a group ``{"match", "items": [row, …]}``. Fields are the
entity's (see ``entities``) or custom fields as ``custom.<key>``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.automation.rules import entities
from guanxi.core.errors import FieldError

OPERATORS: dict[str, Any] = {
    "eq": gettext_lazy("equals"),
    "ne": gettext_lazy("does not equal"),
    "gt": gettext_lazy("is greater than"),
    "lt": gettext_lazy("is less than"),
    "contains": gettext_lazy("contains"),
    "in": gettext_lazy("is one of"),
    "empty": gettext_lazy("is empty"),
    "not_empty": gettext_lazy("is not empty"),
    "changed": gettext_lazy("was changed"),
    "changed_to": gettext_lazy("was changed to"),
}
NO_VALUE = {"empty", "not_empty", "changed"}
MATCHES = ("all", "any")


@dataclass(frozen=True)
class Verdict:
    passed: bool
    reasons: list[dict[str, Any]]  # [{"field", "op", "value", "actual", "passed"}]


def field_choices(entity_key: str) -> list[tuple[str, str]]:
    """``[(name, label)]`` of the fields conditions of ``entity_key`` may use."""
    from guanxi.core.models import CustomField

    spec = entities.get(entity_key)
    out = [(name, str(f.label)) for name, f in spec.fields.items()]
    for cf in CustomField.objects.filter(entity=entity_key).order_by("position", "id"):
        out.append((f"custom.{cf.key}", f"{cf.label_zh} ({_('custom field')})"))
    return out


def _known_field(entity_key: str, name: str) -> bool:
    if name.startswith("custom."):
        from guanxi.core.models import CustomField

        return CustomField.objects.filter(entity=entity_key, key=name[7:]).exists()
    return name in entities.get(entity_key).fields


def clean(entity_key: str, raw: Any, errors: list[FieldError]) -> dict[str, Any]:
    """The checked conditions object (errors name ``conditions``)."""
    if raw in (None, "", {}):
        return {"match": "all", "items": []}
    if not isinstance(raw, dict):
        errors.append(FieldError("conditions", _("Give an object with match and items.")))
        return {}
    out = _clean_group(entity_key, raw, errors, nested=False)
    return out


def _clean_group(
    entity_key: str, raw: dict[str, Any], errors: list[FieldError], *, nested: bool
) -> dict[str, Any]:
    match = raw.get("match", "all")
    if match not in MATCHES:
        errors.append(FieldError("conditions.match", _("Choose all or any.")))
    items = raw.get("items", [])
    if not isinstance(items, list):
        errors.append(FieldError("conditions.items", _("Give a list of conditions.")))
        return {}
    cleaned: list[dict[str, Any]] = []
    for n, item in enumerate(items, start=1):
        where = f"conditions.items[{n}]"
        if not isinstance(item, dict):
            errors.append(FieldError(where, _("Give an object.")))
            continue
        if "items" in item:
            if nested:
                errors.append(FieldError(where, _("Groups cannot hold further groups.")))
                continue
            cleaned.append(_clean_group(entity_key, item, errors, nested=True))
            continue
        cleaned.append(_clean_row(entity_key, item, errors, where))
    return {"match": match, "items": cleaned}


def _clean_row(
    entity_key: str, item: dict[str, Any], errors: list[FieldError], where: str
) -> dict[str, Any]:
    name = str(item.get("field") or "").strip()
    op = str(item.get("op") or "").strip()
    value = item.get("value", "")
    if not name or not _known_field(entity_key, name):
        errors.append(FieldError(f"{where}.field", _("Unknown field “%(f)s”.") % {"f": name}))
    if op not in OPERATORS:
        errors.append(FieldError(f"{where}.op", _("Unknown operator “%(op)s”.") % {"op": op}))
    if op in NO_VALUE:
        value = ""
    elif op in ("gt", "lt"):
        if _number(value) is None and _when(value) is None:
            errors.append(FieldError(f"{where}.value", _("Give a number or a date.")))
    elif op == "in":
        if isinstance(value, str):
            value = [v.strip() for v in value.replace("，", ",").split(",") if v.strip()]
        if not isinstance(value, list) or not value:
            errors.append(FieldError(f"{where}.value", _("Give one or more values.")))
    elif op in OPERATORS and (value is None or str(value).strip() == ""):
        errors.append(FieldError(f"{where}.value", _("Give a value to compare with.")))
    if isinstance(value, str):
        value = value.strip()
        if len(value) > 200:
            errors.append(FieldError(f"{where}.value", _("At most 200 characters.")))
    return {"field": name, "op": op, "value": value}


# --- evaluation -------------------------------------------------------------------------


def _lookup(values: dict[str, Any], name: str) -> Any:
    if name.startswith("custom."):
        return (values.get("custom") or {}).get(name[7:])
    value = values.get(name)
    if isinstance(value, dict) and "id" in value:
        # nested references ({"id", "name"}) compare by id, or by name when given text
        return value
    return value


_NUMERIC = re.compile(r"^\s*-?\d+(\.\d+)?\s*$")


def _number(value: Any) -> Decimal | None:
    # Checked by pattern first: raising for every non-number costs more than comparing.
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return Decimal(value)
    text = str(value)
    if not _NUMERIC.match(text):
        return None
    try:
        return Decimal(text.strip())
    except (InvalidOperation, ValueError):
        return None


def _when(value: Any) -> dt.datetime | dt.date | None:
    if isinstance(value, dt.datetime | dt.date):
        return value
    if not isinstance(value, str) or not value.strip():
        return None
    parsed_dt = parse_datetime(value.strip())
    if parsed_dt is not None:
        return parsed_dt
    try:
        return parse_date(value.strip())
    except ValueError:
        return None


def _same(actual: Any, expected: Any) -> bool:
    if isinstance(actual, dict):
        return any(_same(actual.get(k), expected) for k in ("id", "name", "username"))
    if actual is None:
        return expected in (None, "")
    a, b = _number(actual), _number(expected)
    if a is not None and b is not None:
        return a == b
    return str(actual).strip().casefold() == str(expected).strip().casefold()


def _compare(actual: Any, expected: Any) -> int | None:
    a, b = _number(actual), _number(expected)
    if a is not None and b is not None:
        return (a > b) - (a < b)
    wa, wb = _when(actual), _when(expected)
    if wa is None or wb is None:
        return None
    if isinstance(wa, dt.datetime) != isinstance(wb, dt.datetime):
        wa = wa.date() if isinstance(wa, dt.datetime) else wa
        wb = wb.date() if isinstance(wb, dt.datetime) else wb
    if (
        isinstance(wa, dt.datetime)
        and isinstance(wb, dt.datetime)
        and (wa.tzinfo is None) != (wb.tzinfo is None)
    ):
        wa, wb = wa.replace(tzinfo=None), wb.replace(tzinfo=None)
    return (wa > wb) - (wa < wb)  # type: ignore[operator,unused-ignore]


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def check_row(row: dict[str, Any], values: dict[str, Any], changes: dict[str, Any]) -> bool:
    name, op, expected = row["field"], row["op"], row.get("value")
    actual = _lookup(values, name)
    if op == "eq":
        return _same(actual, expected)
    if op == "ne":
        return not _same(actual, expected)
    if op in ("gt", "lt"):
        order = _compare(actual, expected)
        return order is not None and order == (1 if op == "gt" else -1)
    if op == "contains":
        if isinstance(actual, list):
            return any(_same(v, expected) for v in actual)
        return actual is not None and str(expected).casefold() in str(actual).casefold()
    if op == "in":
        options = expected if isinstance(expected, list) else [expected]
        if isinstance(actual, list):
            return any(_same(v, o) for v in actual for o in options)
        return any(_same(actual, o) for o in options)
    if op == "empty":
        return _is_empty(actual)
    if op == "not_empty":
        return not _is_empty(actual)
    key = name[7:] if name.startswith("custom.") else name
    change = changes.get(name) or changes.get(key)
    if name == "stage_name":
        change = change or changes.get("stage")
    if op == "changed":
        return change is not None
    if op == "changed_to":
        if change is None:
            return False
        new = change[1] if isinstance(change, list | tuple) and len(change) == 2 else change
        return _same(new, expected)
    return False


def evaluate(
    conditions: dict[str, Any], values: dict[str, Any], changes: dict[str, Any] | None = None
) -> Verdict:
    """Does the record pass? With one reason per row (also the rows not needed)."""
    reasons: list[dict[str, Any]] = []
    passed = _group(conditions or {}, values, changes or {}, reasons, 0)
    return Verdict(passed, reasons)


def passes(
    conditions: dict[str, Any], values: dict[str, Any], changes: dict[str, Any] | None = None
) -> bool:
    """:func:`evaluate` without the reasons, stopping at the first row that decides."""
    return _decide(conditions or {}, values, changes or {})


def _decide(spec: dict[str, Any], values: dict[str, Any], changes: dict[str, Any]) -> bool:
    items = spec.get("items") or []
    if not items:
        return True
    want_any = spec.get("match") == "any"
    for item in items:
        ok = _decide(item, values, changes) if "items" in item else check_row(item, values, changes)
        if ok and want_any:
            return True
        if not ok and not want_any:
            return False
    return not want_any


def _group(
    spec: dict[str, Any],
    values: dict[str, Any],
    changes: dict[str, Any],
    reasons: list[dict[str, Any]],
    level: int,
) -> bool:
    results: list[bool] = []
    for item in spec.get("items", []):
        if "items" in item:
            results.append(_group(item, values, changes, reasons, level + 1))
            continue
        ok = check_row(item, values, changes)
        reasons.append(
            {
                "field": item["field"],
                "op": item["op"],
                "op_label": str(OPERATORS.get(item["op"], item["op"])),
                "value": item.get("value"),
                "actual": _shown(_lookup(values, item["field"])),
                "passed": ok,
                "level": level,
            }
        )
        results.append(ok)
    if not results:
        return True
    return any(results) if spec.get("match") == "any" else all(results)


def _shown(value: Any) -> Any:
    if isinstance(value, dict):
        return value.get("name") or value.get("username") or value.get("id")
    return value
