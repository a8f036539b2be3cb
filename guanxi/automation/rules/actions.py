"""Actions a rule can take. Each kind checks its parameters when the rule is saved,
describes itself (for the dry run and the run log) and runs against one record.

Actions call the owning apps' services as the rule's author, so each one is validated,
audited and announced like a person's change (with the chain depth on its events).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.automation.rules import entities
from guanxi.core.errors import FieldError
from guanxi.identity.models import User


class ActionFailedError(Exception):
    """An action could not be done for this record (told in the run log)."""


@dataclass
class RunContext:
    rule: Any  # Rule
    entity: entities.RuleEntity
    obj: Any
    values: dict[str, Any]
    actor: User  # the rule's author: actions run with their rights
    envelope: dict[str, Any] | None = None


@dataclass(frozen=True)
class ActionKind:
    key: str
    label: Any
    clean: Callable[[str, dict[str, Any], list[FieldError], str], dict[str, Any]]
    describe: Callable[[dict[str, Any]], str]
    run: Callable[[RunContext, dict[str, Any]], str]
    entities: tuple[str, ...] | None = None  # None: every record type


_MERGE = re.compile(r"\{([a-z_][a-z0-9_.]*)\}")


def render(text: str, values: dict[str, Any]) -> str:
    """Merge fields: ``{name}``, ``{custom.key}``, ``{owner.username}`` in ``text``."""

    def one(match: re.Match[str]) -> str:
        cur: Any = values
        for part in match.group(1).split("."):
            if not isinstance(cur, dict) or part not in cur:
                return match.group(0)
            cur = cur[part]
        if isinstance(cur, dict):
            cur = cur.get("name") or cur.get("username") or cur.get("id")
        return "" if cur is None else str(cur)

    return _MERGE.sub(one, text)


# --- parameter checks -------------------------------------------------------------------


def _text(
    params: dict[str, Any], errors: list[FieldError], where: str, name: str, limit: int
) -> str:
    value = str(params.get(name) or "").strip()
    if not value:
        errors.append(FieldError(f"{where}.{name}", _("This field is required.")))
    elif len(value) > limit:
        errors.append(FieldError(f"{where}.{name}", _("At most %(n)d characters.") % {"n": limit}))
    return value


def _int(
    params: dict[str, Any],
    errors: list[FieldError],
    where: str,
    name: str,
    low: int,
    high: int,
    default: int,
) -> int:
    raw = params.get(name, default)
    if raw in (None, ""):
        return default
    try:
        value = int(str(raw).strip())
    except ValueError:
        errors.append(FieldError(f"{where}.{name}", _("Enter a whole number.")))
        return default
    if not low <= value <= high:
        errors.append(
            FieldError(
                f"{where}.{name}",
                _("Enter a number from %(low)d to %(high)d.") % {"low": low, "high": high},
            )
        )
    return value


WHO = ("owner", "manager", "user")


def _who(params: dict[str, Any], errors: list[FieldError], where: str, name: str) -> dict[str, Any]:
    who = str(params.get(name) or "owner")
    out: dict[str, Any] = {name: who}
    if who not in WHO:
        errors.append(FieldError(f"{where}.{name}", _("Choose the owner, the manager or a user.")))
    if who == "user":
        try:
            user_id = int(params.get("user_id") or 0)
        except (TypeError, ValueError):
            user_id = 0
        if not User.objects.filter(pk=user_id, is_active=True).exists():
            errors.append(FieldError(f"{where}.user_id", _("Choose an active user.")))
        out["user_id"] = user_id
    return out


def _resolve_who(ctx: RunContext, params: dict[str, Any], name: str) -> User:
    who = params.get(name, "owner")
    owner = entities.owner_of(ctx.entity, ctx.obj)
    if who == "user":
        user = User.objects.filter(pk=int(params.get("user_id") or 0), is_active=True).first()
        if user is None:
            raise ActionFailedError(_("The chosen user no longer exists or is inactive."))
        return user
    if owner is None:
        raise ActionFailedError(_("The record has no owner."))
    if who == "manager":
        manager = entities.manager_of(owner)
        if manager is None:
            raise ActionFailedError(_("The owner's department has no manager."))
        return manager
    return owner


def _who_label(params: dict[str, Any], name: str) -> str:
    who = params.get(name, "owner")
    if who == "manager":
        return _("the owner's manager")
    if who == "user":
        user = User.objects.filter(pk=int(params.get("user_id") or 0)).first()
        return user.label if user else "?"
    return _("the owner")


# --- create a task ----------------------------------------------------------------------

TARGETS = ("lead", "account", "contact", "deal")


def _clean_task(
    entity_key: str, p: dict[str, Any], errors: list[FieldError], where: str
) -> dict[str, Any]:
    from guanxi.activities.models import Task

    priority = str(p.get("priority") or Task.Priority.NORMAL)
    if priority not in Task.Priority.values:
        errors.append(FieldError(f"{where}.priority", _("Choose a priority.")))
    return {
        "title": _text(p, errors, where, "title", 200),
        "description": str(p.get("description") or "").strip(),
        "due_hours": _int(p, errors, where, "due_hours", 0, 24 * 366, 24),
        "priority": priority,
        **_who(p, errors, where, "assignee"),
    }


def _describe_task(p: dict[str, Any]) -> str:
    return _("Create the task “%(title)s” for %(who)s, due in %(h)s hours") % {
        "title": p.get("title"),
        "who": _who_label(p, "assignee"),
        "h": p.get("due_hours", 24),
    }


def _run_task(ctx: RunContext, p: dict[str, Any]) -> str:
    from guanxi.activities.services import task_create

    assignee = _resolve_who(ctx, p, "assignee")
    target = ctx.entity.key if ctx.entity.key in TARGETS else ""
    task = task_create(
        actor=ctx.actor,
        title=render(p["title"], ctx.values)[:200],
        description=render(p.get("description", ""), ctx.values),
        assignee=assignee,
        due_at=timezone.now() + dt.timedelta(hours=int(p.get("due_hours", 24))),
        priority=p.get("priority") or "normal",
        target_entity=target,
        target_id=ctx.obj.pk if target else None,
    )
    return _("Task #%(id)s for %(who)s") % {"id": task.pk, "who": assignee.label}


# --- assign by the lead assignment rules ------------------------------------------------


def _run_assign(ctx: RunContext, p: dict[str, Any]) -> str:
    from guanxi.leads.assignment import lead_reassign

    decision = lead_reassign(actor=ctx.actor, lead=ctx.obj)
    return str(decision.reason)


# --- update a field, tags ---------------------------------------------------------------


def _clean_update(
    entity_key: str, p: dict[str, Any], errors: list[FieldError], where: str
) -> dict[str, Any]:
    name = str(p.get("field") or "")
    spec = entities.get(entity_key)
    if name not in spec.fields or not spec.fields[name].editable:
        errors.append(FieldError(f"{where}.field", _("This field cannot be set by a rule.")))
    value = str(p.get("value") if p.get("value") is not None else "").strip()
    if len(value) > 500:
        errors.append(FieldError(f"{where}.value", _("At most %(n)d characters.") % {"n": 500}))
    return {"field": name, "value": value}


def _run_update(ctx: RunContext, p: dict[str, Any]) -> str:
    value = render(p["value"], ctx.values)
    ctx.entity.update(ctx.actor, ctx.obj, {p["field"]: value})
    return _("%(field)s set to “%(value)s”") % {"field": p["field"], "value": value}


def _clean_tag(
    entity_key: str, p: dict[str, Any], errors: list[FieldError], where: str
) -> dict[str, Any]:
    if "tags" not in entities.get(entity_key).fields:
        errors.append(FieldError(f"{where}.type", _("This record type has no tags.")))
    return {"tag": _text(p, errors, where, "tag", 50)}


def _set_tags(ctx: RunContext, tag: str, add: bool) -> str:
    tags = list(getattr(ctx.obj, "tags", None) or [])
    if add and tag not in tags:
        ctx.entity.update(ctx.actor, ctx.obj, {"tags": [*tags, tag]})
        return _("Tag “%(tag)s” added") % {"tag": tag}
    if not add and tag in tags:
        ctx.entity.update(ctx.actor, ctx.obj, {"tags": [t for t in tags if t != tag]})
        return _("Tag “%(tag)s” removed") % {"tag": tag}
    return _("Tags already as wanted")


# --- notify -----------------------------------------------------------------------------


def _clean_notify(
    entity_key: str, p: dict[str, Any], errors: list[FieldError], where: str
) -> dict[str, Any]:
    return {
        "message": _text(p, errors, where, "message", 200),
        **_who(p, errors, where, "recipient"),
    }


def _run_notify(ctx: RunContext, p: dict[str, Any]) -> str:
    from guanxi.activities.services import notification_create

    recipient = _resolve_who(ctx, p, "recipient")
    note = notification_create(
        recipient=recipient,
        verb="rule",
        title=render(p["message"], ctx.values),
        body=_("Rule: %(rule)s") % {"rule": ctx.rule.name},
        url=ctx.entity.url(ctx.obj),
        target_entity=ctx.entity.key,
        target_id=ctx.obj.pk,
    )
    return _("Notification #%(id)s to %(who)s") % {"id": note.pk, "who": recipient.label}


# --- request approval -------------------------------------------------------------------


def _clean_approval(
    entity_key: str, p: dict[str, Any], errors: list[FieldError], where: str
) -> dict[str, Any]:
    from guanxi.automation import flows

    if not flows.has_flow(entity_key):
        errors.append(FieldError(f"{where}.type", _("This record type has no approval flow.")))
    reason = str(p.get("reason") or "").strip()
    if len(reason) > 500:
        errors.append(FieldError(f"{where}.reason", _("At most %(n)d characters.") % {"n": 500}))
    return {"reason": reason}


def _run_approval(ctx: RunContext, p: dict[str, Any]) -> str:
    from guanxi.automation.services import approval_request

    req = approval_request(
        actor=ctx.actor,
        entity=ctx.entity.key,
        obj=ctx.obj,
        reason=render(p.get("reason", ""), ctx.values),
    )
    return _("Approval request #%(id)s opened") % {"id": req.pk}


# --- e-mail, robot channels, webhooks (sent by the notification centre) -----------------


def _clean_email(
    entity_key: str, p: dict[str, Any], errors: list[FieldError], where: str
) -> dict[str, Any]:
    from guanxi.automation.models import EmailTemplate

    key = str(p.get("template_key") or "").strip()
    if not EmailTemplate.objects.filter(key=key).exists():
        errors.append(FieldError(f"{where}.template_key", _("Choose an e-mail template.")))
    to = str(p.get("to") or "owner")
    out: dict[str, Any] = {"template_key": key, "to": to}
    if to == "record":
        if "email" not in _record_fields(entity_key):
            errors.append(FieldError(f"{where}.to", _("This record type has no e-mail address.")))
    else:
        out.update(_who({**p, "to": to}, errors, where, "to"))
    return out


def _record_fields(entity_key: str) -> set[str]:
    return {"lead": {"email"}, "contact": {"email"}}.get(entity_key, set())


def _run_email(ctx: RunContext, p: dict[str, Any]) -> str:
    from guanxi.automation.notify import send_email_template

    if p.get("to") == "record":
        address = str(ctx.values.get("email") or "").strip()
        if not address:
            raise ActionFailedError(_("The record has no e-mail address."))
    else:
        user = _resolve_who(ctx, {**p, "assignee": p.get("to")}, "assignee")
        address = (user.email or "").strip()
        if not address:
            raise ActionFailedError(_("%(who)s has no e-mail address.") % {"who": user.label})
    send_email_template(
        template_key=p["template_key"],
        to=[address],
        context={
            **ctx.values,
            ctx.entity.key: ctx.values,
            "record": ctx.values,
            "rule": ctx.rule.name,
        },
        record=(ctx.entity.key, ctx.obj.pk),
    )
    return _("E-mail “%(key)s” queued to %(to)s") % {"key": p["template_key"], "to": address}


def _describe_email(p: dict[str, Any]) -> str:
    to = _("the record's e-mail") if p.get("to") == "record" else _who_label(p, "to")
    return _("Send the e-mail template “%(key)s” to %(to)s") % {
        "key": p.get("template_key"),
        "to": to,
    }


def _clean_robot(
    entity_key: str, p: dict[str, Any], errors: list[FieldError], where: str
) -> dict[str, Any]:
    from guanxi.automation.models import RobotChannel

    try:
        channel_id = int(p.get("channel_id") or 0)
    except (TypeError, ValueError):
        channel_id = 0
    if not RobotChannel.objects.filter(pk=channel_id).exists():
        errors.append(FieldError(f"{where}.channel_id", _("Choose a robot channel.")))
    return {"channel_id": channel_id, "title": _text(p, errors, where, "title", 200)}


def _run_robot(ctx: RunContext, p: dict[str, Any]) -> str:
    from guanxi.automation.channels import channel_post

    title = render(p["title"], ctx.values)
    channel_post(
        channel_id=int(p["channel_id"]),
        title=title,
        text=_("%(record)s — rule “%(rule)s”") % {"record": ctx.obj, "rule": ctx.rule.name},
        url=ctx.entity.url(ctx.obj),
    )
    return _("Robot message queued: %(title)s") % {"title": title}


def _describe_robot(p: dict[str, Any]) -> str:
    from guanxi.automation.models import RobotChannel

    channel = RobotChannel.objects.filter(pk=p.get("channel_id") or 0).first()
    return _("Post “%(title)s” to the robot channel %(channel)s") % {
        "title": p.get("title"),
        "channel": channel.name if channel else "?",
    }


def _clean_webhook(
    entity_key: str, p: dict[str, Any], errors: list[FieldError], where: str
) -> dict[str, Any]:
    from django.core.exceptions import ValidationError
    from django.core.validators import URLValidator

    url = str(p.get("url") or "").strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        errors.append(FieldError(f"{where}.url", _("Enter an http or https URL.")))
    secret = str(p.get("secret") or "")
    if len(secret) > 200:
        errors.append(FieldError(f"{where}.secret", _("At most %(n)d characters.") % {"n": 200}))
    return {"url": url, "secret": secret}


def _run_webhook(ctx: RunContext, p: dict[str, Any]) -> str:
    from guanxi.automation.webhooks import webhook_call
    from guanxi.core import events

    payload = events.jsonable(
        {
            "rule": {"id": ctx.rule.id, "name": ctx.rule.name},
            "entity": ctx.entity.key,
            "id": ctx.obj.pk,
            "record": ctx.entity.as_dict(ctx.obj),
        }
    )
    webhook_call(url=p["url"], payload=payload, secret=p.get("secret") or None)
    return _("Webhook call to %(url)s queued") % {"url": p["url"]}


KINDS: dict[str, ActionKind] = {}


def register(kind: ActionKind) -> None:
    KINDS[kind.key] = kind


register(
    ActionKind("create_task", gettext_lazy("Create a task"), _clean_task, _describe_task, _run_task)
)
register(
    ActionKind(
        "assign",
        gettext_lazy("Assign by the assignment rules"),
        lambda e, p, errors, w: {},
        lambda p: _("Route the lead again by the assignment rules"),
        _run_assign,
        entities=("lead",),
    )
)
register(
    ActionKind(
        "update_field",
        gettext_lazy("Update a field"),
        _clean_update,
        lambda p: (
            _("Set %(field)s to “%(value)s”") % {"field": p.get("field"), "value": p.get("value")}
        ),
        _run_update,
    )
)
register(
    ActionKind(
        "add_tag",
        gettext_lazy("Add a tag"),
        _clean_tag,
        lambda p: _("Add the tag “%(tag)s”") % {"tag": p.get("tag")},
        lambda ctx, p: _set_tags(ctx, p["tag"], True),
    )
)
register(
    ActionKind(
        "remove_tag",
        gettext_lazy("Remove a tag"),
        _clean_tag,
        lambda p: _("Remove the tag “%(tag)s”") % {"tag": p.get("tag")},
        lambda ctx, p: _set_tags(ctx, p["tag"], False),
    )
)
register(
    ActionKind(
        "notify",
        gettext_lazy("Notify someone"),
        _clean_notify,
        lambda p: (
            _("Notify %(who)s: “%(msg)s”")
            % {"who": _who_label(p, "recipient"), "msg": p.get("message")}
        ),
        _run_notify,
    )
)
register(
    ActionKind(
        "request_approval",
        gettext_lazy("Request approval"),
        _clean_approval,
        lambda p: _("Ask for approval"),
        _run_approval,
    )
)
register(
    ActionKind(
        "send_email",
        gettext_lazy("Send an e-mail from a template"),
        _clean_email,
        _describe_email,
        _run_email,
    )
)
register(
    ActionKind(
        "robot_post",
        gettext_lazy("Post to a robot channel"),
        _clean_robot,
        _describe_robot,
        _run_robot,
    )
)
register(
    ActionKind(
        "webhook",
        gettext_lazy("Call a webhook"),
        _clean_webhook,
        lambda p: _("POST the record to %(url)s") % {"url": p.get("url")},
        _run_webhook,
    )
)


def clean(entity_key: str, raw: Any, errors: list[FieldError]) -> list[dict[str, Any]]:
    """The checked list of actions (``[{"type", …params}]``); at least one."""
    if not isinstance(raw, list) or not raw:
        errors.append(FieldError("actions", _("Add at least one action.")))
        return []
    if len(raw) > 20:
        errors.append(FieldError("actions", _("At most 20 actions.")))
    out: list[dict[str, Any]] = []
    for n, item in enumerate(raw, start=1):
        where = f"actions[{n}]"
        if not isinstance(item, dict):
            errors.append(FieldError(where, _("Give an object.")))
            continue
        kind = KINDS.get(str(item.get("type") or ""))
        if kind is None:
            errors.append(FieldError(f"{where}.type", _("Unknown action.")))
            continue
        if kind.entities is not None and entity_key not in kind.entities:
            errors.append(
                FieldError(f"{where}.type", _("This action does not apply to this record type."))
            )
            continue
        out.append({"type": kind.key, **kind.clean(entity_key, item, errors, where)})
    return out


def describe(action: dict[str, Any]) -> str:
    kind = KINDS.get(action.get("type", ""))
    return kind.describe(action) if kind else str(action.get("type"))
