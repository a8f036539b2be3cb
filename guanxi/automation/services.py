"""Approval writes: request, decide (approve / reject with comment), cancel.

Every write is audited (entity ``approval``), emits a domain event and notifies the
people concerned in their own language. The owning record reacts through the callbacks
of its :class:`~guanxi.automation.flows.ApprovalFlow`, inside the same transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from guanxi.automation import flows, notify
from guanxi.automation.models import ApprovalDecision, ApprovalRequest, ApprovalStep
from guanxi.core import audit, events, permissions
from guanxi.core.errors import Conflict, FieldError, NotPermitted, OutOfScope, ValidationFailed

if TYPE_CHECKING:
    from guanxi.identity.models import User

APPROVAL_REQUESTED = events.define("approval.requested", "An approval was requested")
APPROVAL_APPROVED = events.define("approval.approved", "An approval request was approved")
APPROVAL_REJECTED = events.define("approval.rejected", "An approval request was rejected")
APPROVAL_RETURNED = events.define(
    "approval.returned", "An approval request was sent back to the requester for changes"
)
APPROVAL_CANCELLED = events.define("approval.cancelled", "An approval request was cancelled")

MAX_COMMENT = 2000


def _url(request: ApprovalRequest) -> str:
    return reverse("automation:approval_detail", args=[request.pk])


def _notify(
    recipient: User, verb: str, title: str, request: ApprovalRequest, body: str = ""
) -> None:
    """Through the notification centre (the recipient's preferences for approvals)."""
    notify.notify_user(
        user=recipient,
        kind=notify.APPROVAL,
        verb=verb,
        title=title,
        body=body,
        url=_url(request),
        record=(request.entity, request.object_id),
    )


def _notify_approver(step: ApprovalStep, request: ApprovalRequest) -> None:
    approver = step.approver
    with translation.override(approver.language or settings.LANGUAGE_CODE):
        label = flows.flow(request.entity).label
        _notify(
            approver,
            "approval_requested",
            _("%(user)s asks you to approve %(kind)s %(name)s")
            % {"user": request.requested_by.label, "kind": label, "name": request.object_repr},
            request,
            request.reason,
        )


def _payload(request: ApprovalRequest) -> dict[str, Any]:
    return {
        "id": request.pk,
        "entity": request.entity,
        "object_id": request.object_id,
        "status": request.status,
        "requested_by": request.requested_by_id,
    }


def approval_request(
    *, actor: User, entity: str, obj: Any, reason: str = "", approvers: list[User] | None = None
) -> ApprovalRequest:
    """Open a request for ``obj`` and notify its first approver.

    The caller (the owning service) has checked that ``actor`` may submit ``obj``.
    Approvers default to the flow's; Conflict when a request is already pending or
    nobody can approve.
    """
    from guanxi.automation import policies

    policy = None
    if approvers is not None:
        chain = [u for u in approvers if u is not None and u.is_active]
        if not chain:
            raise Conflict(_("Nobody can approve this: the owner's department has no manager."))
        stages = [policies.Stage([u], ApprovalStep.Mode.ALL) for u in chain]
    else:
        policy, stages = policies.stages_for(entity, obj)
    chain = [u for stage in stages for u in stage.approvers]
    reason = (reason or "").strip()
    if len(reason) > MAX_COMMENT:
        raise ValidationFailed(
            [FieldError("reason", _("At most %(n)d characters.") % {"n": MAX_COMMENT})]
        )
    now = timezone.now()
    rows = [
        (i, user, stage)
        for i, (user, stage) in enumerate(
            (u, n) for n, st in enumerate(stages) for u in st.approvers
        )
    ]
    try:
        with transaction.atomic():
            request = ApprovalRequest.objects.create(
                entity=entity,
                object_id=obj.pk,
                object_repr=str(obj)[:200],
                requested_by=actor,
                reason=reason,
                policy=policy,
            )
            steps = ApprovalStep.objects.bulk_create(
                [
                    ApprovalStep(
                        request=request,
                        position=i,
                        stage=n,
                        mode=stages[n].mode,
                        approver=user,
                        status=ApprovalStep.Status.PENDING
                        if n == 0
                        else ApprovalStep.Status.WAITING,
                        activated_at=now if n == 0 else None,
                    )
                    for i, user, n in rows
                ]
            )
    except IntegrityError as exc:
        raise Conflict(_("An approval request for this record is already pending.")) from exc
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="create",
            entity="approval",
            obj=request,
            changes={
                "entity": [None, entity],
                "object_id": [None, obj.pk],
                "approvers": [None, [u.get_username() for u in chain]],
                "reason": [None, reason],
            },
        )
        audit.record(
            actor=actor,
            action="update",
            entity=entity,
            obj=obj,
            changes={"approval": [None, "pending"]},
        )
        for step in steps:
            if step.stage == 0:
                policies.route(step, request, actor)
                _notify_approver(step, request)
        events.emit(APPROVAL_REQUESTED, _payload(request), actor_id=actor.pk)
    return request


def _current_step(request: ApprovalRequest, actor: User | None = None) -> ApprovalStep | None:
    """The pending step ``actor`` decides (their own row first), else the first pending."""
    pending = request.steps.filter(status=ApprovalStep.Status.PENDING).select_related("approver")
    if actor is not None:
        own = pending.filter(approver=actor).order_by("position").first()
        if own is not None:
            return own
    return pending.order_by("position").first()


def _close_open_steps(req: ApprovalRequest) -> None:
    req.steps.filter(status__in=[ApprovalStep.Status.PENDING, ApprovalStep.Status.WAITING]).update(
        status=ApprovalStep.Status.SKIPPED
    )


def _advance(req: ApprovalRequest, step: ApprovalStep, actor: User, now: Any) -> bool:
    """After ``step`` approved: settle its stage, open the next. True when all are done."""
    from guanxi.automation import policies

    same_stage = req.steps.filter(stage=step.stage, status=ApprovalStep.Status.PENDING)
    if step.mode == ApprovalStep.Mode.ANY:
        same_stage.update(status=ApprovalStep.Status.SKIPPED)
    elif same_stage.exists():
        return False  # all-of: others of this stage still to approve
    waiting = list(
        req.steps.filter(status=ApprovalStep.Status.WAITING)
        .select_related("approver")
        .order_by("stage", "position")
    )
    if not waiting:
        return True
    stage = waiting[0].stage
    for nxt in (w for w in waiting if w.stage == stage):
        nxt.status = ApprovalStep.Status.PENDING
        nxt.activated_at = now
        nxt.save(update_fields=["status", "activated_at"])
        policies.route(nxt, req, actor)
        _notify_approver(nxt, req)
    return False


def approval_decide(
    *, actor: User, request: ApprovalRequest | int, decision: str, comment: str = ""
) -> ApprovalRequest:
    """Approve, reject or return the pending step of ``request`` as its approver.

    A rejection or a return (sent back to the requester for changes) needs a comment.
    Within a stage of mode ``any`` the first approval settles the stage; with ``all``
    every approver of the stage must approve. The last approval (or any rejection or
    return) closes the request, runs the flow's callback and notifies the requester;
    otherwise the next stage's approvers are notified. Every decision is recorded on the
    record's history. Conflict when the request is no longer pending; OutOfScope when
    ``actor`` takes no part in it (administrators may decide for anyone).
    """
    if decision not in ApprovalDecision.Decision.values:
        raise ValidationFailed([FieldError("decision", _("Choose approve, reject or return."))])
    comment = (comment or "").strip()
    if decision == ApprovalDecision.Decision.REJECT and not comment:
        raise ValidationFailed([FieldError("comment", _("Say why you reject it."))])
    if decision == ApprovalDecision.Decision.RETURN and not comment:
        raise ValidationFailed([FieldError("comment", _("Say what should be changed."))])
    if len(comment) > MAX_COMMENT:
        raise ValidationFailed(
            [FieldError("comment", _("At most %(n)d characters.") % {"n": MAX_COMMENT})]
        )
    pk = request.pk if isinstance(request, ApprovalRequest) else request
    with transaction.atomic():
        try:
            req = (
                ApprovalRequest.objects.select_for_update()
                .select_related("requested_by")
                .get(pk=pk)
            )
        except (ApprovalRequest.DoesNotExist, ValueError, TypeError) as exc:
            raise OutOfScope() from exc
        step = _current_step(req, actor)
        is_admin = permissions.is_admin(actor)
        if not (
            is_admin
            or ApprovalStep.objects.filter(request=req, approver=actor).exists()
            or req.requested_by_id == actor.pk
        ):
            raise OutOfScope()
        if req.status != ApprovalRequest.Status.PENDING or step is None:
            raise Conflict(_("This request has already been decided."))
        if step.approver_id != actor.pk and not is_admin:
            raise NotPermitted(
                _("Only %(user)s can decide this step.") % {"user": step.approver.label}
            )
        now = timezone.now()
        flow = flows.flow(req.entity)
        obj = flow.load(req.object_id)
        ApprovalDecision.objects.create(
            request=req, step=step, actor=actor, decision=decision, comment=comment
        )
        step.status = {
            ApprovalDecision.Decision.APPROVE: ApprovalStep.Status.APPROVED,
            ApprovalDecision.Decision.REJECT: ApprovalStep.Status.REJECTED,
            ApprovalDecision.Decision.RETURN: ApprovalStep.Status.RETURNED,
        }[ApprovalDecision.Decision(decision)]
        step.decided_at = now
        step.save(update_fields=["status", "decided_at"])
        done = True
        if decision == ApprovalDecision.Decision.APPROVE:
            done = _advance(req, step, actor, now)
        if done:
            req.status = {
                ApprovalDecision.Decision.APPROVE: ApprovalRequest.Status.APPROVED,
                ApprovalDecision.Decision.REJECT: ApprovalRequest.Status.REJECTED,
                ApprovalDecision.Decision.RETURN: ApprovalRequest.Status.RETURNED,
            }[ApprovalDecision.Decision(decision)]
            req.decided_at = now
            req.save(update_fields=["status", "decided_at"])
            _close_open_steps(req)
            if req.status == ApprovalRequest.Status.APPROVED:
                flow.on_approved(obj, req, actor)
            elif req.status == ApprovalRequest.Status.RETURNED and flow.on_returned is not None:
                flow.on_returned(obj, req, actor, comment)
            else:
                flow.on_rejected(obj, req, actor, comment)
            requester = req.requested_by
            with translation.override(requester.language or settings.LANGUAGE_CODE):
                if req.status == ApprovalRequest.Status.APPROVED:
                    title = _("%(user)s approved %(kind)s %(name)s")
                elif req.status == ApprovalRequest.Status.RETURNED:
                    title = _("%(user)s sent %(kind)s %(name)s back to you for changes")
                else:
                    title = _("%(user)s rejected %(kind)s %(name)s")
                _notify(
                    requester,
                    f"approval_{req.status}",
                    title % {"user": actor.label, "kind": flow.label, "name": req.object_repr},
                    req,
                    comment,
                )
        audit.record(
            actor=actor,
            action="update",
            entity="approval",
            obj=req,
            changes={
                "decision": [None, decision],
                "comment": [None, comment],
                "step": [None, step.position],
                "status": ["pending", req.status],
            },
        )
        if req.status != ApprovalRequest.Status.PENDING:
            audit.record(
                actor=actor,
                action="update",
                entity=req.entity,
                obj=obj,
                changes={"approval": ["pending", req.status], "approval_comment": [None, comment]},
            )
            events.emit(
                APPROVAL_APPROVED
                if req.status == ApprovalRequest.Status.APPROVED
                else APPROVAL_RETURNED
                if req.status == ApprovalRequest.Status.RETURNED
                else APPROVAL_REJECTED,
                {**_payload(req), "comment": comment},
                actor_id=actor.pk,
            )
        else:
            # An intermediate approval: on the record's history too.
            audit.record(
                actor=actor,
                action="update",
                entity=req.entity,
                obj=obj,
                changes={
                    "approval_step": [None, f"{step.position + 1}: {decision}"],
                    "approval_comment": [None, comment],
                },
            )
    return req


def approval_cancel(*, actor: User, request: ApprovalRequest, reason: str = "") -> ApprovalRequest:
    """Withdraw a pending request (its requester or an administrator)."""
    with transaction.atomic():
        req = ApprovalRequest.objects.select_for_update().get(pk=request.pk)
        if req.requested_by_id != actor.pk and not permissions.is_admin(actor):
            raise NotPermitted()
        if req.status != ApprovalRequest.Status.PENDING:
            raise Conflict(_("This request has already been decided."))
        req.status = ApprovalRequest.Status.CANCELLED
        req.decided_at = timezone.now()
        req.save(update_fields=["status", "decided_at"])
        req.steps.filter(
            status__in=[ApprovalStep.Status.PENDING, ApprovalStep.Status.WAITING]
        ).update(status=ApprovalStep.Status.SKIPPED)
        flow = flows.flow(req.entity)
        if flow.on_cancelled is not None:
            flow.on_cancelled(flow.load(req.object_id), req, actor)
        audit.record(
            actor=actor,
            action="update",
            entity="approval",
            obj=req,
            changes={"status": ["pending", "cancelled"], "reason": [None, reason]},
        )
        events.emit(APPROVAL_CANCELLED, _payload(req), actor_id=actor.pk)
    return req
