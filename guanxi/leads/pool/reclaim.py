"""Reclaim rules: warn owners ahead, move due records back to the pool, preview tomorrow.

Every rule is evaluated set-based: one query finds the records due, then they move in
chunks (one UPDATE per target pool, bulk-inserted pool events and audit entries), so a
first run over 100,000 stale records takes seconds, not minutes. Idempotent: a record in
the pool is never matched again, and a warning goes out once per record and due date.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.core import audit, events, permissions
from guanxi.core.errors import FieldError, NotPermitted, ValidationFailed
from guanxi.core.models import AuditEvent
from guanxi.leads.models import PoolEvent, PoolRule
from guanxi.leads.pool.entities import (
    NO_DEAL,
    NO_FOLLOWUP,
    NOT_CONVERTED,
    NOT_WON,
    PoolEntity,
    pool_entities,
    pool_entity,
)
from guanxi.leads.pool.pools import pool_label, route_owners

if TYPE_CHECKING:
    from guanxi.identity.models import User

A = AuditEvent.Action
CHUNK = 500
TIERS = ("A", "B", "C")


def _held_since(limit: dt.datetime) -> Q:
    """Owned since before ``limit`` (claimed / transferred then, or created then)."""
    return Q(owned_since__lt=limit) | Q(owned_since__isnull=True, created_at__lt=limit)


@dataclass(frozen=True)
class Condition:
    """One kind of reclaim condition: ``q`` finds records of ``kind`` due when the limit
    (``at`` minus the rule's days) is ``limit``; ``clock`` says from when a record's days
    count (its due time is ``clock + days``), reading what ``annotate`` adds."""

    field: str
    reason: Promise
    q: Callable[[PoolEntity, dt.datetime], Q]
    clock: Callable[[Any], dt.datetime]
    annotate: Callable[[PoolEntity], dict[str, Any]] | None = None


def _anchor(obj: Any) -> dt.datetime:
    return obj.owned_since or obj.created_at


def _later(obj: Any, attr: str) -> dt.datetime:
    anchor = _anchor(obj)
    other = getattr(obj, attr, None)
    return max(anchor, other) if other is not None else anchor


def _deals(kind: PoolEntity, **filters: Any) -> QuerySet[Any]:
    from guanxi.sales.models import Deal

    return Deal.objects.filter(**{kind.deal_field: OuterRef("pk")}, **filters)


def _no_deal_q(kind: PoolEntity, limit: dt.datetime) -> Q:
    return _held_since(limit) & Q(~Exists(_deals(kind, created_at__gte=limit)))


def _not_won_q(kind: PoolEntity, limit: dt.datetime) -> Q:
    from guanxi.sales.models import Deal

    return _held_since(limit) & Q(~Exists(_deals(kind, status=Deal.Status.WON, won_at__gte=limit)))


def _last_deal(kind: PoolEntity) -> dict[str, Any]:
    latest = _deals(kind).order_by("-created_at").values("created_at")[:1]
    return {"_last_deal_at": Subquery(latest)}


def _last_won(kind: PoolEntity) -> dict[str, Any]:
    from guanxi.sales.models import Deal

    latest = (
        _deals(kind, status=Deal.Status.WON, won_at__isnull=False)
        .order_by("-won_at")
        .values("won_at")[:1]
    )
    return {"_last_won_at": Subquery(latest)}


CONDITIONS: dict[str, Condition] = {
    NO_FOLLOWUP: Condition(
        NO_FOLLOWUP,
        gettext_lazy("No follow-up for %(days)s days"),
        lambda kind, limit: (
            _held_since(limit)
            & (Q(last_contacted_at__isnull=True) | Q(last_contacted_at__lt=limit))
        ),
        lambda obj: _later(obj, "last_contacted_at"),
    ),
    NOT_CONVERTED: Condition(
        NOT_CONVERTED,
        gettext_lazy("Not converted within %(days)s days"),
        lambda kind, limit: _held_since(limit),
        _anchor,
    ),
    NO_DEAL: Condition(
        NO_DEAL,
        gettext_lazy("No new deal for %(days)s days"),
        _no_deal_q,
        lambda obj: _later(obj, "_last_deal_at"),
        _last_deal,
    ),
    NOT_WON: Condition(
        NOT_WON,
        gettext_lazy("No deal won for %(days)s days"),
        _not_won_q,
        lambda obj: _later(obj, "_last_won_at"),
        _last_won,
    ),
}


def _kind(rule: PoolRule) -> PoolEntity:
    return pool_entity(rule.entity)


def _conditions(rule: PoolRule) -> list[tuple[Condition, int]]:
    kind = _kind(rule)
    return [
        (CONDITIONS[name], int(days))
        for name in kind.conditions
        if (days := getattr(rule, name, None))
    ]


def rule_queryset(rule: PoolRule, at: dt.datetime) -> QuerySet[Any] | None:
    """Owned, unlocked records that ``rule`` reclaims at ``at``; None: the rule is empty."""
    kind = _kind(rule)
    conds = Q()
    for cond, days in _conditions(rule):
        conds |= cond.q(kind, at - dt.timedelta(days=days))
    if not conds:
        return None
    qs = kind.records().filter(owner__isnull=False, pool_locked=False).filter(conds)
    if rule.department is not None:
        qs = qs.filter(owner__department__path__startswith=rule.department.path)
    if kind.tiered and rule.tiers:
        qs = qs.filter(tier__in=list(rule.tiers))
    return qs


def _due(rule: PoolRule, obj: Any) -> list[tuple[dt.datetime, Condition, int]]:
    """When each of the rule's conditions falls due for ``obj``, earliest first."""
    return sorted(
        (
            (cond.clock(obj) + dt.timedelta(days=days), cond, days)
            for cond, days in _conditions(rule)
        ),
        key=lambda item: item[0],
    )


def reason_of(rule: PoolRule, obj: Any, at: dt.datetime) -> str:
    """Why ``rule`` reclaims ``obj`` at ``at``, e.g. "No follow-up for 30 days"."""
    parts = [str(cond.reason) % {"days": days} for due, cond, days in _due(rule, obj) if due <= at]
    return "; ".join(parts) or rule.name


def active_rules(entity: str | None = "lead") -> list[PoolRule]:
    qs = PoolRule.objects.filter(active=True).select_related("department").order_by("pk")
    if entity is not None:
        qs = qs.filter(entity=entity)
    return list(qs)


def _annotated(rule: PoolRule, qs: QuerySet[Any]) -> QuerySet[Any]:
    """``qs`` with what the rule's clocks read (the latest deal dates, when they matter)."""
    kind = _kind(rule)
    extra: dict[str, Any] = {}
    for cond, _days in _conditions(rule):
        if cond.annotate is not None:
            extra.update(cond.annotate(kind))
    return qs.annotate(**extra) if extra else qs


def _fields(kind: PoolEntity) -> list[str]:
    names = ["id", "owner", "owned_since", "created_at", "last_contacted_at", "name"]
    if kind.key == "lead":
        names.append("company")
    return names


@dataclass
class Preview:
    at: dt.datetime
    count: int
    ids: list[int] = field(default_factory=list)
    records: list[Any] = field(default_factory=list)
    by_rule: dict[int, int] = field(default_factory=dict)
    entity: str = "lead"

    @property
    def leads(self) -> list[Any]:
        return self.records


def reclaim_preview(
    *,
    entity: str = "lead",
    at: dt.datetime | None = None,
    limit: int = 50,
    rule: PoolRule | None = None,
) -> Preview:
    """The records of ``entity`` the rules would reclaim at ``at`` (default: this time
    tomorrow). ``count`` and ``ids`` cover all of them; ``records`` holds the first
    ``limit`` (0: none), with their owners."""
    kind = pool_entity(entity)
    at = at or timezone.now() + dt.timedelta(days=1)
    rules = [rule] if rule is not None else active_rules(kind.key)
    ids: set[int] = set()
    by_rule: dict[int, int] = {}
    for r in rules:
        qs = rule_queryset(r, at)
        if qs is None:
            continue
        rule_ids = set(qs.values_list("pk", flat=True))
        by_rule[r.pk] = len(rule_ids)
        ids |= rule_ids
    ordered = sorted(ids)
    records = (
        list(
            kind.model._default_manager.filter(pk__in=ordered[:limit])
            .select_related("owner")
            .order_by("pk")
        )
        if limit
        else []
    )
    return Preview(
        at=at, count=len(ids), ids=ordered, records=records, by_rule=by_rule, entity=kind.key
    )


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _warn(rule: PoolRule, now: dt.datetime) -> int:
    """Tell owners K days ahead that a record will be reclaimed: once per record and due
    time (a follow-up moves the due time, so a later warning is a new occasion)."""
    from guanxi.activities.services import notification_create

    if not rule.warn_days_before:
        return 0
    kind = _kind(rule)
    ahead = rule_queryset(rule, now + dt.timedelta(days=rule.warn_days_before))
    due_now = rule_queryset(rule, now)
    if ahead is None or due_now is None:
        return 0
    # Records already due are reclaimed in this run; warning them would be noise.
    ids = list(
        ahead.exclude(pk__in=due_now.values("pk")).order_by("pk").values_list("pk", flat=True)
    )
    sent = 0
    fk = kind.event_field
    for chunk in _chunks(ids):
        objs: list[Any] = list(
            _annotated(rule, kind.model._default_manager.filter(pk__in=chunk))
            .select_related("owner")
            .order_by("pk")
        )
        seen = set(
            PoolEvent.objects.filter(
                kind=PoolEvent.Kind.WARN, **{f"{fk}_id__in": chunk}
            ).values_list(f"{fk}_id", "occasion")
        )
        with transaction.atomic():
            for obj in objs:
                due = _due(rule, obj)[0][0]
                occasion = f"r{rule.pk}:o{obj.owner_id}:{int(due.timestamp())}"
                if (obj.pk, occasion) in seen:
                    continue
                try:
                    with transaction.atomic():
                        PoolEvent.objects.create(
                            **{f"{fk}_id": obj.pk},
                            user_id=obj.owner_id,
                            kind=PoolEvent.Kind.WARN,
                            rule=rule,
                            occasion=occasion,
                            reason=rule.name,
                            at=now,
                        )
                except IntegrityError:  # a concurrent run warned first
                    continue
                days = max(math.ceil((due - now).total_seconds() / 86400), 1)
                notification_create(
                    recipient=obj.owner,
                    verb="pool_warning",
                    title=kind.message("warn_title", name=str(obj), days=days),
                    body=_("Rule: %(rule)s. Follow it up to keep it.") % {"rule": rule.name},
                    url=reverse(kind.detail_url, args=[obj.pk]),
                    target_entity=kind.key,
                    target_id=obj.pk,
                    now=now,
                )
                sent += 1
    return sent


def _reclaim_rule(rule: PoolRule, now: dt.datetime) -> int:
    kind = _kind(rule)
    qs = rule_queryset(rule, now)
    if qs is None:
        return 0
    ids = list(qs.order_by("pk").values_list("pk", flat=True))
    fk = kind.event_field
    moved = 0
    for chunk in _chunks(ids):
        with transaction.atomic():
            # Re-check inside the transaction (rows locked on PostgreSQL; SQLite's
            # IMMEDIATE transactions already keep other writers out): a record claimed,
            # followed up or transferred meanwhile is no longer due.
            current = rule_queryset(rule, now)
            assert current is not None
            locked = list(
                current.filter(pk__in=chunk)
                .select_for_update(of=("self",))
                .values_list("pk", flat=True)
            )
            objs = list(
                _annotated(rule, kind.model._default_manager.filter(pk__in=locked))
                .only(*_fields(kind))
                .order_by("pk")
            )
            if not objs:
                continue
            targets = route_owners(o.owner_id for o in objs)
            groups: dict[int | None, list[int]] = defaultdict(list)
            for obj in objs:
                groups[targets.get(obj.owner_id)].append(obj.pk)
            for target, pks in groups.items():
                kind.model._default_manager.filter(pk__in=pks).update(
                    owner=None,
                    pool_department_id=target,
                    owned_since=None,
                    pool_locked=False,
                    updated_at=now,
                    **kind.why(
                        _("Reclaimed to the public pool by rule “%(rule)s”") % {"rule": rule.name}
                    ),
                )
            labels = {t: pool_label(t) for t in groups}
            pool_events: list[PoolEvent] = []
            audits: list[AuditEvent] = []
            for obj in objs:
                reason = reason_of(rule, obj, now)
                target = targets.get(obj.owner_id)
                pool_events.append(
                    PoolEvent(
                        **{f"{fk}_id": obj.pk},
                        user_id=obj.owner_id,
                        kind=PoolEvent.Kind.RECLAIM,
                        rule=rule,
                        reason=reason,
                        at=now,
                    )
                )
                audits.append(
                    AuditEvent(
                        actor=None,
                        actor_label="system",
                        action=A.RECLAIM,
                        entity=kind.key,
                        object_id=str(obj.pk),
                        object_repr=str(obj)[:200],
                        changes={
                            "owner": [obj.owner_id, None],
                            "rule": rule.name,
                            "rule_id": rule.pk,
                            "reason": reason,
                            "pool": labels[target],
                        },
                    )
                )
                events.emit(
                    kind.reclaimed,
                    {"id": obj.pk, "from": obj.owner_id, "rule": rule.pk, "pool": target},
                )
            PoolEvent.objects.bulk_create(pool_events)
            audit.record_many(audits)
            moved += len(objs)
    return moved


def reclaim_due(now: dt.datetime | None = None, *, entity: str | None = None) -> int:
    """Run every active rule (of ``entity``, or of every kind): warn owners ahead, then
    move the due records to their pools. Returns how many records were reclaimed."""
    now = now or timezone.now()
    moved = 0
    for rule in active_rules(entity):
        _warn(rule, now)
        moved += _reclaim_rule(rule, now)
    return moved


def rule_save(*, actor: User, rule: PoolRule) -> PoolRule:
    """Create or change a reclaim rule (administrators only; validated; audited)."""
    if not permissions.is_admin(actor):
        raise NotPermitted()
    errors: list[FieldError] = []
    if not rule.name.strip():
        errors.append(FieldError("name", _("This field is required.")))
    kinds = {k.key for k in pool_entities()}
    if rule.entity not in kinds:
        errors.append(FieldError("entity", _("Choose leads or accounts.")))
    else:
        kind = pool_entity(rule.entity)
        for name in CONDITIONS:
            if getattr(rule, name, None) and name not in kind.conditions:
                errors.append(
                    FieldError(name, _("This limit does not apply to this kind of record."))
                )
        if not any(getattr(rule, name, None) for name in kind.conditions):
            errors.append(FieldError(kind.conditions[0], _("Set at least one of the day limits.")))
        tiers = list(rule.tiers or [])
        if tiers and not kind.tiered:
            errors.append(
                FieldError("tiers", _("Only rules for accounts can be limited to tiers."))
            )
        elif any(t not in TIERS for t in tiers) or len(set(tiers)) != len(tiers):
            errors.append(FieldError("tiers", _("Tiers are A, B and C, each at most once.")))
        rule.tiers = sorted(tiers)
    if errors:
        raise ValidationFailed(errors)
    created = rule.pk is None
    with transaction.atomic():
        rule.save()
        audit.record(
            actor=actor,
            action=A.CREATE if created else A.UPDATE,
            entity="pool_rule",
            obj=rule,
            changes={
                "name": rule.name,
                "entity": rule.entity,
                "active": rule.active,
                "department": rule.department_id,
                "tiers": rule.tiers,
                **{name: getattr(rule, name, None) for name in CONDITIONS},
                "warn_days_before": rule.warn_days_before,
            },
        )
    return rule
