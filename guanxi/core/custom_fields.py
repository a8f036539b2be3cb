"""Custom fields: definitions per entity, validation of the ``custom`` JSON on every write,
and filtering / sorting of lists by custom values (JSON lookups that work on SQLite and
PostgreSQL alike)."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import connections
from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from guanxi.core.errors import FieldError, ValidationFailed
from guanxi.core.models import CustomField

_CACHE_KEY = "custom-fields:v1:{entity}"
_PHONE_RE = re.compile(r"^[+()\d\s\-转extEXT.#]{5,40}$")


def definitions(entity: str) -> list[CustomField]:
    """Active field definitions of ``entity`` in display order (cached; cleared on change)."""
    key = _CACHE_KEY.format(entity=entity)
    fields: list[CustomField] | None = cache.get(key)
    if fields is None:
        fields = list(
            CustomField.objects.filter(entity=entity, active=True).order_by("position", "id")
        )
        cache.set(key, fields, 300)
    return fields


def forget_definitions(entity: str) -> None:
    cache.delete(_CACHE_KEY.format(entity=entity))


def _coerce(field: CustomField, value: Any) -> Any:
    kind = field.kind
    K = CustomField.Kind  # noqa: N806
    if kind in (K.TEXT, K.LONG_TEXT):
        text = str(value).strip()
        if kind == K.TEXT and len(text) > 500:
            raise ValueError(_("At most 500 characters (this has %(n)d).") % {"n": len(text)})
        return text
    if kind == K.NUMBER:
        if isinstance(value, bool):
            raise ValueError(_("Enter a whole number."))
        try:
            number = Decimal(str(value).strip().replace(",", ""))
        except InvalidOperation as exc:
            raise ValueError(_("Enter a whole number.")) from exc
        # "Infinity" would otherwise pass and then overflow int().
        if not number.is_finite() or number != number.to_integral_value():
            raise ValueError(_("Enter a whole number."))
        return int(number)
    if kind == K.DECIMAL:
        try:
            number = Decimal(str(value).strip().replace(",", ""))
        except InvalidOperation as exc:
            raise ValueError(_("Enter a number.")) from exc
        if not number.is_finite():
            raise ValueError(_("Enter a number."))
        return str(number)
    if kind == K.DATE:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value.isoformat()
        parsed = parse_date(str(value).strip())
        if parsed is None:
            raise ValueError(_("Enter a date as YYYY-MM-DD."))
        return parsed.isoformat()
    if kind == K.DATETIME:
        if isinstance(value, dt.datetime):
            parsed_dt: dt.datetime | None = value
        else:
            parsed_dt = parse_datetime(str(value).strip())
        if parsed_dt is None:
            raise ValueError(_("Enter a date and time as YYYY-MM-DDTHH:MM with a time zone."))
        if parsed_dt.tzinfo is None:
            from django.utils import timezone

            parsed_dt = timezone.make_aware(parsed_dt)
        return parsed_dt.astimezone(dt.UTC).isoformat()
    if kind == K.SELECT:
        allowed = {str(o.get("value")) for o in field.options}
        if str(value) not in allowed:
            raise ValueError(
                _("Choose one of: %(options)s.") % {"options": ", ".join(sorted(allowed))}
            )
        return str(value)
    if kind == K.MULTI_SELECT:
        values = (
            value if isinstance(value, list) else [v for v in str(value).split(",") if v.strip()]
        )
        allowed = {str(o.get("value")) for o in field.options}
        bad = [str(v) for v in values if str(v).strip() not in allowed]
        if bad:
            raise ValueError(_("Not an option: %(bad)s.") % {"bad": ", ".join(bad)})
        return sorted({str(v).strip() for v in values})
    if kind == K.USER:
        from guanxi.identity.models import User

        try:
            user_id = int(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(_("Enter a user id.")) from exc
        if not User.objects.filter(pk=user_id).exists():
            raise ValueError(_("No such user."))
        return user_id
    if kind == K.BOOLEAN:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"1", "true", "yes", "y", "on", "是", "对", "✓"}:
            return True
        if text in {"0", "false", "no", "n", "off", "否", "不", ""}:
            return False
        raise ValueError(_("Enter yes or no."))
    if kind == K.URL:
        text = str(value).strip()
        try:
            URLValidator()(text)
        except ValidationError as exc:
            raise ValueError(_("Enter a valid URL.")) from exc
        return text
    if kind == K.EMAIL:
        text = str(value).strip()
        try:
            EmailValidator()(text)
        except ValidationError as exc:
            raise ValueError(_("Enter a valid e-mail address.")) from exc
        return text
    if kind == K.PHONE:
        text = str(value).strip()
        if not _PHONE_RE.match(text) or sum(c.isdigit() for c in text) < 5:
            raise ValueError(_("Enter a valid phone number."))
        return text
    return value


def coerce(field: CustomField, value: Any) -> Any:
    """One value of ``field`` as stored (raises ValueError with a user-facing message)."""
    return _coerce(field, value)


def validate(
    entity: str,
    data: dict[str, Any] | None,
    *,
    current: dict[str, Any] | None = None,
    partial: bool = False,
) -> dict[str, Any]:
    """Validate and normalise custom values for ``entity``.

    ``current`` holds the stored values (for partial updates). Unknown keys and invalid
    values raise ValidationFailed naming ``custom.<key>``; nothing is silently dropped.
    Returns the complete new ``custom`` dict.
    """
    data = dict(data or {})
    fields = {f.key: f for f in definitions(entity)}
    result = dict(current or {}) if partial else {}
    if not partial and current:
        # Keep values of fields that were deactivated: they are hidden, not lost.
        result.update({k: v for k, v in current.items() if k not in fields})
    errors: list[FieldError] = []
    for key, value in data.items():
        field = fields.get(key)
        if field is None:
            errors.append(FieldError(f"custom.{key}", _("Unknown custom field.")))
            continue
        if value is None or value == "" or value == []:
            result.pop(key, None)
            continue
        try:
            result[key] = _coerce(field, value)
        except ValueError as exc:
            errors.append(FieldError(f"custom.{key}", str(exc)))
    for key, field in fields.items():
        if field.required and result.get(key) in (None, "", []):
            errors.append(FieldError(f"custom.{key}", _("This field is required.")))
    if errors:
        raise ValidationFailed(errors)
    return result


def _json_list_has(qs: QuerySet[Any], lookup: str, value: str) -> Q:
    """``lookup`` (a JSON list) contains ``value``, on either database.

    PostgreSQL has JSON containment. SQLite has none, and stores non-ASCII characters
    escaped (json.dumps' default), so match the escaped, quoted element in the text.
    """
    if connections[qs.db].vendor == "postgresql":
        return Q(**{f"{lookup}__contains": [value]})
    return Q(**{f"{lookup}__icontains": json.dumps(value)})


def filter_queryset(qs: QuerySet[Any], entity: str, filters: dict[str, Any]) -> QuerySet[Any]:
    """Filter by custom values: ``{"region": "east", "budget__gte": "100"}``.

    Only keys of defined fields are accepted (a typo is an error, not an empty list).
    """
    fields = {f.key: f for f in definitions(entity)}
    for raw_key, value in filters.items():
        key, _sep, op = raw_key.partition("__")
        field = fields.get(key)
        if field is None:
            raise ValidationFailed([FieldError(f"custom.{key}", _("Unknown custom field."))])
        if op not in ("", "gte", "lte", "contains"):
            raise ValidationFailed([FieldError(f"custom.{raw_key}", _("Unknown operator."))])
        K = CustomField.Kind  # noqa: N806
        if field.kind == K.MULTI_SELECT and not op:
            qs = qs.filter(_json_list_has(qs, f"custom__{key}", str(value)))
            continue
        if op == "contains" or (field.kind in (K.TEXT, K.LONG_TEXT) and not op):
            qs = qs.filter(**{f"custom__{key}__icontains": str(value)})
            continue
        try:
            coerced = _coerce(field, value)
        except ValueError as exc:
            raise ValidationFailed([FieldError(f"custom.{key}", str(exc))]) from exc
        if field.kind == K.DECIMAL:
            # Decimals are stored as strings; compare numerically.
            annotated = f"_cf_{key}"
            qs = qs.annotate(**{annotated: _decimal_of(key)})
            qs = qs.filter(**{f"{annotated}__{op or 'exact'}": Decimal(coerced)})
            continue
        lookup = f"custom__{key}" + (f"__{op}" if op else "")
        qs = qs.filter(**{lookup: coerced})
    return qs


def _decimal_of(key: str) -> Any:
    """The numeric value of a decimal custom field (stored as a string)."""
    from django.db.models import DecimalField
    from django.db.models.fields.json import KeyTextTransform
    from django.db.models.functions import Cast

    return Cast(KeyTextTransform(key, "custom"), DecimalField(max_digits=30, decimal_places=10))


def order_by_custom(
    qs: QuerySet[Any], entity: str, key: str, descending: bool = False
) -> QuerySet[Any]:
    fields = {f.key: f for f in definitions(entity)}
    if key not in fields:
        raise ValidationFailed([FieldError("sort", _("Unknown custom field."))])
    from django.db.models import F

    # Decimals are stored as strings: sort them as numbers, not text ("10" > "9").
    expr = _decimal_of(key) if fields[key].kind == CustomField.Kind.DECIMAL else F(f"custom__{key}")
    return qs.order_by(
        expr.desc(nulls_last=True) if descending else expr.asc(nulls_last=True), "-id"
    )


def display(entity: str, values: dict[str, Any]) -> list[tuple[CustomField, str]]:
    """(definition, display text) pairs for a record's custom values, in field order."""
    out: list[tuple[CustomField, str]] = []
    for field in definitions(entity):
        value = values.get(field.key)
        if value in (None, "", []):
            continue
        if field.kind == CustomField.Kind.SELECT:
            text = field.option_label(str(value))
        elif field.kind == CustomField.Kind.MULTI_SELECT:
            text = "、".join(field.option_label(str(v)) for v in value or [])
        elif field.kind == CustomField.Kind.BOOLEAN:
            text = _("Yes") if value else _("No")
        else:
            text = str(value)
        out.append((field, text))
    return out
