"""Configurable approval flows (administrators), approver delegation and reminders.

Resolution: when a request opens, the first active :class:`ApprovalPolicy` of the
record's entity (lowest ``position``) whose conditions hold (amount ≥ ``min_amount``,
discount ≥ ``min_discount``; an empty condition always holds) gives the stages. Each
stage names its approvers (the owner's department head, every active user with a role,
or a named user) and whether any one or all of them must approve. With no matching
policy the entity's built-in approvers apply, one stage each.

Delegation: a user away from ``starts_on`` to ``ends_on`` (inclusive, the company's
dates) has the steps that would wait for them routed to their delegate when the step
becomes due; the step keeps ``delegated_from`` and the routing is audited.

Reminders: :func:`approvals_send_reminders` (hourly) notifies the approver of a pending
step that has waited longer than the policy's ``remind_after_hours`` (24 without a
policy) at most once per step per day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from guanxi.automation import flows
from guanxi.automation.approvers import manager_of
from guanxi.automation.models import (
    ApprovalDelegation,
    ApprovalPolicy,
    ApprovalPolicyStep,
    ApprovalRequest,
    ApprovalStep,
)
from guanxi.core import audit, events, permissions
from guanxi.core.errors import Conflict, FieldError, NotPermitted, OutOfScope, ValidationFailed

if TYPE_CHECKING:
    from guanxi.identity.models import User

POLICY_CHANGED = events.define("approval_flow.changed", "An approval flow was created or changed")
DELEGATION_CHANGED = events.define(
    "approval_delegation.changed", "An approver set or ended a delegation"
)
MAX_STEPS = 10


@dataclass
class Stage:
    approvers: list[User]
    mode: str


def entity_choices() -> list[tuple[str, str]]:
    """The standard record types plus every entity with a registered flow."""
    out = [(value, str(label)) for value, label in ApprovalPolicy.Entity.choices]
    known = {v for v, _l in out}
    for key, flow in sorted(flows._flows.items()):
        if key not in known:
            out.append((key, str(flow.label)))
    return out


# --- Administrators: policies ------------------------------------------------------------


def _decimal(errors: list[FieldError], name: str, value: Any, hi: Decimal | None) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        errors.append(FieldError(name, _("Enter a number.")))
        return None
    if number < 0 or (hi is not None and number > hi):
        errors.append(FieldError(name, _("Enter a number from 0 to %(hi)s.") % {"hi": hi or "∞"}))
        return None
    return number


def _clean_steps(raw: Any, errors: list[FieldError]) -> list[dict[str, Any]]:
    from guanxi.identity.models import Role
    from guanxi.identity.models import User as UserModel

    if not isinstance(raw, list) or not raw:
        errors.append(FieldError("steps", _("Add at least one step.")))
        return []
    if len(raw) > MAX_STEPS:
        errors.append(FieldError("steps", _("At most %(n)s steps.") % {"n": MAX_STEPS}))
        return []
    out = []
    for i, item in enumerate(raw):
        item = item if isinstance(item, dict) else {}
        kind = item.get("kind")
        mode = item.get("mode") or ApprovalStep.Mode.ANY
        step: dict[str, Any] = {
            "position": i,
            "kind": kind,
            "mode": mode,
            "role": None,
            "user": None,
        }
        if kind not in ApprovalPolicyStep.Kind.values:
            errors.append(FieldError(f"steps.{i}.kind", _("Choose manager, role or user.")))
        if mode not in ApprovalStep.Mode.values:
            errors.append(FieldError(f"steps.{i}.mode", _("Choose any or all.")))
        if kind == ApprovalPolicyStep.Kind.ROLE:
            role = Role.objects.filter(pk=item.get("role_id") or 0).first()
            if role is None:
                errors.append(FieldError(f"steps.{i}.role_id", _("Choose a role.")))
            step["role"] = role
        if kind == ApprovalPolicyStep.Kind.USER:
            user = UserModel.objects.filter(pk=item.get("user_id") or 0, is_active=True).first()
            if user is None:
                errors.append(FieldError(f"steps.{i}.user_id", _("Choose an active user.")))
            step["user"] = user
        out.append(step)
    return out


def _clean_policy(data: dict[str, Any], policy: ApprovalPolicy | None) -> dict[str, Any]:
    errors: list[FieldError] = []
    out: dict[str, Any] = {}
    if "entity" in data or policy is None:
        entity = str(data.get("entity") or "")
        if entity not in dict(entity_choices()):
            errors.append(FieldError("entity", _("Choose a record type.")))
        out["entity"] = entity
    if "name" in data or policy is None:
        name = str(data.get("name") or "").strip()
        if not name:
            errors.append(FieldError("name", _("This field is required.")))
        elif len(name) > 100:
            errors.append(FieldError("name", _("At most %(n)s characters.") % {"n": 100}))
        out["name"] = name
    if "active" in data:
        out["active"] = bool(data["active"])
    for key, hi in (("position", 100000), ("remind_after_hours", 24 * 60)):
        if key in data and data[key] not in (None, ""):
            try:
                number = int(data[key])
                if not 0 <= number <= hi:
                    raise ValueError
            except (TypeError, ValueError):
                errors.append(
                    FieldError(key, _("Enter a whole number from 0 to %(hi)s.") % {"hi": hi})
                )
                continue
            out[key] = number
    if "min_amount" in data:
        out["min_amount"] = _decimal(errors, "min_amount", data["min_amount"], None)
    if "min_discount" in data:
        out["min_discount"] = _decimal(errors, "min_discount", data["min_discount"], Decimal(100))
    steps = None
    if "steps" in data or policy is None:
        steps = _clean_steps(data.get("steps"), errors)
    if errors:
        raise ValidationFailed(errors)
    out["steps"] = steps
    return out


def _snapshot(policy: ApprovalPolicy) -> dict[str, Any]:
    return {
        **audit.snapshot(
            policy,
            [
                "entity",
                "name",
                "active",
                "position",
                "min_amount",
                "min_discount",
                "remind_after_hours",
            ],
        ),
        "steps": [
            [s.kind, s.role_id, s.user_id, s.mode] for s in policy.steps.order_by("position", "id")
        ],
    }


def policy_save(
    *, actor: User, policy: ApprovalPolicy | None, data: dict[str, Any]
) -> ApprovalPolicy:
    """Create or change an approval flow with its steps (administrators; audited)."""
    if not permissions.is_admin(actor):
        raise NotPermitted()
    cleaned = _clean_policy(data, policy)
    steps = cleaned.pop("steps")
    with transaction.atomic():
        before = _snapshot(policy) if policy is not None else {}
        target = policy or ApprovalPolicy()
        for key, value in cleaned.items():
            setattr(target, key, value)
        target.save()
        if steps is not None:
            target.steps.all().delete()
            ApprovalPolicyStep.objects.bulk_create(
                [ApprovalPolicyStep(policy=target, **s) for s in steps]
            )
        changes = audit.diff(before, _snapshot(target))
        audit.record(
            actor=actor,
            action="create" if policy is None else "update",
            entity="approval_flow",
            obj=target,
            changes=changes,
        )
        events.emit(POLICY_CHANGED, {"id": target.pk, "entity": target.entity}, actor_id=actor.pk)
    return target


def policy_delete(*, actor: User, policy: ApprovalPolicy) -> None:
    if not permissions.is_admin(actor):
        raise NotPermitted()
    with transaction.atomic():
        audit.record(actor=actor, action="delete", entity="approval_flow", obj=policy)
        policy.delete()


def policy_list(entity: str = "") -> list[ApprovalPolicy]:
    qs = ApprovalPolicy.objects.prefetch_related("steps__role", "steps__user")
    if entity:
        qs = qs.filter(entity=entity)
    return list(qs.order_by("entity", "position", "id"))


# --- Resolution ---------------------------------------------------------------------------


def matches(policy: ApprovalPolicy, facts: dict[str, Any]) -> bool:
    """The policy's conditions hold for the record's facts (missing fact: no match)."""
    for limit, key in ((policy.min_amount, "amount"), (policy.min_discount, "discount")):
        if limit is None:
            continue
        value = facts.get(key)
        if value is None or Decimal(str(value)) < limit:
            return False
    return True


def policy_for(entity: str, facts: dict[str, Any]) -> ApprovalPolicy | None:
    for policy in policy_list(entity):
        if policy.active and matches(policy, facts):
            return policy
    return None


def _step_users(step: ApprovalPolicyStep, owner: User | None) -> list[User]:
    from guanxi.identity.models import User as UserModel

    if step.kind == ApprovalPolicyStep.Kind.MANAGER:
        head = manager_of(owner) if owner is not None else None
        return [head] if head is not None else []
    if step.kind == ApprovalPolicyStep.Kind.ROLE:
        return list(
            UserModel.objects.filter(roles=step.role_id, is_active=True).order_by("username")
        )
    return [step.user] if step.user is not None and step.user.is_active else []


def stages_for(entity: str, obj: Any) -> tuple[ApprovalPolicy | None, list[Stage]]:
    """The policy that applies to ``obj`` and its stages (Conflict when one has nobody)."""
    flow = flows.flow(entity)
    facts = flows.facts_of(flow, obj)
    policy = policy_for(entity, facts)
    if policy is None:
        chain = [u for u in flow.approvers(obj) if u is not None and u.is_active]
        if not chain:
            raise Conflict(_("Nobody can approve this: the owner's department has no manager."))
        return None, [Stage([u], ApprovalStep.Mode.ALL) for u in chain]
    stages = []
    for step in policy.steps.all():
        users = _step_users(step, facts.get("owner"))
        if not users:
            if step.kind == ApprovalPolicyStep.Kind.MANAGER:
                raise Conflict(_("Nobody can approve this: the owner's department has no manager."))
            raise Conflict(
                _("Nobody can approve step %(n)s of the approval flow “%(flow)s”.")
                % {"n": step.position + 1, "flow": policy.name}
            )
        stages.append(Stage(users, step.mode))
    return policy, stages


# --- Delegation ---------------------------------------------------------------------------


def delegate_of(user: User, on: dt.date | None = None) -> User | None:
    """Who decides for ``user`` on ``on`` (today), or None when they are not away."""
    day = on or timezone.localdate()
    deleg = (
        ApprovalDelegation.objects.select_related("delegate")
        .filter(user=user, active=True, starts_on__lte=day, ends_on__gte=day)
        .order_by("-starts_on", "-id")
        .first()
    )
    if deleg is None or not deleg.delegate.is_active or deleg.delegate_id == user.pk:
        return None
    return deleg.delegate


def route(step: ApprovalStep, request: ApprovalRequest, actor: User | None) -> None:
    """Send ``step`` (becoming due) to its approver's delegate when they are away."""
    delegate = delegate_of(step.approver)
    if delegate is None:
        return
    original = step.approver
    step.delegated_from = original
    step.approver = delegate
    step.save(update_fields=["delegated_from", "approver"])
    audit.record(
        actor=actor,
        action="update",
        entity="approval",
        obj=request,
        changes={"delegated": [original.get_username(), delegate.get_username()]},
    )


def delegation_set(
    *, actor: User, user: User, delegate: User | None, starts_on: Any, ends_on: Any
) -> ApprovalDelegation:
    """``user`` (themselves, or an administrator for them) hands approvals to ``delegate``."""
    if actor.pk != user.pk and not permissions.is_admin(actor):
        raise NotPermitted()
    errors: list[FieldError] = []
    if delegate is None or not delegate.is_active:
        errors.append(FieldError("delegate_id", _("Choose an active user.")))
    elif delegate.pk == user.pk:
        errors.append(FieldError("delegate_id", _("Choose someone else.")))
    days: dict[str, dt.date | None] = {}
    for name, value in (("starts_on", starts_on), ("ends_on", ends_on)):
        if isinstance(value, dt.date):
            days[name] = value
            continue
        try:
            days[name] = dt.date.fromisoformat(str(value))
        except (TypeError, ValueError):
            days[name] = None
            errors.append(FieldError(name, _("Enter a date (YYYY-MM-DD).")))
    start, end = days.get("starts_on"), days.get("ends_on")
    if start and end and end < start:
        errors.append(FieldError("ends_on", _("The end must not be before the start.")))
    if errors:
        raise ValidationFailed(errors)
    assert delegate is not None and start is not None and end is not None
    with transaction.atomic():
        deleg = ApprovalDelegation.objects.create(
            user=user, delegate=delegate, starts_on=start, ends_on=end
        )
        audit.record(
            actor=actor,
            action="create",
            entity="approval_delegation",
            obj=deleg,
            changes={
                "user": [None, user.get_username()],
                "delegate": [None, delegate.get_username()],
                "starts_on": [None, start],
                "ends_on": [None, end],
            },
        )
        events.emit(DELEGATION_CHANGED, {"id": deleg.pk, "user_id": user.pk}, actor_id=actor.pk)
    return deleg


def delegation_end(*, actor: User, delegation: ApprovalDelegation | int) -> ApprovalDelegation:
    pk = delegation.pk if isinstance(delegation, ApprovalDelegation) else delegation
    deleg = ApprovalDelegation.objects.filter(pk=pk).first()
    if deleg is None or (deleg.user_id != actor.pk and not permissions.is_admin(actor)):
        raise OutOfScope()
    with transaction.atomic():
        deleg.active = False
        deleg.save(update_fields=["active"])
        audit.record(
            actor=actor,
            action="update",
            entity="approval_delegation",
            obj=deleg,
            changes={"active": [True, False]},
        )
        events.emit(
            DELEGATION_CHANGED, {"id": deleg.pk, "user_id": deleg.user_id}, actor_id=actor.pk
        )
    return deleg


def delegations_of(user: User) -> list[ApprovalDelegation]:
    return list(
        ApprovalDelegation.objects.select_related("delegate")
        .filter(user=user)
        .order_by("-starts_on", "-id")
    )


# --- Reminders ----------------------------------------------------------------------------


def approvals_send_reminders(now: dt.datetime | None = None) -> int:
    """Remind approvers of steps pending too long; each step at most once per day."""
    from guanxi.automation.services import _notify

    now = now or timezone.now()
    today_start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    default_hours = int(getattr(settings, "GUANXI_APPROVAL_REMIND_HOURS", 24))
    candidates = (
        ApprovalStep.objects.filter(
            status=ApprovalStep.Status.PENDING,
            request__status=ApprovalRequest.Status.PENDING,
            activated_at__isnull=False,
        )
        .filter(Q(reminded_at__isnull=True) | Q(reminded_at__lt=today_start))
        .select_related("approver", "request__policy", "request__requested_by")
    )
    sent = 0
    for step in candidates:
        req = step.request
        hours = req.policy.remind_after_hours if req.policy else default_hours
        assert step.activated_at is not None
        if step.activated_at > now - dt.timedelta(hours=hours):
            continue
        # Claim the reminder first: a second worker run finds it taken.
        claimed = ApprovalStep.objects.filter(pk=step.pk, reminded_at=step.reminded_at).update(
            reminded_at=now
        )
        if not claimed:
            continue
        approver = step.approver
        with translation.override(approver.language or settings.LANGUAGE_CODE):
            label = flows.flow(req.entity).label if flows.has_flow(req.entity) else req.entity
            _notify(
                approver,
                "approval_reminder",
                _("Reminder: %(kind)s %(name)s is waiting for your approval")
                % {"kind": label, "name": req.object_repr},
                req,
                req.reason,
            )
        sent += 1
    return sent
