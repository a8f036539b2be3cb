"""Data quality (数据治理): how complete records are, per record and per owner, and which
records went stale. Reads only, always through the permission layer.

The important fields per entity default to :data:`IMPORTANT_FIELDS` and can be set with
``GUANXI_IMPORTANT_FIELDS`` in settings (``{"lead": ["mobile", …], …}``).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Sum, Value, When
from django.utils import timezone

from guanxi.core import permissions

if TYPE_CHECKING:
    from guanxi.identity.models import User

IMPORTANT_FIELDS: dict[str, list[str]] = {
    "lead": ["name", "company", "mobile", "email", "source", "city", "industry", "title"],
    "contact": ["name", "account", "mobile", "email", "title", "wechat"],
    "account": ["name", "industry", "city", "province", "address", "tier", "website"],
}


def important_fields(entity_key: str) -> list[str]:
    configured = getattr(settings, "GUANXI_IMPORTANT_FIELDS", {}) or {}
    return list(configured.get(entity_key) or IMPORTANT_FIELDS[entity_key])


def _filled(model: Any, name: str) -> Q:
    field = model._meta.get_field(name)
    if field.is_relation or getattr(field, "null", False):
        return Q(**{f"{field.attname if field.is_relation else name}__isnull": False})
    return ~Q(**{name: ""})


def record_score(obj: Any, entity_key: str) -> int:
    """Percent of the important fields ``obj`` has filled."""
    names = important_fields(entity_key)
    filled = 0
    for name in names:
        field = obj._meta.get_field(name)
        value = getattr(obj, field.attname)
        filled += value not in (None, "", [])
    return round(filled * 100 / len(names)) if names else 100


def _scoped(actor: User, entity_key: str) -> QuerySet[Any]:
    return permissions.scoped_queryset(actor, entity_key)


def owner_ranking(*, actor: User, entity_key: str, limit: int = 20) -> list[dict[str, Any]]:
    """Owners of the records ``actor`` may see, by the completeness of their records
    (数据之星): one aggregate query, best first."""
    qs = _scoped(actor, entity_key)
    model = qs.model
    names = important_fields(entity_key)
    filled = sum(
        (
            Sum(
                Case(When(_filled(model, n), then=Value(1)), default=Value(0)),
                output_field=IntegerField(),
            )
            for n in names
        ),
        Value(0),
    )
    rows = (
        qs.exclude(owner__isnull=True)
        .order_by()
        .values("owner_id", "owner__username", "owner__display_name")
        .annotate(records=Count("id"), filled=filled)
    )
    out = []
    for row in rows:
        possible = row["records"] * len(names)
        out.append(
            {
                "owner_id": row["owner_id"],
                "owner": row["owner__display_name"] or row["owner__username"],
                "records": row["records"],
                "score": round(row["filled"] * 100 / possible) if possible else 100,
            }
        )
    out.sort(key=lambda r: (-r["score"], -r["records"], r["owner"]))
    return out[:limit]


def stale_records(
    *, actor: User, entity_key: str, days: int = 30, limit: int = 50
) -> list[tuple[Any, int]]:
    """Records in scope not updated for ``days`` days, oldest first, with their score."""
    cutoff = timezone.now() - dt.timedelta(days=days)
    qs = _scoped(actor, entity_key).filter(updated_at__lt=cutoff).select_related("owner")
    return [(obj, record_score(obj, entity_key)) for obj in qs.order_by("updated_at")[:limit]]
