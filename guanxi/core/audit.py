"""Recording the audit trail. Services call :func:`record` explicitly for every write."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db import models

from guanxi.core import context
from guanxi.core.context import client_ip
from guanxi.core.models import AuditEvent

if TYPE_CHECKING:
    from guanxi.identity.models import User


def _plain(value: Any) -> Any:
    """A JSON-safe rendering of a field value for the change log."""
    if isinstance(value, models.Model):
        return {"id": value.pk, "label": str(value)}
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """Values of ``fields`` on ``obj`` (FKs as ids) for a later :func:`diff`."""
    out: dict[str, Any] = {}
    for name in fields:
        f = obj._meta.get_field(name)
        if isinstance(f, models.ForeignKey):
            out[name] = getattr(obj, f.attname)
        else:
            out[name] = getattr(obj, name)
    return out


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Field-by-field ``{field: [old, new]}`` of what changed; nested dicts (custom) by key."""
    changes: dict[str, list[Any]] = {}
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if key == "custom" and isinstance(old or {}, dict) and isinstance(new or {}, dict):
            # Custom values are listed key by key, also when a record is created or deleted.
            old, new = old or {}, new or {}
            for sub in sorted(set(old) | set(new)):
                if old.get(sub) != new.get(sub):
                    changes[f"custom.{sub}"] = [_plain(old.get(sub)), _plain(new.get(sub))]
        elif old != new:
            changes[key] = [_plain(old), _plain(new)]
    return changes


def record(
    *,
    actor: User | None,
    action: str,
    entity: str,
    obj: models.Model | None = None,
    object_id: Any = "",
    object_repr: str = "",
    changes: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEvent:
    """Append one audit event. The caller's transaction keeps it atomic with the change."""
    if obj is not None:
        object_id = object_id or obj.pk
        object_repr = object_repr or str(obj)
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_label=(
            context.actor_label()
            or (actor.get_username() if actor is not None and actor.is_authenticated else "system")
        )[:150],
        action=action,
        entity=entity,
        object_id=str(object_id or ""),
        object_repr=str(object_repr)[:200],
        changes=_plain(changes or {}),
        ip=ip or client_ip(),
    )


def record_many(events: list[AuditEvent]) -> None:
    """Bulk append (imports, handovers): one INSERT for many records."""
    ip = client_ip()
    for event in events:
        if event.ip is None:
            event.ip = ip
    AuditEvent.objects.bulk_create(events, batch_size=1000)
