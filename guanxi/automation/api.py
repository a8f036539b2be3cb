"""/approvals: my approval inbox, one request, approve / reject."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.responses import Status

from guanxi.api.auth import actor
from guanxi.automation import policies, selectors, services
from guanxi.automation.models import ApprovalDelegation, ApprovalPolicy
from guanxi.core import permissions
from guanxi.core.errors import NotPermitted, OutOfScope
from guanxi.identity.models import User

router = Router(tags=["approvals"])


class UserRef(Schema):
    id: int
    username: str


class StepOut(Schema):
    position: int
    approver: UserRef
    status: str
    decided_at: dt.datetime | None
    stage: int
    mode: str
    delegated_from: UserRef | None


class DecisionOut(Schema):
    actor: UserRef
    decision: str
    comment: str
    at: dt.datetime


class ApprovalOut(Schema):
    id: int
    entity: str
    object_id: int
    object_repr: str
    status: str
    reason: str
    requested_by: UserRef
    created_at: dt.datetime
    decided_at: dt.datetime | None
    steps: list[StepOut]
    decisions: list[DecisionOut]


class ApprovalPage(Schema):
    items: list[ApprovalOut]
    count: int
    count_exact: bool
    page: int
    page_size: int


class DecideIn(Schema):
    comment: str = ""


@router.get("/approvals", response=ApprovalPage, summary="waiting (for me), sent or decided")
def approval_list(
    request: HttpRequest, box: str = "waiting", page: int = 1, page_size: int = 50
) -> dict[str, Any]:
    result = selectors.approval_list(actor=actor(request), box=box, page=page, page_size=page_size)
    return result.as_api([selectors.approval_as_dict(r) for r in result.items])


@router.get("/approvals/{int:approval_id}", response=ApprovalOut)
def approval_detail(request: HttpRequest, approval_id: int) -> dict[str, Any]:
    req = selectors.approval_get_for_user(actor=actor(request), pk=approval_id)
    return selectors.approval_as_dict(req)


def _decide(request: HttpRequest, approval_id: int, decision: str, comment: str) -> dict[str, Any]:
    caller = actor(request)
    req = selectors.approval_get_for_user(actor=caller, pk=approval_id)
    services.approval_decide(actor=caller, request=req, decision=decision, comment=comment)
    return selectors.approval_as_dict(selectors.approval_get_for_user(actor=caller, pk=req.pk))


@router.post("/approvals/{int:approval_id}/approve", response=ApprovalOut)
def approval_approve(request: HttpRequest, approval_id: int, payload: DecideIn) -> dict[str, Any]:
    return _decide(request, approval_id, "approve", payload.comment)


@router.post("/approvals/{int:approval_id}/reject", response=ApprovalOut)
def approval_reject(request: HttpRequest, approval_id: int, payload: DecideIn) -> dict[str, Any]:
    return _decide(request, approval_id, "reject", payload.comment)


@router.post("/approvals/{int:approval_id}/return", response=ApprovalOut)
def approval_return(request: HttpRequest, approval_id: int, payload: DecideIn) -> dict[str, Any]:
    """Send the request back to the requester for changes (comment required)."""
    return _decide(request, approval_id, "return", payload.comment)


# --- Configurable flows (administrators) and delegations -----------------------------------


class FlowStepIO(Schema):
    kind: str = Field(..., description="manager | role | user")
    role_id: int | None = None
    user_id: int | None = None
    mode: str = Field("any", description="any | all: any one approver or all of them")


class FlowIn(Schema):
    entity: str = Field(..., description="quote | contract | discount | refund | custom | …")
    name: str
    active: bool = True
    position: int = 0
    min_amount: Decimal | None = Field(None, description="Applies when the amount is at least")
    min_discount: Decimal | None = Field(
        None, description="Applies when the discount % is at least"
    )
    remind_after_hours: int = 24
    steps: list[FlowStepIO]


class FlowPatch(Schema):
    entity: str | None = None
    name: str | None = None
    active: bool | None = None
    position: int | None = None
    min_amount: Decimal | None = None
    min_discount: Decimal | None = None
    remind_after_hours: int | None = None
    steps: list[FlowStepIO] | None = None


class FlowOut(Schema):
    id: int
    entity: str
    name: str
    active: bool
    position: int
    min_amount: str | None
    min_discount: str | None
    remind_after_hours: int
    steps: list[FlowStepIO]


class DelegationIn(Schema):
    delegate_id: int
    starts_on: dt.date
    ends_on: dt.date
    user_id: int | None = Field(None, description="Administrators: for another user")


class DelegationOut(Schema):
    id: int
    user: UserRef
    delegate: UserRef
    starts_on: dt.date
    ends_on: dt.date
    active: bool


def _admin(request: HttpRequest) -> User:
    caller = actor(request)
    if not permissions.is_admin(caller):
        raise NotPermitted()
    return caller


def _flow_out(policy: ApprovalPolicy) -> dict[str, Any]:
    return {
        "id": policy.pk,
        "entity": policy.entity,
        "name": policy.name,
        "active": policy.active,
        "position": policy.position,
        "min_amount": None if policy.min_amount is None else f"{policy.min_amount:f}",
        "min_discount": None if policy.min_discount is None else f"{policy.min_discount:f}",
        "remind_after_hours": policy.remind_after_hours,
        "steps": [
            {"kind": s.kind, "role_id": s.role_id, "user_id": s.user_id, "mode": s.mode}
            for s in policy.steps.all()
        ],
    }


def _policy(pk: int) -> ApprovalPolicy:
    found = [p for p in policies.policy_list() if p.pk == pk]
    if not found:
        raise OutOfScope()
    return found[0]


@router.get("/approval-flows", response=list[FlowOut], summary="Configurable approval flows")
def flow_list(request: HttpRequest, entity: str = "") -> list[dict[str, Any]]:
    _admin(request)
    return [_flow_out(p) for p in policies.policy_list(entity)]


@router.post("/approval-flows", response={201: FlowOut})
def flow_create(request: HttpRequest, payload: FlowIn) -> Status[dict[str, Any]]:
    caller = _admin(request)
    saved = policies.policy_save(actor=caller, policy=None, data=payload.dict())
    return Status(201, _flow_out(_policy(saved.pk)))


@router.get("/approval-flows/{int:flow_id}", response=FlowOut)
def flow_get(request: HttpRequest, flow_id: int) -> dict[str, Any]:
    _admin(request)
    return _flow_out(_policy(flow_id))


@router.patch("/approval-flows/{int:flow_id}", response=FlowOut)
def flow_update(request: HttpRequest, flow_id: int, payload: FlowPatch) -> dict[str, Any]:
    caller = _admin(request)
    saved = policies.policy_save(
        actor=caller, policy=_policy(flow_id), data=payload.dict(exclude_unset=True)
    )
    return _flow_out(_policy(saved.pk))


@router.delete("/approval-flows/{int:flow_id}", response={204: None})
def flow_delete(request: HttpRequest, flow_id: int) -> Status[None]:
    caller = _admin(request)
    policies.policy_delete(actor=caller, policy=_policy(flow_id))
    return Status(204, None)


def _deleg_out(d: ApprovalDelegation) -> dict[str, Any]:
    return {
        "id": d.pk,
        "user": {"id": d.user_id, "username": d.user.username},
        "delegate": {"id": d.delegate_id, "username": d.delegate.username},
        "starts_on": d.starts_on,
        "ends_on": d.ends_on,
        "active": d.active,
    }


@router.get("/approval-delegations", response=list[DelegationOut], summary="My delegations")
def delegation_list(request: HttpRequest) -> list[dict[str, Any]]:
    caller = actor(request)
    return [_deleg_out(d) for d in policies.delegations_of(caller)]


@router.post("/approval-delegations", response={201: DelegationOut})
def delegation_create(request: HttpRequest, payload: DelegationIn) -> Status[dict[str, Any]]:
    caller = actor(request)
    user = caller
    if payload.user_id is not None and payload.user_id != caller.pk:
        user = User.objects.filter(pk=payload.user_id).first() or caller
        if user.pk != payload.user_id or not permissions.is_admin(caller):
            raise NotPermitted()
    delegate = User.objects.filter(pk=payload.delegate_id).first()
    deleg = policies.delegation_set(
        actor=caller,
        user=user,
        delegate=delegate,
        starts_on=payload.starts_on,
        ends_on=payload.ends_on,
    )
    return Status(201, _deleg_out(deleg))


@router.delete("/approval-delegations/{int:delegation_id}", response={204: None})
def delegation_end(request: HttpRequest, delegation_id: int) -> Status[None]:
    policies.delegation_end(actor=actor(request), delegation=delegation_id)
    return Status(204, None)
