"""Reads of rules and their run log (admins only)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Max

from guanxi.automation.rules import actions, entities
from guanxi.automation.rules.models import Rule, RuleRun
from guanxi.automation.rules.services import require_admin
from guanxi.core.errors import OutOfScope
from guanxi.core.pagination import Page, paginate
from guanxi.identity.models import User


def rule_list(*, actor: User) -> list[Rule]:
    require_admin(actor)
    return list(
        Rule.objects.select_related("created_by")
        .annotate(run_count=Count("runs"), last_run_at=Max("runs__created_at"))
        .order_by("-enabled", "name", "id")
    )


def rule_get(*, actor: User, pk: Any) -> Rule:
    require_admin(actor)
    try:
        return Rule.objects.select_related("created_by").get(pk=int(pk))
    except (Rule.DoesNotExist, TypeError, ValueError) as exc:
        raise OutOfScope() from exc


def run_list(*, actor: User, rule: Rule, page: Any = 1, page_size: Any = 50) -> Page:
    require_admin(actor)
    return paginate(
        RuleRun.objects.filter(rule=rule).order_by("-created_at", "-id"), page, page_size
    )


def rule_as_dict(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.pk,
        "name": rule.name,
        "description": rule.description,
        "entity": rule.entity,
        "trigger": rule.trigger,
        "event": rule.event or None,
        "date_field": rule.date_field or None,
        "offset_days": rule.offset_days,
        "inactivity_days": rule.inactivity_days,
        "conditions": rule.conditions or {"match": "all", "items": []},
        "actions": rule.actions,
        "action_summaries": [actions.describe(a) for a in rule.actions],
        "enabled": rule.enabled,
        "template_key": rule.template_key or None,
        "created_by": {"id": rule.created_by.pk, "username": rule.created_by.username}
        if rule.created_by
        else None,
        "created_at": rule.created_at,
        "updated_at": rule.updated_at,
    }


def run_as_dict(run: RuleRun) -> dict[str, Any]:
    return {
        "id": run.pk,
        "rule_id": run.rule_id,
        "record_id": run.record_id,
        "occasion": run.occasion,
        "event": run.event or None,
        "depth": run.depth,
        "status": run.status,
        "results": run.results,
        "message": run.message,
        "created_at": run.created_at,
        "finished_at": run.finished_at,
    }


def entity_label(key: str) -> str:
    try:
        return str(entities.get(key).label)
    except KeyError:
        return key
