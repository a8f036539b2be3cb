"""Administrators' pages: lead assignment rules (with the fallback) and scoring rules.

Thin: the services in ``guanxi.leads.assignment`` / ``guanxi.leads.scoring`` validate,
audit and clear the rule caches.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.core import custom_fields
from guanxi.core.errors import DomainError, FieldError, ValidationFailed
from guanxi.customers.views import actor_of
from guanxi.leads import assignment, scoring
from guanxi.leads.models import AssignmentRule, AssignmentSettings, LeadSource, ScoringRule
from guanxi.leads.rules_forms import (
    AssignmentRuleForm,
    FallbackForm,
    ScoringRuleForm,
    field_choices,
)
from guanxi.web.access import admin_required
from guanxi.web.forms import apply_domain_errors, flash_domain_error


def _source_names() -> dict[str, str]:
    return dict(LeadSource.objects.values_list("code", "name_zh"))


def _conditions_text(rule: AssignmentRule, sources: dict[str, str]) -> str:
    """“Source: 展会 · Province: 浙江, 江苏” (or “Any lead”)."""
    cond = rule.conditions or {}
    labels = {
        "source": _("Source"),
        "province": _("Province"),
        "city": _("City"),
        "industry": _("Industry"),
        "tags": _("Tags"),
    }
    parts = []
    for key, label in labels.items():
        values = cond.get(key) or []
        if key == "source":
            values = [sources.get(v, v) for v in values]
        if values:
            parts.append(f"{label}: {', '.join(values)}")
    names = {d.key: d.label() for d in custom_fields.definitions("lead")}
    for key, values in (cond.get("custom") or {}).items():
        parts.append(f"{names.get(key, key)}: {', '.join(values)}")
    return " · ".join(parts) or _("Any lead")


def _scoring_text(rule: ScoringRule, sources: dict[str, str]) -> str:
    """“Industry is one of 制造, 汽车”, “At least 3 follow-ups” …"""
    value = rule.value
    if rule.kind == ScoringRule.Kind.SOURCE:
        codes = value if isinstance(value, list) else [value]
        names = [sources.get(str(c), str(c)) for c in codes]
        return _("Source: %(s)s") % {"s": ", ".join(names)}
    if rule.kind == ScoringRule.Kind.FOLLOWUPS:
        return _("At least %(n)s follow-ups") % {"n": rule.number}
    if rule.kind == ScoringRule.Kind.RECENCY:
        return _("Contacted within %(n)s days") % {"n": rule.number}
    labels = dict(field_choices())
    text = ", ".join(value) if isinstance(value, list) else str(value or "")
    op = ScoringRule.Operator(rule.operator).label if rule.operator else ""
    return f"{labels.get(rule.field, rule.field)} {op} {text}".strip()


def _apply(form: Any, exc: ValidationFailed) -> None:
    renamed = [FieldError(form.form_field(e.field), e.message) for e in exc.errors]
    apply_domain_errors(form, ValidationFailed(renamed))


@admin_required
def assignment_rules(request: HttpRequest) -> HttpResponse:
    """The ordered rules and the fallback (saved here)."""
    actor = actor_of(request)
    sources = _source_names()
    conf = AssignmentSettings.current()
    fallback = FallbackForm(
        request.POST or None,
        initial={"fallback": conf.fallback, "fallback_user": conf.fallback_user},
    )
    if request.method == "POST" and fallback.is_valid():
        user = fallback.cleaned_data["fallback_user"]
        try:
            assignment.settings_save(
                actor=actor,
                fallback=fallback.cleaned_data["fallback"],
                fallback_user_id=user.pk if user else None,
            )
        except ValidationFailed as exc:
            apply_domain_errors(
                fallback,
                ValidationFailed(
                    [
                        FieldError(e.field.replace("fallback_user_id", "fallback_user"), e.message)
                        for e in exc.errors
                    ]
                ),
            )
        else:
            messages.success(request, _("Fallback saved."))
            return redirect("leads:assignment_rules")
    return render(
        request,
        "leads/assignment_rules.html",
        {
            "rows": [(r, _conditions_text(r, sources)) for r in assignment.rule_list()],
            "fallback": fallback,
        },
        status=400 if request.method == "POST" else 200,
    )


def _assignment_page(request: HttpRequest, rule: AssignmentRule | None) -> HttpResponse:
    actor = actor_of(request)
    form = AssignmentRuleForm(request.POST or None, rule=rule)
    if request.method == "POST" and form.is_valid():
        try:
            if rule is None:
                saved = assignment.rule_create(actor=actor, data=form.service_data())
            else:
                saved = assignment.rule_update(actor=actor, rule=rule, data=form.service_data())
        except ValidationFailed as exc:
            _apply(form, exc)
        except DomainError as exc:
            flash_domain_error(request, exc)
        else:
            messages.success(request, _("Assignment rule “%(name)s” saved.") % {"name": saved.name})
            return redirect("leads:assignment_rules")
    return render(
        request,
        "leads/rule_form.html",
        {
            "form": form,
            "rule": rule,
            "title": rule.name if rule else _("New assignment rule"),
            "back": "leads:assignment_rules",
        },
        status=400 if request.method == "POST" else 200,
    )


@admin_required
def assignment_rule_create(request: HttpRequest) -> HttpResponse:
    return _assignment_page(request, None)


@admin_required
def assignment_rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _assignment_page(request, get_object_or_404(AssignmentRule, pk=pk))


@admin_required
@require_POST
def assignment_rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(AssignmentRule, pk=pk)
    assignment.rule_delete(actor=actor_of(request), rule=rule)
    messages.success(request, _("Assignment rule “%(name)s” deleted.") % {"name": rule.name})
    return redirect("leads:assignment_rules")


@admin_required
def scoring_rules(request: HttpRequest) -> HttpResponse:
    sources = _source_names()
    rows = [(r, _scoring_text(r, sources)) for r in scoring.rule_list()]
    return render(request, "leads/scoring_rules.html", {"rows": rows})


def _scoring_page(request: HttpRequest, rule: ScoringRule | None) -> HttpResponse:
    actor = actor_of(request)
    form = ScoringRuleForm(request.POST or None, rule=rule)
    if request.method == "POST" and form.is_valid():
        try:
            if rule is None:
                saved = scoring.rule_create(actor=actor, data=form.service_data())
            else:
                saved = scoring.rule_update(actor=actor, rule=rule, data=form.service_data())
        except ValidationFailed as exc:
            _apply(form, exc)
        except DomainError as exc:
            flash_domain_error(request, exc)
        else:
            messages.success(
                request,
                _("Scoring rule “%(name)s” saved; lead scores are being recomputed.")
                % {"name": saved.name},
            )
            return redirect("leads:scoring_rules")
    return render(
        request,
        "leads/rule_form.html",
        {
            "form": form,
            "rule": rule,
            "title": rule.name if rule else _("New scoring rule"),
            "back": "leads:scoring_rules",
        },
        status=400 if request.method == "POST" else 200,
    )


@admin_required
def scoring_rule_create(request: HttpRequest) -> HttpResponse:
    return _scoring_page(request, None)


@admin_required
def scoring_rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _scoring_page(request, get_object_or_404(ScoringRule, pk=pk))


@admin_required
@require_POST
def scoring_rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(ScoringRule, pk=pk)
    scoring.rule_delete(actor=actor_of(request), rule=rule)
    messages.success(request, _("Scoring rule “%(name)s” deleted.") % {"name": rule.name})
    return redirect("leads:scoring_rules")
