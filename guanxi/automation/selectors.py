"""Approval reads. A request is visible to its requester, its approvers and admins.

The approval page shows the record's summary (from its flow) to the approver even when
the record itself lies outside the approver's data scope; the link to the record's own
page is offered only to those who may open it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from guanxi.automation import flows
from guanxi.automation.models import ApprovalDecision, ApprovalRequest, ApprovalStep
from guanxi.core import permissions
from guanxi.core.errors import FieldError, OutOfScope, ValidationFailed
from guanxi.core.pagination import Page, paginate

if TYPE_CHECKING:
    from guanxi.identity.models import User


def _base() -> QuerySet[ApprovalRequest]:
    return ApprovalRequest.objects.select_related("requested_by").prefetch_related(
        Prefetch(
            "steps", queryset=ApprovalStep.objects.select_related("approver", "delegated_from")
        ),
        Prefetch("decisions", queryset=ApprovalDecision.objects.select_related("actor")),
    )


def approval_inbox(*, actor: User, page: Any = 1, page_size: Any = 50) -> Page:
    """Requests waiting for ``actor``'s decision, oldest first."""
    qs = _base().filter(
        status=ApprovalRequest.Status.PENDING,
        steps__approver=actor,
        steps__status=ApprovalStep.Status.PENDING,
    )
    return paginate(qs.order_by("created_at", "id"), page, page_size)


def approval_inbox_count(*, actor: User) -> int:
    return ApprovalStep.objects.filter(
        approver=actor,
        status=ApprovalStep.Status.PENDING,
        request__status=ApprovalRequest.Status.PENDING,
    ).count()


def approval_list(*, actor: User, box: str = "waiting", page: Any = 1, page_size: Any = 50) -> Page:
    """``waiting``: for my decision; ``sent``: requested by me; ``decided``: I decided."""
    if box == "waiting":
        return approval_inbox(actor=actor, page=page, page_size=page_size)
    if box == "sent":
        qs = _base().filter(requested_by=actor)
    elif box == "decided":
        qs = _base().filter(decisions__actor=actor).distinct()
    else:
        raise ValidationFailed([FieldError("box", _("Choose waiting, sent or decided."))])
    return paginate(qs.order_by("-created_at", "-id"), page, page_size)


def approval_get_for_user(*, actor: User, pk: Any) -> ApprovalRequest:
    """One request ``actor`` takes part in (or any, for admins); else OutOfScope."""
    qs = _base()
    if not permissions.is_admin(actor):
        qs = qs.filter(Q(requested_by=actor) | Q(steps__approver=actor)).distinct()
    try:
        return qs.get(pk=pk)
    except (ApprovalRequest.DoesNotExist, ValueError, TypeError) as exc:
        raise OutOfScope() from exc


def approvals_for_object(*, entity: str, object_id: int) -> list[ApprovalRequest]:
    """The approval history of one record, newest first (the caller has checked scope)."""
    return list(_base().filter(entity=entity, object_id=object_id).order_by("-created_at", "-id"))


def pending_for_object(*, entity: str, object_id: int) -> ApprovalRequest | None:
    return (
        _base()
        .filter(entity=entity, object_id=object_id, status=ApprovalRequest.Status.PENDING)
        .first()
    )


@dataclass
class ApprovalView:
    request: ApprovalRequest
    label: Any
    summary: list[tuple[Any, Any]]
    record_url: str
    can_decide: bool
    can_cancel: bool
    current_step: ApprovalStep | None


def approval_view(*, actor: User, request: ApprovalRequest) -> ApprovalView:
    """What the approval page shows ``actor`` (who passed :func:`approval_get_for_user`)."""
    flow = flows.flow(request.entity)
    obj = flow.load(request.object_id)
    pending_steps = [s for s in request.steps.all() if s.status == ApprovalStep.Status.PENDING]
    current = next((s for s in pending_steps if s.approver_id == actor.pk), None) or next(
        iter(pending_steps), None
    )
    record_url = ""
    try:
        permissions.entity(request.entity)
    except KeyError:
        pass
    else:
        if permissions.in_scope(actor, request.entity, obj):
            record_url = flow.url(obj)
    pending = request.status == ApprovalRequest.Status.PENDING
    return ApprovalView(
        request=request,
        label=flow.label,
        summary=flow.summary(obj),
        record_url=record_url,
        can_decide=pending
        and current is not None
        and (current.approver_id == actor.pk or permissions.is_admin(actor)),
        can_cancel=pending and (request.requested_by_id == actor.pk or permissions.is_admin(actor)),
        current_step=current,
    )


def approval_as_dict(request: ApprovalRequest) -> dict[str, Any]:
    return {
        "id": request.pk,
        "entity": request.entity,
        "object_id": request.object_id,
        "object_repr": request.object_repr,
        "status": request.status,
        "reason": request.reason,
        "requested_by": {
            "id": request.requested_by_id,
            "username": request.requested_by.username,
        },
        "created_at": request.created_at,
        "decided_at": request.decided_at,
        "steps": [
            {
                "position": s.position,
                "approver": {"id": s.approver_id, "username": s.approver.username},
                "status": s.status,
                "decided_at": s.decided_at,
                "stage": s.stage,
                "mode": s.mode,
                "delegated_from": (
                    {"id": s.delegated_from_id, "username": s.delegated_from.username}
                    if s.delegated_from is not None
                    else None
                ),
            }
            for s in request.steps.all()
        ],
        "decisions": [
            {
                "actor": {"id": d.actor_id, "username": d.actor.username},
                "decision": d.decision,
                "comment": d.comment,
                "at": d.at,
            }
            for d in request.decisions.all()
        ],
    }
