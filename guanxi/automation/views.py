"""Approval pages: the inbox (waiting for me / sent / decided) and one request."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.automation import flows, selectors, services
from guanxi.automation.forms import DecisionForm
from guanxi.core.errors import DomainError, OutOfScope, ValidationFailed
from guanxi.identity.models import User
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
