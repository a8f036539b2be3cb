"""Running rules: events → rules (asynchronously, one task per event), the time-based
scan (a set-based query per rule), firing once per record and occasion, the run log,
retries with back-off and loop protection.

Firing is idempotent by the unique (rule, record, occasion) row written in the same
transaction as the actions: a worker that runs the same event or scan twice, or restarts
in the middle, fires each rule at most once per occasion. An event's occasion is its own
id; a date rule's is the date it counted from; an inactivity rule's the last follow-up.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.automation.rules import actions, conditions, entities
from guanxi.automation.rules.models import Rule, RuleFiring, RuleRun
from guanxi.core import events
from guanxi.core.errors import DomainError
from guanxi.identity.models import User
from guanxi.leads.rule_cache import RuleCache

logger = logging.getLogger("guanxi.automation.rules")

MAX_DEPTH = 3  # a rule's change may trigger rules, those again … three levels at most
MAX_ATTEMPTS = 4  # first try + three retries
RETRY_DELAYS = (60, 300, 1800)  # seconds before retry 1, 2, 3 (back-off)
CHUNK = 1000


def lookback_days() -> int:
    """How far back a date rule still fires after the worker was down (days)."""
    return int(getattr(settings, "GUANXI_RULES_LOOKBACK_DAYS", 3))


# --- which rules listen to which events (kept per process, see RuleCache) -------------


@dataclass(frozen=True)
class CompiledRule:
    id: int
    name: str
    entity: str
    conditions: dict[str, Any]
    actions: list[dict[str, Any]]
    created_by_id: int | None


def _load_event_rules() -> dict[str, list[CompiledRule]]:
    out: dict[str, list[CompiledRule]] = defaultdict(list)
    rows = Rule.objects.filter(enabled=True, trigger=Rule.Trigger.EVENT).order_by("id")
    for r in rows:
        out[r.event].append(
            CompiledRule(r.pk, r.name, r.entity, r.conditions, r.actions, r.created_by_id)
        )
    return dict(out)


event_rules: RuleCache[dict[str, list[CompiledRule]]] = RuleCache(
    "automation:event-rules", _load_event_rules
)


def forget_rules() -> None:
    event_rules.forget()


def on_event(event: events.Event) -> None:
    """The ``*`` subscriber: hand the event to the queue when some enabled rule listens."""
    if event.name not in event_rules.get():
        return
    from guanxi.automation.tasks import automation_handle_event

    automation_handle_event(
        event.name,
        dict(event.payload),
        event.actor_id,
        event.depth,
        uuid.uuid4().hex,
    )


# --- firing ---------------------------------------------------------------------------


def run_as(created_by_id: int | None) -> User | None:
    """The user whose rights a rule's actions use: its author, if still active."""
    if created_by_id is None:
        return None
    return User.objects.filter(pk=created_by_id, is_active=True).first()


def _attempt(ctx: actions.RunContext, action: dict[str, Any]) -> tuple[bool, str]:
    kind = actions.KINDS.get(action.get("type", ""))
    if kind is None:
        return False, _("Unknown action.")
    fresh = ctx.entity.load(ctx.obj.pk)
    if fresh is None:
        return False, _("The record no longer exists.")
    ctx.obj = fresh
    try:
        with transaction.atomic():
            return True, kind.run(ctx, action)
    except (actions.ActionFailedError, DomainError) as exc:
        return False, str(getattr(exc, "message", None) or exc) or exc.__class__.__name__
    except Exception as exc:  # an action's failure is logged and retried, never fatal
        logger.exception("rule action %s failed", action.get("type"))
        return False, f"{exc.__class__.__name__}: {exc}"


def _status(results: list[dict[str, Any]]) -> str:
    oks = sum(1 for r in results if r["status"] == "ok")
    if oks == len(results):
        return RuleRun.Status.OK
    return RuleRun.Status.PARTIAL if oks else RuleRun.Status.ERROR


def fire(
    *,
    rule: CompiledRule,
    spec: entities.RuleEntity,
    obj: Any,
    values: dict[str, Any],
    occasion: str,
    event_name: str = "",
    depth: int = 0,
    changes: dict[str, Any] | None = None,
) -> bool:
    """Fire ``rule`` for ``obj`` when its conditions pass and it has not fired on
    ``occasion`` yet. True when it fired (whatever its actions' outcome)."""
    if not conditions.passes(rule.conditions, values, changes):
        return False
    actor = run_as(rule.created_by_id)
    with transaction.atomic():
        try:
            with transaction.atomic():
                RuleFiring.objects.create(rule_id=rule.id, record_id=obj.pk, occasion=occasion)
        except IntegrityError:
            return False  # fired before: a repeated event or scan
        run = RuleRun.objects.create(
            rule_id=rule.id, record_id=obj.pk, occasion=occasion, event=event_name, depth=depth
        )
        results: list[dict[str, Any]] = []
        if actor is None:
            run.status = RuleRun.Status.ERROR
            run.message = _("The rule's author is gone or inactive; an admin must save it again.")
        else:
            ctx = actions.RunContext(rule, spec, obj, values, actor)
            with events.caused_by_automation(depth + 1):
                for action in rule.actions:
                    ok, message = _attempt(ctx, action)
                    retry = not ok and MAX_ATTEMPTS > 1
                    results.append(
                        {
                            "type": action.get("type"),
                            "summary": actions.describe(action),
                            "status": "ok" if ok else ("retrying" if retry else "error"),
                            "message": message,
                            "attempts": 1,
                        }
                    )
            run.status = _status(results)
        run.results = results
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "message", "results", "finished_at"])
        for index, result in enumerate(results):
            if result["status"] == "retrying":
                transaction.on_commit(
                    lambda index=index: _schedule_retry(run.pk, index, attempt=2)  # type: ignore[misc]
                )
    return True


def _schedule_retry(run_id: int, index: int, *, attempt: int) -> None:
    from guanxi.automation.tasks import automation_retry_action

    delay = RETRY_DELAYS[min(attempt - 2, len(RETRY_DELAYS) - 1)]
    automation_retry_action.schedule(args=(run_id, index, attempt), delay=delay)


def retry_action(run_id: int, index: int, attempt: int) -> bool:
    """Try action ``index`` of run ``run_id`` again (attempt number ``attempt``); schedule
    the next try with a longer delay when it fails again, up to MAX_ATTEMPTS."""
    with transaction.atomic():
        run = RuleRun.objects.select_for_update().select_related("rule").filter(pk=run_id).first()
        if run is None or index >= len(run.results):
            return False
        result = run.results[index]
        if result["status"] != "retrying" or index >= len(run.rule.actions):
            return False
        spec = entities.get(run.rule.entity)
        obj = spec.load(run.record_id or 0)
        actor = run_as(run.rule.created_by_id)
        if obj is None or actor is None:
            ok, message = False, _("The record or the rule's author is gone.")
            attempt = MAX_ATTEMPTS
        else:
            ctx = actions.RunContext(run.rule, spec, obj, spec.values(obj), actor)
            with events.caused_by_automation(run.depth + 1):
                ok, message = _attempt(ctx, run.rule.actions[index])
        again = not ok and attempt < MAX_ATTEMPTS
        result.update(
            status="ok" if ok else ("retrying" if again else "error"),
            message=message,
            attempts=attempt,
        )
        run.status = _status(run.results)
        run.finished_at = timezone.now()
        run.save(update_fields=["results", "status", "finished_at"])
        if again:
            transaction.on_commit(lambda: _schedule_retry(run_id, index, attempt=attempt + 1))
    return ok


def _compiled(rule: Rule) -> CompiledRule:
    return CompiledRule(
        rule.pk, rule.name, rule.entity, rule.conditions, rule.actions, rule.created_by_id
    )


# --- events ---------------------------------------------------------------------------


def handle_event(
    name: str, payload: dict[str, Any], actor_id: int | None, depth: int, event_key: str
) -> int:
    """Run the enabled rules listening to event ``name``; the number that fired."""
    rules = event_rules.get().get(name, [])
    if not rules:
        return 0
    record_id = payload.get("id")
    if depth > MAX_DEPTH:
        for rule in rules:
            RuleRun.objects.create(
                rule_id=rule.id,
                record_id=record_id if isinstance(record_id, int) else None,
                event=name,
                depth=depth,
                status=RuleRun.Status.STOPPED,
                message=_("Stopped: rules triggered one another more than %(n)d times in a row.")
                % {"n": MAX_DEPTH},
                finished_at=timezone.now(),
            )
        logger.warning("rule chain stopped at depth %s on %s #%s", depth, name, record_id)
        return 0
    if not isinstance(record_id, int):
        return 0
    changes = events.normalise_changes(payload.get("changes"))
    loaded: dict[str, tuple[entities.RuleEntity, Any, dict[str, Any]] | None] = {}
    fired = 0
    for rule in rules:
        if rule.entity not in loaded:
            try:
                spec = entities.get(rule.entity)
            except KeyError:
                loaded[rule.entity] = None
                continue
            obj = spec.load(record_id)
            loaded[rule.entity] = (spec, obj, spec.values(obj)) if obj is not None else None
        found = loaded[rule.entity]
        if found is None:
            continue
        spec, obj, values = found
        if fire(
            rule=rule,
            spec=spec,
            obj=obj,
            values=values,
            occasion=f"{name}#{event_key}"[:120],
            event_name=name,
            depth=depth,
            changes=changes,
        ):
            fired += 1
    return fired


# --- time-based rules -----------------------------------------------------------------


def _is_date_field(model: type[models.Model], name: str) -> bool:
    field = model._meta.get_field(name)
    return isinstance(field, models.DateField) and not isinstance(field, models.DateTimeField)


def candidates(rule: Rule, now: dt.datetime, only: int | None = None) -> list[tuple[int, str]]:
    """``[(record id, occasion)]`` due for the time-based ``rule`` at ``now``: one query
    (``only``: just that record, for the dry run)."""
    spec = entities.get(rule.entity)
    model = spec.queryset().model
    qs = model._default_manager.all()
    if only is not None:
        qs = qs.filter(pk=only)
    back = lookback_days()
    if rule.trigger == Rule.Trigger.INACTIVITY:
        if spec.last_touch is None:
            return []
        limit = now - dt.timedelta(days=rule.inactivity_days)
        rows = (
            qs.annotate(_touch=spec.last_touch())
            .filter(_touch__lte=limit)
            .values_list("pk", "_touch")
        )
        return [(pk, f"inactive@{touch.isoformat()}") for pk, touch in rows.iterator(CHUNK)]
    name = rule.date_field
    if name not in spec.dates:
        return []
    annual = spec.dates[name][1]
    today = timezone.localtime(now).date()
    if annual:
        days = [today - dt.timedelta(days=rule.offset_days + k) for k in range(back + 1)]
        cond = Q()
        for d in days:
            cond |= Q(**{f"{name}__month": d.month, f"{name}__day": d.day})
        by_md = {(d.month, d.day): d for d in days}
        out = []
        for pk, value in qs.filter(cond).values_list("pk", name).iterator(CHUNK):
            hit = by_md.get((value.month, value.day))
            if hit is not None:
                out.append((pk, f"{name}@{hit.isoformat()}"))
        return out
    if _is_date_field(model, name):
        upper_d = today - dt.timedelta(days=rule.offset_days)
        rows = qs.filter(
            **{f"{name}__lte": upper_d, f"{name}__gt": upper_d - dt.timedelta(days=back)}
        ).values_list("pk", name)
    else:
        upper = now - dt.timedelta(days=rule.offset_days)
        rows = qs.filter(
            **{f"{name}__lte": upper, f"{name}__gt": upper - dt.timedelta(days=back)}
        ).values_list("pk", name)
    return [(pk, f"{name}@{value.isoformat()}") for pk, value in rows.iterator(CHUNK)]


def scan_rule(rule: Rule, now: dt.datetime | None = None) -> int:
    """Fire the time-based ``rule`` for every record now due (once per occasion)."""
    now = now or timezone.now()
    spec = entities.get(rule.entity)
    compiled = _compiled(rule)
    due = candidates(rule, now)
    fired = 0
    for start in range(0, len(due), CHUNK):
        chunk = due[start : start + CHUNK]
        done = set(
            RuleFiring.objects.filter(
                rule_id=rule.pk, record_id__in=[pk for pk, _occ in chunk]
            ).values_list("record_id", "occasion")
        )
        todo = [(pk, occ) for pk, occ in chunk if (pk, occ) not in done]
        if not todo:
            continue
        objs = spec.queryset().in_bulk([pk for pk, _occ in todo])
        for pk, occasion in todo:
            obj = objs.get(pk)
            if obj is None:
                continue
            if fire(
                rule=compiled,
                spec=spec,
                obj=obj,
                values=spec.values(obj),
                occasion=occasion,
                event_name="",
            ):
                fired += 1
    return fired


def scan_time_rules(now: dt.datetime | None = None) -> int:
    """Run every enabled time-based rule (the periodic task); the number of firings."""
    now = now or timezone.now()
    fired = 0
    rules = Rule.objects.filter(
        enabled=True, trigger__in=[Rule.Trigger.DATE, Rule.Trigger.INACTIVITY]
    ).order_by("id")
    for rule in rules:
        try:
            fired += scan_rule(rule, now)
        except Exception:  # one broken rule must not stop the others
            logger.exception("time-based rule %s failed", rule.pk)
    return fired


# --- dry run ----------------------------------------------------------------------------


def dry_run(rule: Rule, record_id: int, now: dt.datetime | None = None) -> dict[str, Any]:
    """What ``rule`` would do for record ``record_id`` now, without doing it."""
    spec = entities.get(rule.entity)
    obj = spec.load(record_id)
    if obj is None:
        from guanxi.core.errors import FieldError, ValidationFailed

        raise ValidationFailed(
            [FieldError("record_id", _("No %(kind)s with this id.") % {"kind": spec.label})]
        )
    values = spec.values(obj)
    verdict = conditions.evaluate(rule.conditions, values, {})
    trigger_ok = True
    trigger_note = ""
    if rule.trigger != Rule.Trigger.EVENT:
        due = dict(candidates(rule, now or timezone.now(), only=record_id))
        trigger_ok = record_id in due
        if trigger_ok:
            fired = RuleFiring.objects.filter(
                rule=rule, record_id=record_id, occasion=due[record_id]
            ).exists()
            trigger_note = (
                _("Due now, but it already fired on this occasion.")
                if fired
                else _("Due now (occasion %(o)s).") % {"o": due[record_id]}
            )
            trigger_ok = not fired
        else:
            trigger_note = _("Not due now.")
    else:
        trigger_note = _("Runs when “%(event)s” happens to this record.") % {"event": rule.event}
    return {
        "record": {"id": obj.pk, "label": str(obj), "url": spec.url(obj)},
        "trigger": {"due": trigger_ok, "note": trigger_note},
        "conditions": {"passed": verdict.passed, "reasons": verdict.reasons},
        "would_fire": verdict.passed and trigger_ok,
        "actions": [{"type": a.get("type"), "summary": actions.describe(a)} for a in rule.actions],
    }
