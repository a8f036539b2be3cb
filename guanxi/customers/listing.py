"""Read helpers shared by the lead, account and contact selectors: search box, filters,
sorting and the common parts of the JSON shape (DESIGN §3)."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from guanxi.core import custom_fields, normalize
from guanxi.core.errors import FieldError, ValidationFailed

_LATIN = re.compile(r"^[A-Za-z][A-Za-z\s]*$")
_DIGITS = re.compile(r"^[\d\s\-+()]+$")


def search_q(q: str, *, text_fields: list[str], contact_points: bool = True) -> Q | None:
    """The filter for the search box: name / company text, pinyin and initials, phone
    (any format, or its last 4+ digits) and e-mail."""
    q = (q or "").strip()
    if not q:
        return None
    if contact_points and "@" in q:
        return Q(email_norm__startswith=q.lower())
    if contact_points and _DIGITS.match(q):
        digits = re.sub(r"\D", "", q)
        try:
            parsed = normalize.phone(q)
        except normalize.InvalidValue:
            parsed = None
        if parsed is not None:
            return Q(mobile_e164=parsed.e164) | Q(phone_e164=parsed.e164)
        if len(digits) >= 4:
            return Q(mobile_e164__endswith=digits) | Q(phone_e164__endswith=digits)
    cond = Q()
    for name in text_fields:
        cond |= Q(**{f"{name}__icontains": q})
    if _LATIN.match(q):
        key = re.sub(r"\s+", "", q).lower()
        cond |= Q(name_pinyin__startswith=key) | Q(name_initials__startswith=key)
    return cond


def json_list_has(field: str, value: str) -> Q:
    """``value`` is an element of the JSON list in ``field``.

    PostgreSQL: jsonb containment. SQLite stores JSON with non-ASCII characters escaped
    (``"\\u6f14"``), so match the element's JSON text as stored.
    """
    if connection.vendor == "postgresql":
        return Q(**{f"{field}__contains": [value]})
    return Q(**{f"{field}__icontains": json.dumps(value)})


def _when(value: Any, field: str, end: bool = False) -> dt.datetime | dt.date:
    if isinstance(value, dt.datetime | dt.date):
        return value
    text = str(value).strip()
    parsed = parse_datetime(text)
    if parsed is not None:
        return parsed
    day = parse_date(text)
    if day is None:
        raise ValidationFailed([FieldError(field, _("Enter a date (YYYY-MM-DD)."))])
    return day


def apply_filters(
    qs: QuerySet[Any], *, entity_key: str, filters: dict[str, Any], actor_id: int
) -> QuerySet[Any]:
    """Common filters: owner (id, "me", "none"), tag, city, created_from / created_to,
    custom (``{"key": value, "key__gte": value}``) and plain equality for the rest."""
    for name, value in filters.items():
        if value in (None, "", []):
            continue
        if name == "owner":
            if str(value) == "me":
                qs = qs.filter(owner_id=actor_id)
            elif str(value) == "none":
                qs = qs.filter(owner__isnull=True)
            else:
                try:
                    qs = qs.filter(owner_id=int(value))
                except (TypeError, ValueError) as exc:
                    raise ValidationFailed(
                        [FieldError("owner", _("Enter a user id, 'me' or 'none'."))]
                    ) from exc
        elif name == "tag":
            qs = qs.filter(json_list_has("tags", str(value)))
        elif name == "created_from":
            when = _when(value, name)
            lookup = "created_at__gte" if isinstance(when, dt.datetime) else "created_at__date__gte"
            qs = qs.filter(**{lookup: when})
        elif name == "created_to":
            when = _when(value, name)
            lookup = "created_at__lte" if isinstance(when, dt.datetime) else "created_at__date__lte"
            qs = qs.filter(**{lookup: when})
        elif name == "custom":
            qs = custom_fields.filter_queryset(qs, entity_key, dict(value))
        else:
            qs = qs.filter(**{name: value})
    return qs


def apply_sort(
    qs: QuerySet[Any], *, entity_key: str, sort: str, allowed: set[str]
) -> QuerySet[Any]:
    """``sort`` is a field name, ``-`` for descending, ``custom.<key>`` for custom values."""
    sort = (sort or "-created_at").strip()
    descending = sort.startswith("-")
    name = sort.lstrip("-")
    if name.startswith("custom."):
        return custom_fields.order_by_custom(qs, entity_key, name[7:], descending)
    if name not in allowed:
        raise ValidationFailed(
            [FieldError("sort", _("Sort by one of: %(f)s.") % {"f": ", ".join(sorted(allowed))})]
        )
    if name == "name":
        name = "name_pinyin"
    if name in ("created_at", "updated_at", "score"):
        return qs.order_by(f"-{name}" if descending else name, "-id" if descending else "id")
    field = qs.model._meta.get_field(name)
    if field.null:
        from django.db.models import F

        expr = F(name).desc(nulls_last=True) if descending else F(name).asc(nulls_last=True)
        return qs.order_by(expr, "-id")
    return qs.order_by(f"-{name}" if descending else name, "-id")


def iso(value: dt.datetime | dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def base_dict(obj: Any) -> dict[str, Any]:
    """id, times, owner ({id, username} or None) and custom values."""
    owner = obj.owner if obj.owner_id else None
    return {
        "id": obj.pk,
        "created_at": iso(obj.created_at),
        "updated_at": iso(obj.updated_at),
        "owner": {"id": owner.pk, "username": owner.username} if owner is not None else None,
        "custom": dict(obj.custom or {}),
    }


def contact_points(obj: Any) -> dict[str, Any]:
    """Phones as entered plus E.164, e-mail as entered."""
    return {
        "mobile": obj.mobile,
        "mobile_e164": obj.mobile_e164,
        "phone": obj.phone,
        "phone_e164": obj.phone_e164,
        "phone_ext": obj.phone_ext,
        "email": obj.email,
    }
