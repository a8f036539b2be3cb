"""Approval pages: the inbox (waiting for me / sent / decided) and one request."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.automation import flows, policies, selectors, services
from guanxi.automation.forms import DecisionForm, DelegationForm, PolicyForm
from guanxi.automation.models import ApprovalPolicy
from guanxi.core.errors import DomainError, FieldError, OutOfScope, ValidationFailed
from guanxi.identity.models import User
from guanxi.web.access import admin_required
from guanxi.web.forms import apply_domain_errors, flash_domain_error

BOXES = ("waiting", "sent", "decided")


def _actor(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


@login_required
def approvals(request: HttpRequest) -> HttpResponse:
    box = request.GET.get("box", "waiting")
    if box not in BOXES:
        box = "waiting"
    actor = _actor(request)
    try:
        page = selectors.approval_list(actor=actor, box=box, page=request.GET.get("page", 1))
    except ValidationFailed as exc:
        flash_domain_error(request, exc)
        page = selectors.approval_list(actor=actor, box=box)
    kinds = {
        req.entity: flows.flow(req.entity).label for req in page.items if flows.has_flow(req.entity)
    }
    return render(
        request,
        "automation/approvals.html",
        {
            "page": page,
            "rows": [(req, kinds.get(req.entity, req.entity)) for req in page.items],
            "box": box,
            "waiting_count": selectors.approval_inbox_count(actor=actor),
        },
    )


@login_required
def approval_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    try:
        req = selectors.approval_get_for_user(actor=actor, pk=pk)
    except OutOfScope as exc:
        raise Http404 from exc
    form = DecisionForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.approval_decide(
                    actor=actor,
                    request=req,
                    decision=form.cleaned_data["decision"],
                    comment=form.cleaned_data["comment"],
                )
            except ValidationFailed as exc:
                apply_domain_errors(form, exc)
            except OutOfScope as exc:
                raise Http404 from exc
            except DomainError as exc:
                flash_domain_error(request, exc)
                return redirect("automation:approval_detail", pk=req.pk)
            else:
                if form.cleaned_data["decision"] == "approve":
                    messages.success(request, _("Approved."))
                elif form.cleaned_data["decision"] == "return":
                    messages.success(request, _("Returned to the requester for changes."))
                else:
                    messages.success(request, _("Rejected; the requester has been told why."))
                return redirect("automation:approval_detail", pk=req.pk)
        status = 400
    view = selectors.approval_view(actor=actor, request=req)
    return render(
        request,
        "automation/approval_detail.html",
        {"view": view, "req": req, "form": form},
        status=status,
    )


@login_required
@require_POST
def approval_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    try:
        req = selectors.approval_get_for_user(actor=actor, pk=pk)
        services.approval_cancel(actor=actor, request=req)
    except OutOfScope as exc:
        raise Http404 from exc
    except DomainError as exc:
        flash_domain_error(request, exc)
    else:
        messages.success(request, _("The approval request has been withdrawn."))
    return redirect("automation:approval_detail", pk=pk)


# --- Configurable flows (administrators) and delegation -----------------------------------


@admin_required
def flows_list(request: HttpRequest) -> HttpResponse:
    labels = dict(policies.entity_choices())
    rows = [(p, labels.get(p.entity, p.entity)) for p in policies.policy_list()]
    return render(request, "automation/flows.html", {"rows": rows})


def _flow_page(request: HttpRequest, policy: ApprovalPolicy | None) -> HttpResponse:
    actor = _actor(request)
    form = PolicyForm(request.POST or None, policy=policy)
    if request.method == "POST" and form.is_valid():
        try:
            saved = policies.policy_save(actor=actor, policy=policy, data=form.service_data())
        except ValidationFailed as exc:
            renamed = []
            for e in exc.errors:
                parts = e.field.split(".")
                if parts[0] == "steps" and len(parts) == 3:
                    name = f"s{parts[1]}_{parts[2].replace('_id', '')}"
                    renamed.append(FieldError(name if name in form.fields else "", e.message))
                else:
                    renamed.append(FieldError("" if e.field == "steps" else e.field, e.message))
            apply_domain_errors(form, ValidationFailed(renamed))
        except DomainError as exc:
            flash_domain_error(request, exc)
        else:
            messages.success(request, _("Approval flow “%(name)s” saved.") % {"name": saved.name})
            return redirect("automation:flows")
    return render(
        request,
        "automation/flow_form.html",
        {
            "form": form,
            "policy": policy,
            "title": policy.name if policy else _("New approval flow"),
        },
        status=400 if request.method == "POST" else 200,
    )


@admin_required
def flow_create(request: HttpRequest) -> HttpResponse:
    return _flow_page(request, None)


@admin_required
def flow_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _flow_page(request, get_object_or_404(ApprovalPolicy, pk=pk))


@admin_required
@require_POST
def flow_delete(request: HttpRequest, pk: int) -> HttpResponse:
    policy = get_object_or_404(ApprovalPolicy, pk=pk)
    policies.policy_delete(actor=_actor(request), policy=policy)
    messages.success(request, _("Approval flow “%(name)s” deleted.") % {"name": policy.name})
    return redirect("automation:flows")


@login_required
def delegation(request: HttpRequest) -> HttpResponse:
    """Set who decides my approvals while I am away, and end a delegation."""
    actor = _actor(request)
    form = DelegationForm(request.POST or None, user=actor)
    if request.method == "POST" and form.is_valid():
        try:
            policies.delegation_set(
                actor=actor,
                user=actor,
                delegate=form.cleaned_data["delegate"],
                starts_on=form.cleaned_data["starts_on"],
                ends_on=form.cleaned_data["ends_on"],
            )
        except ValidationFailed as exc:
            apply_domain_errors(
                form,
                ValidationFailed(
                    [
                        FieldError(e.field.replace("delegate_id", "delegate"), e.message)
                        for e in exc.errors
                    ]
                ),
            )
        else:
            messages.success(request, _("Delegation saved."))
            return redirect("automation:delegation")
    return render(
        request,
        "automation/delegation.html",
        {"form": form, "delegations": policies.delegations_of(actor)},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def delegation_end(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        policies.delegation_end(actor=_actor(request), delegation=pk)
    except OutOfScope as exc:
        raise Http404 from exc
    messages.success(request, _("Delegation ended."))
    return redirect("automation:delegation")
