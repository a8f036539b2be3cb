"""The public pool (公海) of leads: claim, release, reclaim rules and their preview."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core import audit, events, permissions
from guanxi.core.errors import Conflict, FieldError, NotPermitted, OutOfScope, ValidationFailed
from guanxi.core.models import AuditEvent
from guanxi.leads.models import Lead, PoolEvent, PoolRule, PoolSettings

if TYPE_CHECKING:
    from guanxi.identity.models import User

LEAD_CLAIMED = events.define("lead.claimed", "A lead was claimed from the public pool")
LEAD_RELEASED = events.define("lead.released", "A lead was released to the public pool")
LEAD_RECLAIMED = events.define("lead.reclaimed", "A lead was reclaimed to the public pool")

A = AuditEvent.Action


def pool_queryset() -> QuerySet[Lead]:
    """Leads in the public pool (no owner, not converted)."""
    return Lead.objects.filter(owner__isnull=True).exclude(status=Lead.Status.CONVERTED)


def lead_claim(*, actor: User, lead: Lead | int, now: dt.datetime | None = None) -> Lead:
    """Take a pool lead: needs ``edit`` on leads, respects the owned cap and the cool-down.

    Race-safe: the owner is set with ``UPDATE … WHERE owner_id IS NULL``; whoever loses
    gets a Conflict (409).
    """
    permissions.require(actor, "lead", "edit")
    now = now or timezone.now()
    pk = lead.pk if isinstance(lead, Lead) else int(lead)
    current = Lead.objects.filter(pk=pk).first()
    if current is None:
        raise OutOfScope()
    if current.owner_id is not None:
        if current.owner_id == actor.pk:
            raise Conflict(_("You already own this lead."))
        raise Conflict(_("This lead is not in the public pool (already claimed)."))
    if current.status == Lead.Status.CONVERTED:
        raise Conflict(_("This lead has been converted."))
    conf = PoolSettings.current()
    owned = Lead.objects.filter(owner=actor).exclude(status=Lead.Status.CONVERTED).count()
    if owned >= conf.max_owned:
        raise Conflict(
            _("You already own %(count)s leads, the most allowed (%(max)s); release some first.")
            % {"count": owned, "max": conf.max_owned}
        )
    since = now - dt.timedelta(days=conf.cooldown_days)
    last_left = (
        PoolEvent.objects.filter(
            lead_id=pk,
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
            _("You gave this lead up recently; you can claim it again after %(date)s.")
            % {"date": timezone.localtime(until).strftime("%Y-%m-%d %H:%M")}
        )
    with transaction.atomic():
        reason = _("Claimed from the public pool by %(user)s") % {"user": actor.label}
        won = Lead.objects.filter(pk=pk, owner__isnull=True).update(
            owner_id=actor.pk, updated_at=now, assigned_reason=reason
        )
        if not won:
            raise Conflict(_("Someone else has just claimed this lead."))
        PoolEvent.objects.create(lead_id=pk, user=actor, kind=PoolEvent.Kind.CLAIM, at=now)
        audit.record(
            actor=actor,
            action=A.CLAIM,
            entity="lead",
            object_id=pk,
            object_repr=str(current),
            changes={"owner": [None, actor.pk]},
        )
        events.emit(LEAD_CLAIMED, {"id": pk, "to": actor.pk}, actor_id=actor.pk)
    current.owner_id = actor.pk
    current.assigned_reason = reason
    return current


def lead_release(
    *, actor: User, lead: Lead | int, reason: str, now: dt.datetime | None = None
) -> Lead:
    """Give an owned lead back to the pool with a reason (needs ``edit`` in scope)."""
    pk = lead.pk if isinstance(lead, Lead) else int(lead)
    current: Lead = permissions.get_for_user(actor, "lead", pk, "edit")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed([FieldError("reason", _("Give a reason for the release."))])
    if current.owner_id is None:
        raise Conflict(_("This lead is already in the public pool."))
    if current.status == Lead.Status.CONVERTED:
        raise Conflict(_("This lead has been converted."))
    now = now or timezone.now()
    old = current.owner_id
    with transaction.atomic():
        why = _("Released to the public pool by %(user)s: %(reason)s") % {
            "user": actor.label,
            "reason": reason,
        }
        moved = Lead.objects.filter(pk=pk, owner_id=old).update(
            owner=None, pool_locked=False, updated_at=now, assigned_reason=why
        )
        if not moved:
            raise Conflict(_("This lead has just changed owner; reload and try again."))
        PoolEvent.objects.create(
            lead_id=pk, user_id=old, kind=PoolEvent.Kind.RELEASE, reason=reason, at=now
        )
        audit.record(
            actor=actor,
            action=A.RELEASE,
            entity="lead",
            obj=current,
            changes={"owner": [old, None], "reason": reason},
        )
        events.emit(LEAD_RELEASED, {"id": pk, "from": old}, actor_id=actor.pk)
    current.owner_id = None
    current.assigned_reason = why
    return current


def lead_lock(*, actor: User, lead: Lead | int, locked: bool = True) -> Lead:
    """Lock an owned lead (exempt from reclaim) or unlock it; capped per owner; audited."""
    pk = lead.pk if isinstance(lead, Lead) else int(lead)
    current: Lead = permissions.get_for_user(actor, "lead", pk, "edit")
    if current.owner_id is None:
        raise Conflict(_("Only an owned lead can be locked."))
    if current.pool_locked == locked:
        return current
    with transaction.atomic():
        if locked:
            conf = PoolSettings.current()
            count = Lead.objects.filter(owner_id=current.owner_id, pool_locked=True).count()
            if count >= conf.max_locked:
                raise Conflict(
                    _("The owner already has %(count)s locked leads, the most allowed.")
                    % {"count": count}
                )
        Lead.objects.filter(pk=pk).update(pool_locked=locked, updated_at=timezone.now())
        audit.record(
            actor=actor,
            action=A.UPDATE,
            entity="lead",
            obj=current,
            changes={"pool_locked": [not locked, locked]},
        )
    current.pool_locked = locked
    return current


def _rule_queryset(rule: PoolRule, cutoff_now: dt.datetime) -> QuerySet[Lead] | None:
    """Owned, unconverted leads that ``rule`` reclaims at ``cutoff_now``; None: rule is empty."""
    conds = Q()
    if rule.no_followup_days:
        limit = cutoff_now - dt.timedelta(days=rule.no_followup_days)
        conds |= Q(_last_touch__lt=limit)
    if rule.not_converted_days:
        limit = cutoff_now - dt.timedelta(days=rule.not_converted_days)
        conds |= Q(created_at__lt=limit)
    if not conds:
        return None
    qs = (
        Lead.objects.filter(owner__isnull=False, pool_locked=False)
        .exclude(status=Lead.Status.CONVERTED)
        .annotate(_last_touch=Coalesce("last_contacted_at", "created_at"))
        .filter(conds)
    )
    if rule.department_id is not None:
        qs = qs.filter(owner__department_id=rule.department_id)
    return qs


def _active_rules() -> list[PoolRule]:
    return list(PoolRule.objects.filter(active=True, entity="lead").order_by("pk"))


@dataclass
class Preview:
    at: dt.datetime
    count: int
    ids: list[int] = field(default_factory=list)
    leads: list[Lead] = field(default_factory=list)
    by_rule: dict[int, int] = field(default_factory=dict)


def reclaim_preview(
    *, at: dt.datetime | None = None, limit: int = 50, rule: PoolRule | None = None
) -> Preview:
    """The leads that the rules would reclaim at ``at`` (default: this time tomorrow).

    ``count`` and ``ids`` cover all of them; ``leads`` holds the first ``limit`` (0: none).
    """
    at = at or timezone.now() + dt.timedelta(days=1)
    rules = [rule] if rule is not None else _active_rules()
    ids: set[int] = set()
    by_rule: dict[int, int] = {}
    for r in rules:
        qs = _rule_queryset(r, at)
        if qs is None:
            continue
        rule_ids = set(qs.values_list("pk", flat=True))
        by_rule[r.pk] = len(rule_ids)
        ids |= rule_ids
    ordered = sorted(ids)
    leads = (
        list(Lead.objects.filter(pk__in=ordered[:limit]).select_related("owner").order_by("pk"))
        if limit
        else []
    )
    return Preview(at=at, count=len(ids), ids=ordered, leads=leads, by_rule=by_rule)


def _warn(rule: PoolRule, now: dt.datetime) -> int:
    """Tell owners K days ahead that a lead will be reclaimed; once per lead + occasion."""
    from guanxi.activities.services import notify

    if not rule.warn_days_before:
        return 0
    qs = _rule_queryset(rule, now + dt.timedelta(days=rule.warn_days_before))
    due_now = _rule_queryset(rule, now)
    if qs is None or due_now is None:
        return 0
    # Leads already due are reclaimed in this run; warning them would be noise.
    qs = qs.exclude(pk__in=due_now.values("pk"))
    sent = 0
    for lead in qs.select_related("owner").order_by("pk"):
        # The occasion is this ownership period: a new claim gets a new warning.
        occasion = f"rule{rule.pk}:owner{lead.owner_id}:{lead.last_contacted_at or ''}"[:80]
        try:
            with transaction.atomic():
                PoolEvent.objects.create(
                    lead=lead,
                    user_id=lead.owner_id,
                    kind=PoolEvent.Kind.WARN,
                    rule=rule,
                    occasion=occasion,
                    reason=rule.name,
                    at=now,
                )
        except IntegrityError:
            continue
        assert lead.owner is not None
        notify(
            recipient=lead.owner,
            verb="pool_warning",
            title=_("Lead %(name)s goes back to the public pool in %(days)s days")
            % {"name": str(lead), "days": rule.warn_days_before},
            body=_("Rule: %(rule)s. Follow it up to keep it.") % {"rule": rule.name},
            url=reverse("leads:detail", args=[lead.pk]),
            target_entity="lead",
            target_id=lead.pk,
            now=now,
        )
        sent += 1
    return sent


def leads_reclaim_due(now: dt.datetime | None = None) -> int:
    """Run every active rule: warn owners ahead, then move due leads back to the pool.

    Idempotent: a lead already in the pool is not matched again. Returns leads reclaimed.
    """
    now = now or timezone.now()
    moved = 0
    for rule in _active_rules():
        _warn(rule, now)
        qs = _rule_queryset(rule, now)
        if qs is None:
            continue
        for pk, old in list(qs.values_list("pk", "owner_id").order_by("pk")):
            with transaction.atomic():
                done = Lead.objects.filter(pk=pk, owner_id=old).update(
                    owner=None,
                    updated_at=now,
                    assigned_reason=_("Reclaimed to the public pool by rule “%(rule)s”")
                    % {"rule": rule.name},
                )
                if not done:
                    continue
                PoolEvent.objects.create(
                    lead_id=pk,
                    user_id=old,
                    kind=PoolEvent.Kind.RECLAIM,
                    rule=rule,
                    reason=rule.name,
                    at=now,
                )
                audit.record(
                    actor=None,
                    action=A.RECLAIM,
                    entity="lead",
                    object_id=pk,
                    object_repr=str(Lead.objects.only("name", "company").get(pk=pk)),
                    changes={"owner": [old, None], "rule": rule.name, "rule_id": rule.pk},
                )
                events.emit(LEAD_RECLAIMED, {"id": pk, "from": old, "rule": rule.pk})
            moved += 1
    return moved


def rule_save(*, actor: User, rule: PoolRule) -> PoolRule:
    """Create or change a reclaim rule (administrators only; audited)."""
    if not permissions.is_admin(actor):
        raise NotPermitted()
    if not rule.name.strip():
        raise ValidationFailed([FieldError("name", _("This field is required."))])
    if not rule.no_followup_days and not rule.not_converted_days:
        raise ValidationFailed(
            [FieldError("no_followup_days", _("Set at least one of the day limits."))]
        )
    created = rule.pk is None
    rule.save()
    audit.record(
        actor=actor,
        action=A.CREATE if created else A.UPDATE,
        entity="pool_rule",
        obj=rule,
        changes={
            "name": rule.name,
            "active": rule.active,
            "no_followup_days": rule.no_followup_days,
            "not_converted_days": rule.not_converted_days,
            "warn_days_before": rule.warn_days_before,
        },
    )
    return rule
