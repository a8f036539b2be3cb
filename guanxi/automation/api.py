"""/approvals: my approval inbox, one request, approve / reject."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from guanxi.api.auth import actor
from guanxi.automation import selectors, services

router = Router(tags=["approvals"])


class UserRef(Schema):
    id: int
    username: str


class StepOut(Schema):
    position: int
    approver: UserRef
    status: str
    decided_at: dt.datetime | None


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
