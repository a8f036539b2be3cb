"""/events (the catalogue of domain events) and /rules (automation rules, admins only):
CRUD, the run log and the dry run."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.responses import Status

from guanxi.api.auth import actor
from guanxi.automation.rules import engine, selectors, services
from guanxi.core import events

router = Router(tags=["automation rules"])


class EventOut(Schema):
    name: str
    description: str


def _events_doc() -> str:
    # The routers load after every app is ready, so every event is defined by now.
    listing = "\n".join(f"- `{e['name']}`: {e['description']}" for e in events.catalogue())
    return (
        "Every named event Guanxi emits after a change commits. Rules listen to them, "
        "webhooks deliver them. The standard payload is `{event, description, entity, id, "
        "record, changes, actor, occurred_at, data}`: `record` is the record as this API "
        "shows it, `changes` maps each changed field to `[old, new]`, `actor` is "
        "`{id, username}` or null for the system.\n\n" + listing
    )


@router.get("/events", response=list[EventOut], summary="Domain events", description=_events_doc())
def event_list(request: HttpRequest) -> list[dict[str, str]]:
    actor(request)
    return events.catalogue()


class ConditionRow(Schema):
    field: str = Field(..., description="A field of the record type, or custom.<key>")
    op: str = Field(
        ...,
        description="eq | ne | gt | lt | contains | in | empty | not_empty | changed | changed_to",
    )
    value: Any = ""


class ConditionGroup(Schema):
    match: str = Field("all", description="all (AND) | any (OR)")
    items: list[dict[str, Any]] = Field(
        [], description="Rows {field, op, value} or groups {match, items} (one level)"
    )


class RuleIn(Schema):
    name: str
    description: str = ""
    entity: str = Field(..., description="lead | account | contact | deal | task")
    trigger: str = Field(..., description="event | date | inactivity")
    event: str = Field("", description="For trigger=event: a name from GET /events")
    date_field: str = Field("", description="For trigger=date")
    offset_days: int = Field(0, description="Days after the date (negative: before)")
    inactivity_days: int = Field(0, description="For trigger=inactivity")
    conditions: ConditionGroup | None = None
    actions: list[dict[str, Any]] = Field(
        ...,
        description=(
            "[{type, …}] with type create_task {title, description, due_hours, priority, "
            "assignee: owner|manager|user, user_id} | assign | update_field {field, value} | "
            "add_tag {tag} | remove_tag {tag} | notify {message, recipient, user_id} | "
            "request_approval {reason}. Texts take merge fields like {name}."
        ),
    )
    enabled: bool = False


class RulePatch(Schema):
    name: str | None = None
    description: str | None = None
    entity: str | None = None
    trigger: str | None = None
    event: str | None = None
    date_field: str | None = None
    offset_days: int | None = None
    inactivity_days: int | None = None
    conditions: ConditionGroup | None = None
    actions: list[dict[str, Any]] | None = None
    enabled: bool | None = None


class UserRef(Schema):
    id: int
    username: str


class RuleOut(Schema):
    id: int
    name: str
    description: str
    entity: str
    trigger: str
    event: str | None
    date_field: str | None
    offset_days: int
    inactivity_days: int
    conditions: dict[str, Any]
    actions: list[dict[str, Any]]
    action_summaries: list[str]
    enabled: bool
    template_key: str | None
    created_by: UserRef | None
    created_at: dt.datetime
    updated_at: dt.datetime


class RunOut(Schema):
    id: int
    rule_id: int
    record_id: int | None
    occasion: str
    event: str | None
    depth: int
    status: str
    results: list[dict[str, Any]]
    message: str
    created_at: dt.datetime
    finished_at: dt.datetime | None


class RunPage(Schema):
    items: list[RunOut]
    count: int
    count_exact: bool
    page: int
    page_size: int


class DryRunOut(Schema):
    record: dict[str, Any]
    trigger: dict[str, Any]
    conditions: dict[str, Any]
    would_fire: bool
    actions: list[dict[str, Any]]


def _data(payload: Schema) -> dict[str, Any]:
    data = payload.dict(exclude_unset=True)
    if "conditions" in data and data["conditions"] is None:
        data.pop("conditions")
    return {k: v for k, v in data.items() if v is not None}


@router.get("/rules", response=list[RuleOut], summary="Automation rules")
def rule_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [selectors.rule_as_dict(r) for r in selectors.rule_list(actor=actor(request))]


@router.post("/rules", response={201: RuleOut}, summary="Create a rule")
def rule_create(request: HttpRequest, payload: RuleIn) -> Status[dict[str, Any]]:
    rule = services.rule_create(actor=actor(request), data=_data(payload))
    return Status(201, selectors.rule_as_dict(rule))


@router.get("/rules/{int:rule_id}", response=RuleOut, summary="One rule")
def rule_detail(request: HttpRequest, rule_id: int) -> dict[str, Any]:
    return selectors.rule_as_dict(selectors.rule_get(actor=actor(request), pk=rule_id))


@router.patch("/rules/{int:rule_id}", response=RuleOut, summary="Change a rule")
def rule_update(request: HttpRequest, rule_id: int, payload: RulePatch) -> dict[str, Any]:
    caller = actor(request)
    rule = selectors.rule_get(actor=caller, pk=rule_id)
    rule = services.rule_update(actor=caller, rule=rule, data=_data(payload))
    return selectors.rule_as_dict(selectors.rule_get(actor=caller, pk=rule.pk))


@router.delete("/rules/{int:rule_id}", response={204: None}, summary="Delete a rule")
def rule_delete(request: HttpRequest, rule_id: int) -> Status[None]:
    caller = actor(request)
    services.rule_delete(actor=caller, rule=selectors.rule_get(actor=caller, pk=rule_id))
    return Status(204, None)


@router.get("/rules/{int:rule_id}/runs", response=RunPage, summary="A rule's run log")
def rule_runs(
    request: HttpRequest, rule_id: int, page: int = 1, page_size: int = 50
) -> dict[str, Any]:
    caller = actor(request)
    rule = selectors.rule_get(actor=caller, pk=rule_id)
    result = selectors.run_list(actor=caller, rule=rule, page=page, page_size=page_size)
    return {
        "items": [selectors.run_as_dict(r) for r in result.items],
        "count": result.count,
        "count_exact": result.count_exact,
        "page": result.page,
        "page_size": result.page_size,
    }


class DryRunIn(Schema):
    record_id: int


@router.post(
    "/rules/{int:rule_id}/dry-run",
    response=DryRunOut,
    summary="What the rule would do for a record (changes nothing)",
)
def rule_dry_run(request: HttpRequest, rule_id: int, payload: DryRunIn) -> dict[str, Any]:
    rule = selectors.rule_get(actor=actor(request), pk=rule_id)
    return engine.dry_run(rule, payload.record_id)
