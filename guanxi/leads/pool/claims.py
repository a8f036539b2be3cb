"""Claim, release and lock, written once for every pooled kind of record."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core import audit, events, permissions
from guanxi.core.errors import Conflict, FieldError, OutOfScope, ValidationFailed
from guanxi.core.models import AuditEvent
from guanxi.leads.models import PoolEvent, PoolSettings
from guanxi.leads.pool.entities import pool_entity
from guanxi.leads.pool.pools import pool_label, route_owners, visible_q

if TYPE_CHECKING:
    from guanxi.identity.models import User

A = AuditEvent.Action
REASON_MAX = 500


def _pk(record: models.Model | int | str) -> int:
    if isinstance(record, models.Model):
        return int(record.pk)
    try:
        return int(record)
    except (TypeError, ValueError) as exc:
        raise OutOfScope() from exc


def pool_get_for_user(*, actor: User, entity: str, pk: Any) -> Any:
    """A record in one of the pools ``actor`` sees (needs ``view``); OutOfScope otherwise."""
    kind = pool_entity(entity)
    permissions.require(actor, kind.key, "view")
    record = kind.records().filter(visible_q(actor, kind.key)).filter(pk=_pk(pk)).first()
    if record is None:
        raise OutOfScope()
    return record


def claim(
    *, actor: User, entity: str, record: models.Model | int, now: dt.datetime | None = None
) -> Any:
    """Take a record from a pool ``actor`` sees: needs ``edit``, respects the cap on owned
    records and the cool-down after giving the same record up.

    Race-safe: the owner is set with ``UPDATE … WHERE owner_id IS NULL``; whoever loses
    gets a Conflict (409). A record in a pool the actor cannot see is OutOfScope (404).
    """
    kind = pool_entity(entity)
    permissions.require(actor, kind.key, "edit")
    now = now or timezone.now()
    pk = _pk(record)
    current = kind.model._default_manager.filter(pk=pk).first()
    if current is None:
        raise OutOfScope()
    if current.owner_id is not None:  # type: ignore[attr-defined]
        if current.owner_id == actor.pk:  # type: ignore[attr-defined]
            raise Conflict(kind.message("already_own"))
        raise Conflict(kind.message("not_in_pool"))
    if not kind.records().filter(pk=pk).exists():
        raise Conflict(kind.message("closed"))
    if not kind.model._default_manager.filter(visible_q(actor, kind.key), pk=pk).exists():
        raise OutOfScope()
    conf = PoolSettings.current()
    owned = kind.records().filter(owner=actor).count()
    cap = kind.max_owned(conf)
    if owned >= cap:
        raise Conflict(kind.message("cap", count=owned, max=cap))
    since = now - dt.timedelta(days=conf.cooldown_days)
    last_left = (
        PoolEvent.objects.filter(
            **{f"{kind.event_field}_id": pk},
            user=actor,
            kind__in=[PoolEvent.Kind.RELEASE, PoolEvent.Kind.RECLAIM],
            at__gt=since,
        )
        .order_by("-at")
        .first()
    )
    if last_left is not None:
        until = last_left.at + dt.timedelta(days=conf.cooldown_days)
        raise Conflict(
            kind.message("cooldown", date=timezone.localtime(until).strftime("%Y-%m-%d %H:%M"))
        )
    pool_from = current.pool_department_id  # type: ignore[attr-defined]
    why = kind.why(_("Claimed from the public pool by %(user)s") % {"user": actor.label})
    with transaction.atomic():
        won = kind.model._default_manager.filter(
            pk=pk, owner__isnull=True, pool_department_id=pool_from
        ).update(
            owner_id=actor.pk,
            owned_since=now,
            pool_department_id=None,
            pool_locked=False,
            updated_at=now,
            **why,
        )
        if not won:
            raise Conflict(kind.message("race"))
        PoolEvent.objects.create(
            **{f"{kind.event_field}_id": pk}, user=actor, kind=PoolEvent.Kind.CLAIM, at=now
        )
        audit.record(
            actor=actor,
            action=A.CLAIM,
            entity=kind.key,
            object_id=pk,
            object_repr=str(current),
            changes={"owner": [None, actor.pk], "pool": pool_label(pool_from)},
        )
        events.emit(kind.claimed, {"id": pk, "to": actor.pk}, actor_id=actor.pk)
    current.owner_id = actor.pk  # type: ignore[attr-defined]
    current.owned_since = now  # type: ignore[attr-defined]
    current.pool_department_id = None  # type: ignore[attr-defined]
    for name, value in why.items():
        setattr(current, name, value)
    return current


def release(
    *,
    actor: User,
    entity: str,
    record: models.Model | int,
    reason: str,
    now: dt.datetime | None = None,
) -> Any:
    """Give an owned record back with a reason (needs ``edit`` in scope). It goes to the
    pool of the owner's department (nearest ancestor with a pool), else the company pool."""
    kind = pool_entity(entity)
    pk = _pk(record)
    current = permissions.get_for_user(actor, kind.key, pk, "edit")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed([FieldError("reason", _("Give a reason for the release."))])
    if len(reason) > REASON_MAX:
        raise ValidationFailed(
            [FieldError("reason", _("At most %(max)s characters.") % {"max": REASON_MAX})]
        )
    if current.owner_id is None:
        raise Conflict(kind.message("already_pooled"))
    if not kind.records().filter(pk=pk).exists():
        raise Conflict(kind.message("closed"))
    now = now or timezone.now()
    old = current.owner_id
    target = route_owners([old]).get(old)
    label = pool_label(target)
    why = kind.why(
        _("Released to the public pool by %(user)s: %(reason)s")
        % {"user": actor.label, "reason": reason}
    )
    with transaction.atomic():
        moved = kind.model._default_manager.filter(pk=pk, owner_id=old).update(
            owner=None,
            pool_locked=False,
            pool_department_id=target,
            owned_since=None,
            updated_at=now,
            **why,
        )
        if not moved:
            raise Conflict(kind.message("changed"))
        PoolEvent.objects.create(
            **{f"{kind.event_field}_id": pk},
            user_id=old,
            kind=PoolEvent.Kind.RELEASE,
            reason=reason,
            at=now,
        )
        audit.record(
            actor=actor,
            action=A.RELEASE,
            entity=kind.key,
            obj=current,
            changes={"owner": [old, None], "reason": reason, "pool": label},
        )
        events.emit(kind.released, {"id": pk, "from": old, "pool": target}, actor_id=actor.pk)
    current.owner_id = None
    current.owner = None
    current.pool_department_id = target
    current.pool_locked = False
    for name, value in why.items():
        setattr(current, name, value)
    return current


def lock(*, actor: User, entity: str, record: models.Model | int, locked: bool = True) -> Any:
    """Lock an owned record (exempt from reclaim) or unlock it; capped per owner; audited."""
    kind = pool_entity(entity)
    pk = _pk(record)
    current = permissions.get_for_user(actor, kind.key, pk, "edit")
    if current.owner_id is None:
        raise Conflict(kind.message("lock_unowned"))
    if current.pool_locked == locked:
        return current
    with transaction.atomic():
        if locked:
            cap = kind.max_locked(PoolSettings.current())
            count = kind.model._default_manager.filter(
                owner_id=current.owner_id, pool_locked=True
            ).count()
            if count >= cap:
                raise Conflict(kind.message("lock_cap", count=count))
        kind.model._default_manager.filter(pk=pk).update(
            pool_locked=locked, updated_at=timezone.now()
        )
        audit.record(
            actor=actor,
            action=A.UPDATE,
            entity=kind.key,
            obj=current,
            changes={"pool_locked": [not locked, locked]},
        )
    current.pool_locked = locked
    return current
