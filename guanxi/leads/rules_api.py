"""Administrators' endpoints for lead routing and scoring:
/assignment-rules (+ /assignment-rules/fallback) and /scoring-rules."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.responses import Status

from guanxi.api.auth import actor
from guanxi.core import permissions
from guanxi.core.errors import NotPermitted, OutOfScope
from guanxi.identity.models import User
from guanxi.leads import assignment, scoring
from guanxi.leads.models import AssignmentRule, AssignmentSettings, ScoringRule

router = Router(tags=["lead rules"])


def _admin(request: HttpRequest) -> User:
    caller = actor(request)
    if not permissions.is_admin(caller):
        raise NotPermitted()
    return caller


class ConditionsIn(Schema):
    source: list[str] = Field([], description="Lead source codes (any of)")
    province: list[str] = []
    city: list[str] = []
    industry: list[str] = []
    tags: list[str] = Field([], description="The lead has any of these tags")
    custom: dict[str, list[str]] = Field({}, description="Custom field key → accepted values")


class UserRef(Schema):
    id: int
    username: str
    label: str
    is_active: bool


class AssignmentRuleIn(Schema):
    name: str
    position: int = 0
    active: bool = True
    conditions: ConditionsIn | None = None
    method: str = Field(..., description="user | round_robin | least_loaded")
    user_ids: list[int]


class AssignmentRulePatch(Schema):
    name: str | None = None
    position: int | None = None
    active: bool | None = None
    conditions: ConditionsIn | None = None
    method: str | None = None
    user_ids: list[int] | None = None


class AssignmentRuleOut(Schema):
    id: int
    name: str
    position: int
    active: bool
    conditions: dict[str, Any]
    method: str
    users: list[UserRef]
    created_at: str
    updated_at: str


class FallbackIO(Schema):
    fallback: str = Field(..., description="creator | pool | user")
    fallback_user_id: int | None = None


def _rule_out(rule: AssignmentRule) -> dict[str, Any]:
    return {
        "id": rule.pk,
        "name": rule.name,
        "position": rule.position,
        "active": rule.active,
        "conditions": rule.conditions or {},
        "method": rule.method,
        "users": [
            {"id": u.pk, "username": u.username, "label": u.label, "is_active": u.is_active}
            for u in sorted(rule.users.all(), key=lambda u: u.pk)
        ],
        "created_at": rule.created_at.isoformat(),
        "updated_at": rule.updated_at.isoformat(),
    }


def _assignment_rule(pk: int) -> AssignmentRule:
    rule = AssignmentRule.objects.prefetch_related("users").filter(pk=pk).first()
    if rule is None:
        raise OutOfScope()
    return rule


def _payload(data: dict[str, Any]) -> dict[str, Any]:
    if data.get("conditions") is not None:
        cond = dict(data["conditions"])
        data["conditions"] = {k: v for k, v in cond.items() if v}
    return data


@router.get("/assignment-rules", response=list[AssignmentRuleOut], summary="Assignment rules")
def assignment_rules(request: HttpRequest) -> list[dict[str, Any]]:
    _admin(request)
    return [_rule_out(r) for r in assignment.rule_list()]


@router.post("/assignment-rules", response={201: AssignmentRuleOut})
def assignment_rule_create(
    request: HttpRequest, payload: AssignmentRuleIn
) -> Status[dict[str, Any]]:
    caller = _admin(request)
    rule = assignment.rule_create(actor=caller, data=_payload(payload.dict()))
    return Status(201, _rule_out(_assignment_rule(rule.pk)))


@router.get("/assignment-rules/fallback", response=FallbackIO, summary="When no rule matches")
def assignment_fallback(request: HttpRequest) -> dict[str, Any]:
    _admin(request)
    conf = AssignmentSettings.current()
    return {"fallback": conf.fallback, "fallback_user_id": conf.fallback_user_id}


@router.put("/assignment-rules/fallback", response=FallbackIO)
def assignment_fallback_save(request: HttpRequest, payload: FallbackIO) -> dict[str, Any]:
    caller = _admin(request)
    conf = assignment.settings_save(
        actor=caller, fallback=payload.fallback, fallback_user_id=payload.fallback_user_id
    )
    return {"fallback": conf.fallback, "fallback_user_id": conf.fallback_user_id}


@router.get("/assignment-rules/{int:rule_id}", response=AssignmentRuleOut)
def assignment_rule_detail(request: HttpRequest, rule_id: int) -> dict[str, Any]:
    _admin(request)
    return _rule_out(_assignment_rule(rule_id))


@router.patch("/assignment-rules/{int:rule_id}", response=AssignmentRuleOut)
def assignment_rule_update(
    request: HttpRequest, rule_id: int, payload: AssignmentRulePatch
) -> dict[str, Any]:
    caller = _admin(request)
    rule = _assignment_rule(rule_id)
    assignment.rule_update(actor=caller, rule=rule, data=_payload(payload.dict(exclude_unset=True)))
    return _rule_out(_assignment_rule(rule_id))


@router.delete("/assignment-rules/{int:rule_id}", response={204: None})
def assignment_rule_delete(request: HttpRequest, rule_id: int) -> Status[None]:
    caller = _admin(request)
    assignment.rule_delete(actor=caller, rule=_assignment_rule(rule_id))
    return Status(204, None)


# --- scoring ----------------------------------------------------------------------------


class ScoringRuleIn(Schema):
    name: str
    position: int = 0
    active: bool = True
    kind: str = Field(..., description="field | source | followups | recency")
    field: str = Field("", description="kind=field: a lead field or custom.<key>")
    operator: str = Field("", description="kind=field: equals | contains | filled | in")
    value: str | list[str] = Field(
        "", description="equals / contains: a text; in: a list; source: source code(s)"
    )
    number: int | None = Field(
        None, description="followups: at least N follow-ups; recency: contacted within N days"
    )
    points: int = Field(..., description="Added when the condition holds (negative: taken off)")


class ScoringRulePatch(Schema):
    name: str | None = None
    position: int | None = None
    active: bool | None = None
    kind: str | None = None
    field: str | None = None
    operator: str | None = None
    value: str | list[str] | None = None
    number: int | None = None
    points: int | None = None


class ScoringRuleOut(Schema):
    id: int
    name: str
    position: int
    active: bool
    kind: str
    field: str
    operator: str
    value: str | list[str]
    number: int | None
    points: int
    created_at: str
    updated_at: str


def _scoring_out(rule: ScoringRule) -> dict[str, Any]:
    return {
        "id": rule.pk,
        "name": rule.name,
        "position": rule.position,
        "active": rule.active,
        "kind": rule.kind,
        "field": rule.field,
        "operator": rule.operator,
        "value": rule.value if isinstance(rule.value, list) else str(rule.value or ""),
        "number": rule.number,
        "points": rule.points,
        "created_at": rule.created_at.isoformat(),
        "updated_at": rule.updated_at.isoformat(),
    }


def _scoring_rule(pk: int) -> ScoringRule:
    rule = ScoringRule.objects.filter(pk=pk).first()
    if rule is None:
        raise OutOfScope()
    return rule


@router.get("/scoring-rules", response=list[ScoringRuleOut], summary="Scoring rules")
def scoring_rules(request: HttpRequest) -> list[dict[str, Any]]:
    _admin(request)
    return [_scoring_out(r) for r in scoring.rule_list()]


@router.post("/scoring-rules", response={201: ScoringRuleOut})
def scoring_rule_create(request: HttpRequest, payload: ScoringRuleIn) -> Status[dict[str, Any]]:
    caller = _admin(request)
    rule = scoring.rule_create(actor=caller, data=payload.dict())
    return Status(201, _scoring_out(rule))


@router.get("/scoring-rules/{int:rule_id}", response=ScoringRuleOut)
def scoring_rule_detail(request: HttpRequest, rule_id: int) -> dict[str, Any]:
    _admin(request)
    return _scoring_out(_scoring_rule(rule_id))


@router.patch("/scoring-rules/{int:rule_id}", response=ScoringRuleOut)
def scoring_rule_update(
    request: HttpRequest, rule_id: int, payload: ScoringRulePatch
) -> dict[str, Any]:
    caller = _admin(request)
    rule = scoring.rule_update(
        actor=caller, rule=_scoring_rule(rule_id), data=payload.dict(exclude_unset=True)
    )
    return _scoring_out(rule)


@router.delete("/scoring-rules/{int:rule_id}", response={204: None})
def scoring_rule_delete(request: HttpRequest, rule_id: int) -> Status[None]:
    caller = _admin(request)
    scoring.rule_delete(actor=caller, rule=_scoring_rule(rule_id))
    return Status(204, None)
