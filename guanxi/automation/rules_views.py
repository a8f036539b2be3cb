"""Admin pages of the rules engine: the list, the builder (htmx rows), the run log and the
dry run. Thin: the form is turned into the same data the API takes, the service checks it."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.automation.models import EmailTemplate, RobotChannel
from guanxi.automation.rules import actions, conditions, engine, entities, selectors, services
from guanxi.automation.rules.models import Rule
from guanxi.core import permissions
from guanxi.core.errors import FieldError, OutOfScope, ValidationFailed
from guanxi.identity.models import User

TEXT_PARAM = {
    "create_task": "title",
    "notify": "message",
    "update_field": "value",
    "add_tag": "tag",
    "remove_tag": "tag",
    "request_approval": "reason",
    "robot_post": "title",
}
WHO_PARAM = {"create_task": "assignee", "notify": "recipient", "send_email": "to"}


def _admin(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    if not permissions.is_admin(user):
        raise Http404
    return user


def _rule(actor: User, pk: int) -> Rule:
    try:
        return selectors.rule_get(actor=actor, pk=pk)
    except OutOfScope as exc:
        raise Http404 from exc


def _entity_key(value: Any) -> str:
    key = str(value or "lead")
    if key not in entities.entity_keys():
        raise Http404
    return key


# --- form ⇄ data ------------------------------------------------------------------------


def _tokens(post: QueryDict, prefix: str) -> list[str]:
    """Row tokens in page order (``c-<token>-field`` …)."""
    seen: list[str] = []
    for key in post:
        parts = key.split("-")
        if len(parts) == 3 and parts[0] == prefix and parts[1] not in seen:
            seen.append(parts[1])
    return seen


def data_from_post(post: QueryDict, entity_key: str) -> dict[str, Any]:
    main: list[dict[str, Any]] = []
    group: list[dict[str, Any]] = []
    for t in _tokens(post, "c"):
        field = post.get(f"c-{t}-field", "")
        if not field:
            continue
        op = post.get(f"c-{t}-op", "")
        raw = post.get(f"c-{t}-value", "")
        row = {"field": field, "op": op, "value": raw}
        (group if post.get(f"c-{t}-where") == "group" else main).append(row)
    items: list[dict[str, Any]] = list(main)
    if group:
        items.append({"match": post.get("group_match", "any"), "items": group})
    acts: list[dict[str, Any]] = []
    for t in _tokens(post, "a"):
        kind = post.get(f"a-{t}-type", "")
        if not kind:
            continue
        act: dict[str, Any] = {"type": kind}
        if kind in TEXT_PARAM:
            act[TEXT_PARAM[kind]] = post.get(f"a-{t}-text", "")
        if kind in WHO_PARAM:
            act[WHO_PARAM[kind]] = post.get(f"a-{t}-who", "owner")
            act["user_id"] = post.get(f"a-{t}-user", "") or None
        if kind == "create_task":
            act["due_hours"] = post.get(f"a-{t}-hours", "24")
            act["description"] = post.get(f"a-{t}-description", "")
        if kind == "update_field":
            act["field"] = post.get(f"a-{t}-field", "")
        if kind == "send_email":
            act["template_key"] = post.get(f"a-{t}-template", "")
        if kind == "robot_post":
            act["channel_id"] = post.get(f"a-{t}-channel", "") or None
        if kind == "webhook":
            act["url"] = post.get(f"a-{t}-url", "")
            act["secret"] = post.get(f"a-{t}-secret", "")
        acts.append(act)
    return {
        "name": post.get("name", ""),
        "description": post.get("description", ""),
        "entity": entity_key,
        "trigger": post.get("trigger", ""),
        "event": post.get("event", ""),
        "date_field": post.get("date_field", ""),
        "offset_days": post.get("offset_days", "0") or "0",
        "inactivity_days": post.get("inactivity_days", "0") or "0",
        "conditions": {"match": post.get("match", "all"), "items": items},
        "actions": acts,
        "enabled": post.get("enabled") == "on",
    }


def _rows_from(data: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
    conds: list[dict[str, Any]] = []
    group_match = "any"
    for item in (data.get("conditions") or {}).get("items", []):
        if "items" in item:
            group_match = item.get("match", "any")
            for sub in item["items"]:
                conds.append({**sub, "where": "group", "token": secrets.token_hex(4)})
        else:
            conds.append({**item, "where": "main", "token": secrets.token_hex(4)})
    acts = []
    for act in data.get("actions") or []:
        kind = act.get("type", "")
        value = act.get("value", "")
        acts.append(
            {
                "token": secrets.token_hex(4),
                "type": kind,
                "text": act.get(TEXT_PARAM.get(kind, ""), ""),
                "who": act.get(WHO_PARAM.get(kind, ""), "owner"),
                "user": act.get("user_id") or "",
                "hours": act.get("due_hours", 24),
                "description": act.get("description", ""),
                "field": act.get("field", ""),
                "value": value,
                "template": act.get("template_key", ""),
                "channel": act.get("channel_id") or "",
                "url": act.get("url", ""),
                "secret": act.get("secret", ""),
            }
        )
    for c in conds:
        if isinstance(c.get("value"), list):
            c["value"] = ", ".join(str(v) for v in c["value"])
    return conds, acts, group_match


def _choices(entity_key: str) -> dict[str, Any]:
    spec = entities.get(entity_key)
    return {
        "entity_key": entity_key,
        "entity_label": spec.label,
        "events": services.event_choices(entity_key),
        "date_fields": [(k, v[0]) for k, v in spec.dates.items()],
        "has_inactivity": spec.last_touch is not None,
        "fields": conditions.field_choices(entity_key),
        "editable_fields": [(k, f.label) for k, f in spec.fields.items() if f.editable],
        "operators": [(k, v) for k, v in conditions.OPERATORS.items()],
        "action_kinds": [
            (k.key, k.label)
            for k in actions.KINDS.values()
            if k.entities is None or entity_key in k.entities
        ],
        "users": User.objects.filter(is_active=True).order_by("username"),
        "email_templates": EmailTemplate.objects.order_by("key"),
        "channels": RobotChannel.objects.filter(active=True).order_by("name"),
        "triggers": Rule.Trigger.choices,
    }


def _errors(exc: ValidationFailed) -> list[FieldError]:
    return list(exc.errors) or [FieldError("", exc.message)]


# --- pages ------------------------------------------------------------------------------


@login_required
def rules(request: HttpRequest) -> HttpResponse:
    actor = _admin(request)
    rows = selectors.rule_list(actor=actor)
    return render(
        request,
        "automation/rules.html",
        {
            "rows": [(r, selectors.entity_label(r.entity)) for r in rows],
            "entity_kinds": [(k, entities.get(k).label) for k in entities.entity_keys()],
        },
    )


def _builder(
    request: HttpRequest,
    *,
    entity_key: str,
    data: dict[str, Any],
    rule: Rule | None,
    errors: list[FieldError],
) -> HttpResponse:
    conds, acts, group_match = _rows_from(data)
    if not acts:
        acts = [{"token": secrets.token_hex(4), "type": "create_task", "who": "owner", "hours": 24}]
    return render(
        request,
        "automation/rule_form.html",
        {
            **_choices(entity_key),
            "rule": rule,
            "data": data,
            "conds": conds,
            "acts": acts,
            "group_match": group_match,
            "errors": errors,
        },
        status=422 if errors else 200,
    )


@login_required
def rule_create(request: HttpRequest) -> HttpResponse:
    actor = _admin(request)
    entity_key = _entity_key(request.GET.get("entity") or request.POST.get("entity"))
    if request.method == "POST":
        data = data_from_post(request.POST, entity_key)
        try:
            rule = services.rule_create(actor=actor, data=data)
        except ValidationFailed as exc:
            return _builder(
                request, entity_key=entity_key, data=data, rule=None, errors=_errors(exc)
            )
        messages.success(request, _("Rule saved."))
        return redirect("automation:rule_dry_run", pk=rule.pk)
    data = {"trigger": "event", "enabled": False, "conditions": {"match": "all", "items": []}}
    return _builder(request, entity_key=entity_key, data=data, rule=None, errors=[])


@login_required
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _admin(request)
    rule = _rule(actor, pk)
    if request.method == "POST":
        data = data_from_post(request.POST, rule.entity)
        try:
            services.rule_update(actor=actor, rule=rule, data=data)
        except ValidationFailed as exc:
            return _builder(
                request, entity_key=rule.entity, data=data, rule=rule, errors=_errors(exc)
            )
        messages.success(request, _("Rule saved."))
        return redirect("automation:rules")
    return _builder(
        request, entity_key=rule.entity, data=selectors.rule_as_dict(rule), rule=rule, errors=[]
    )


@login_required
def rule_row(request: HttpRequest, kind: str) -> HttpResponse:
    """One new condition or action row of the builder (htmx)."""
    _admin(request)
    entity_key = _entity_key(request.GET.get("entity"))
    token = secrets.token_hex(4)
    if kind == "condition":
        return render(
            request,
            "automation/_rule_condition.html",
            {
                **_choices(entity_key),
                "c": {"token": token, "where": request.GET.get("where", "main")},
            },
        )
    if kind == "action":
        return render(
            request,
            "automation/_rule_action.html",
            {
                **_choices(entity_key),
                "a": {"token": token, "type": "create_task", "who": "owner", "hours": 24},
            },
        )
    if kind == "removed":
        return HttpResponse("")
    raise Http404


@login_required
@require_POST
def rule_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _admin(request)
    rule = _rule(actor, pk)
    try:
        services.rule_set_enabled(actor=actor, rule=rule, enabled=not rule.enabled)
    except ValidationFailed as exc:
        for e in exc.errors:
            messages.error(request, f"{e.field}: {e.message}")
    return redirect("automation:rules")


@login_required
@require_POST
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _admin(request)
    services.rule_delete(actor=actor, rule=_rule(actor, pk))
    messages.success(request, _("Rule deleted."))
    return redirect("automation:rules")


@login_required
def rule_runs(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _admin(request)
    rule = _rule(actor, pk)
    try:
        page = selectors.run_list(actor=actor, rule=rule, page=request.GET.get("page", 1))
    except ValidationFailed:
        page = selectors.run_list(actor=actor, rule=rule)
    return render(request, "automation/rule_runs.html", {"rule": rule, "page": page})


@login_required
def rule_dry_run(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _admin(request)
    rule = _rule(actor, pk)
    spec = entities.get(rule.entity)
    result: dict[str, Any] | None = None
    error = ""
    record_id = request.GET.get("record_id", "").strip()
    if record_id:
        try:
            result = engine.dry_run(rule, int(record_id))
        except ValueError:
            error = _("Enter a record id (a number).")
        except ValidationFailed as exc:
            error = "; ".join(str(e.message) for e in exc.errors)
    recent = spec.queryset().order_by("-id")[:20]
    return render(
        request,
        "automation/rule_dry_run.html",
        {
            "rule": rule,
            "result": result,
            "error": error,
            "record_id": record_id,
            "recent": recent,
            "entity_label": spec.label,
            "summaries": [actions.describe(a) for a in rule.actions],
        },
        status=422 if error else 200,
    )
