"""Deal pages, the kanban board and the pipeline settings. Thin: every read goes through
the selectors, every write through the services; domain errors are mapped by
``guanxi.web.forms``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.core import custom_fields, permissions
from guanxi.core.errors import DomainError, NotPermitted, OutOfScope, ValidationFailed
from guanxi.customers import selectors as customer_selectors
from guanxi.customers.forms import TransferForm, apply_errors
from guanxi.customers.views import (
    activity_context,
    actor_of,
    picked_account,
    record_history,
    require_can,
)
from guanxi.sales import pipelines as pipeline_services
from guanxi.sales import selectors, services
from guanxi.sales.forms import (
    BoardFilterForm,
    DealFilterForm,
    DealForm,
    LossReasonForm,
    MoveForm,
    PipelineForm,
    StageForm,
)
from guanxi.sales.models import Deal, LossReason, Pipeline, Stage
from guanxi.sales.services import STAGE_REQUIRABLE
from guanxi.web.forms import apply_domain_errors, flash_domain_error


def _get(actor: Any, pk: int, action: str = "view") -> Deal:
    try:
        return selectors.deal_get_for_user(actor=actor, pk=pk, action=action)
    except OutOfScope as exc:
        raise Http404 from exc
    except NotPermitted as exc:
        raise PermissionDenied from exc


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


# --- List -------------------------------------------------------------------------------


DRILL_FILTERS = (
    "pipeline",
    "status",
    "close_month",
    "tag",
    "owner",
    "stage",
    "department",
    "loss_reason",
    "reached_stage",
    "reached_from",
    "reached_to",
    "closed_from",
    "closed_to",
)


@login_required
def deal_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    require_can(actor, "deal", "view")
    pipelines = selectors.pipeline_list()
    form = DealFilterForm(request.GET or None, pipelines=pipelines)
    params: dict[str, Any] = form.cleaned_data if form.is_valid() else {}
    filters = {k: params.get(k) for k in DRILL_FILTERS}
    try:
        page = selectors.deal_list(
            actor=actor,
            q=params.get("q") or "",
            filters=filters,
            sort=params.get("sort") or "-created_at",
            page=request.GET.get("page", 1),
        )
    except ValidationFailed as exc:
        flash_domain_error(request, exc)
        page = selectors.deal_list(actor=actor)
    return render(
        request,
        "sales/deal_list.html",
        {
            "filters": form,
            "page": page,
            "tabs": [("", _("All")), ("me", _("Mine"))],
            "owner": request.GET.get("owner", ""),
            "can_create": permissions.can(actor, "deal", "create"),
            "amount_masked": "amount" in permissions.masked_fields(actor, "deal"),
            "drill": any(params.get(k) for k in DRILL_FILTERS[5:]),
        },
    )


# --- Detail -----------------------------------------------------------------------------


@login_required
def deal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    deal = _get(actor, pk)
    data = selectors.deal_as_dict(actor=actor, deal=deal)
    stages = sorted(deal.pipeline.stages.all(), key=lambda s: (s.position, s.pk))
    can_edit = permissions.in_scope(actor, "deal", deal, "edit")
    return render(
        request,
        "sales/deal_detail.html",
        {
            "deal": deal,
            "data": data,
            "stages": stages,
            "custom": custom_fields.display("deal", deal.custom or {}),
            "time_in_stage": selectors.stage_duration(deal),
            **selectors.deal_detail_extras(actor=actor, deal=deal),
            "history": record_history(actor, "deal", deal.pk),
            "can_edit": can_edit,
            "can_delete": permissions.in_scope(actor, "deal", deal, "delete"),
            "can_transfer": permissions.in_scope(actor, "deal", deal, "transfer"),
            "move_form": MoveForm(
                initial={"stage": deal.stage_id},
                stages=stages,
                reasons=selectors.loss_reason_list(),
            )
            if can_edit
            else None,
            "transfer_form": TransferForm(),
            **activity_context(actor, "deal", deal.pk, request.path),
        },
    )


# --- Create / edit ----------------------------------------------------------------------


PICKER_SIZE = 200


def _contact_choices(actor: Any, account_id: Any) -> list[Any]:
    if not permissions.can(actor, "contact", "view"):
        return []
    filters = {"account": account_id} if account_id else {}
    return list(
        customer_selectors.contact_list(
            actor=actor, filters=filters, sort="name", page_size=PICKER_SIZE
        ).items
    )


def _form_page(request: HttpRequest, form: DealForm, deal: Deal | None) -> HttpResponse:
    return render(request, "sales/deal_form.html", {"form": form, "deal": deal})


@login_required
def deal_create(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    require_can(actor, "deal", "create")
    account_id = request.POST.get("account_id") or request.GET.get("account")
    current = None
    if account_id:
        try:
            current = customer_selectors.account_get_for_user(actor=actor, pk=account_id)
        except (OutOfScope, NotPermitted, ValueError):
            current = None
    initial: dict[str, Any] = {"currency": "CNY"}
    if current is not None:
        initial.update(account_id=current.pk, name=current.name)
    form = DealForm(
        request.POST or None,
        initial=initial,
        account=picked_account(request, actor, "account_id", current),
        pipelines=selectors.pipeline_list(),
        contacts=_contact_choices(actor, current.pk if current else None),
    )
    if request.method == "POST" and form.is_valid():
        try:
            deal = services.deal_create(actor=actor, data=form.service_data())
        except ValidationFailed as exc:
            apply_domain_errors(form, _form_errors(form, exc))
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Deal “%(name)s” created.") % {"name": deal.name})
            return redirect("sales:deal_detail", pk=deal.pk)
    return _form_page(request, form, None)


def _form_errors(form: DealForm, exc: ValidationFailed) -> ValidationFailed:
    """Service field names → form field names (contacts → contact_id)."""
    mapped = apply_errors(form, exc)
    for error in mapped.errors:
        if error.field == "contacts":
            error.field = "contact_id"
    return mapped


@login_required
def deal_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    deal = _get(actor, pk, "edit")
    extras = selectors.deal_detail_extras(actor=actor, deal=deal)
    initial: dict[str, Any] = {
        "name": deal.name,
        "account_id": deal.account_id,
        "amount": selectors.money(deal.amount) or "",
        "currency": deal.currency,
        "expected_close_date": deal.expected_close_date,
        "probability": deal.probability,
        "next_step": deal.next_step,
        "competitors": ", ".join(deal.competitors or []),
        "tags": ", ".join(deal.tags or []),
        "collaborator_ids": [u.pk for u in extras["collaborators"]],
    }
    if extras["contacts"]:
        initial["contact_id"] = extras["contacts"][0]["contact"].pk
        initial["contact_role"] = extras["contacts"][0]["role"]
    form = DealForm(
        request.POST or None,
        initial=initial,
        account=picked_account(request, actor, "account_id", deal.account),
        pipelines=[],
        contacts=_contact_choices(actor, deal.account_id),
        custom=deal.custom,
        editing=True,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.deal_update(actor=actor, deal=deal, data=form.service_data(changed_only=True))
        except ValidationFailed as exc:
            apply_domain_errors(form, _form_errors(form, exc))
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Deal saved."))
            return redirect("sales:deal_detail", pk=deal.pk)
    return _form_page(request, form, deal)


@login_required
@require_POST
def deal_move(request: HttpRequest, pk: int) -> HttpResponse:
    """The move form of the detail page (the board moves cards through the API)."""
    actor = actor_of(request)
    deal = _get(actor, pk)
    stages = list(deal.pipeline.stages.all())
    form = MoveForm(request.POST, stages=stages, reasons=selectors.loss_reason_list())
    if not form.is_valid():
        messages.error(request, _("Choose a stage."))
        return redirect("sales:deal_detail", pk=deal.pk)
    try:
        moved = services.deal_move_stage(
            actor=actor,
            deal=deal,
            stage=form.cleaned_data["stage"],
            loss_reason_id=form.cleaned_data.get("loss_reason"),
            loss_note=form.cleaned_data.get("loss_note") or "",
        )
    except OutOfScope as exc:
        raise Http404 from exc
    except NotPermitted as exc:
        raise PermissionDenied from exc
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("sales:deal_detail", pk=deal.pk)
    messages.success(request, _("Moved to “%(stage)s”.") % {"stage": moved.stage.label})
    return redirect("sales:deal_detail", pk=deal.pk)


@login_required
@require_POST
def deal_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    deal = _get(actor, pk)
    try:
        services.deal_delete(actor=actor, deal=deal)
    except OutOfScope as exc:
        raise Http404 from exc
    except DomainError as exc:
        flash_domain_error(request, exc)
        return redirect("sales:deal_detail", pk=deal.pk)
    messages.success(request, _("Deal deleted."))
    return redirect("sales:deal_list")


@login_required
@require_POST
def deal_transfer(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    deal = _get(actor, pk)
    form = TransferForm(request.POST)
    if not form.is_valid() or form.cleaned_data["to_user"] is None:
        messages.error(request, _("Choose the new owner."))
        return redirect("sales:deal_detail", pk=deal.pk)
    to_user = form.cleaned_data["to_user"]
    try:
        services.deal_transfer(actor=actor, records=[deal], to_user=to_user)
    except OutOfScope as exc:
        raise Http404 from exc
    except DomainError as exc:
        flash_domain_error(request, exc)
        return redirect("sales:deal_detail", pk=deal.pk)
    messages.success(request, _("Transferred to %(name)s.") % {"name": to_user.label})
    if permissions.in_scope(actor, "deal", deal):
        return redirect("sales:deal_detail", pk=deal.pk)
    return redirect("sales:deal_list")


# --- Kanban board -----------------------------------------------------------------------


def _board_pipeline(pipelines: list[Pipeline], pipeline_id: int | None) -> Pipeline:
    if pipeline_id is None:
        default = next((p for p in pipelines if p.is_default), None)
        if default is not None:
            return default
        if pipelines:
            return pipelines[0]
        raise Http404
    for p in pipelines:
        if p.pk == pipeline_id:
            return p
    raise Http404


def _board_filters(request: HttpRequest) -> tuple[BoardFilterForm, dict[str, Any]]:
    form = BoardFilterForm(request.GET or None)
    params: dict[str, Any] = form.cleaned_data if form.is_valid() else {}
    return form, {k: params.get(k) for k in ("owner", "department", "close_month", "tag")}


def _deal_base() -> str:
    """``/deals/``: cards link to ``{base}{id}/`` without a reverse() per card."""
    return reverse("sales:deal_detail", args=[0])[: -len("0/")]


def _query_without(request: HttpRequest, *names: str, offset: int | None = None) -> str:
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    if offset is not None:
        query["offset"] = str(offset)
    return query.urlencode()


@login_required
def board(request: HttpRequest, pipeline_id: int | None = None) -> HttpResponse:
    """The kanban of one pipeline: drag cards between stages (static/sales/board.js)."""
    actor = actor_of(request)
    require_can(actor, "deal", "view")
    pipelines = selectors.pipeline_list()
    pipeline = _board_pipeline(pipelines, pipeline_id)
    form, filters = _board_filters(request)
    try:
        result = selectors.kanban(actor=actor, pipeline=pipeline, filters=filters)
    except ValidationFailed as exc:
        flash_domain_error(request, exc)
        result = selectors.kanban(actor=actor, pipeline=pipeline)
    context = {
        "board": result,
        "pipelines": pipelines,
        "pipeline": pipeline,
        "filters": form,
        "query": _query_without(request, "partial", "offset"),
        "more_query": _query_without(
            request, "partial", "offset", offset=selectors.KANBAN_COLUMN_SIZE
        ),
        "reasons": selectors.loss_reason_list(),
        "can_create": permissions.can(actor, "deal", "create"),
        "can_edit": permissions.can(actor, "deal", "edit"),
        "closed_days": selectors.CLOSED_RECENT_DAYS,
        "deal_base": _deal_base(),
    }
    if _is_htmx(request) or request.GET.get("partial"):
        return render(request, "sales/_board.html", context)
    return render(request, "sales/board.html", context)


@login_required
def board_column(request: HttpRequest, pipeline_id: int, stage_id: int) -> HttpResponse:
    """More cards of one column (htmx "load more")."""
    actor = actor_of(request)
    require_can(actor, "deal", "view")
    pipeline = _board_pipeline(selectors.pipeline_list(), pipeline_id)
    stage = Stage.objects.filter(pk=stage_id, pipeline=pipeline).first()
    if stage is None:
        raise Http404
    try:
        offset = max(int(request.GET.get("offset", 0)), 0)
    except ValueError:
        offset = 0
    _form, filters = _board_filters(request)
    try:
        cards, more = selectors.kanban_column(
            actor=actor, pipeline=pipeline, stage=stage, filters=filters, offset=offset
        )
    except ValidationFailed as exc:
        return HttpResponse(exc.message, status=422)
    query = request.GET.copy()
    query["offset"] = str(offset + len(cards))
    return render(
        request,
        "sales/_cards.html",
        {
            "cards": cards,
            "more": more,
            "pipeline": pipeline,
            "stage": stage,
            "next_query": query.urlencode(),
            "deal_base": _deal_base(),
        },
    )


# --- Settings (administrators) ----------------------------------------------------------


def _require_admin(request: HttpRequest) -> Any:
    actor = actor_of(request)
    if not permissions.is_admin(actor):
        raise PermissionDenied
    return actor


@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    """Pipelines, their stages and the loss reasons on one page; each form posts here
    with an ``op``."""
    actor = _require_admin(request)
    forms_with_errors: dict[str, Any] = {}
    if request.method == "POST":
        op = request.POST.get("op", "")
        try:
            done = _settings_op(actor, op, request.POST, forms_with_errors)
        except DomainError as exc:
            flash_domain_error(request, exc)
        else:
            if done:
                messages.success(request, done)
                return redirect("sales:settings")
    pipelines = selectors.pipeline_list(active_only=False)
    counts = selectors.stage_deal_counts()
    return render(
        request,
        "sales/settings.html",
        {
            "pipelines": pipelines,
            "counts": counts,
            "reasons": selectors.loss_reason_list(active_only=False),
            "pipeline_form": forms_with_errors.get("pipeline") or PipelineForm(),
            "stage_form": forms_with_errors.get("stage") or StageForm(initial={"kind": "open"}),
            "reason_form": forms_with_errors.get("reason") or LossReasonForm(),
            "kinds": Stage.Kind.choices,
            "requirable": [(k, str(v)) for k, v in STAGE_REQUIRABLE.items()],
            "requirable_map": {k: str(v) for k, v in STAGE_REQUIRABLE.items()},
        },
    )


def _settings_op(actor: Any, op: str, post: Any, bad: dict[str, Any]) -> str:
    """Run one settings form; returns the success message ('' when the form had errors)."""
    form: forms.Form
    if op == "pipeline_add":
        form = PipelineForm(post)
        if not form.is_valid():
            bad["pipeline"] = form
            return ""
        try:
            pipeline_services.pipeline_save(actor=actor, pipeline=None, data=form.cleaned_data)
        except ValidationFailed as exc:
            apply_domain_errors(form, exc)
            bad["pipeline"] = form
            return ""
        return _("Pipeline added with the standard stages.")
    if op in ("pipeline_default", "pipeline_toggle", "pipeline_delete"):
        pipeline = Pipeline.objects.filter(pk=post.get("pipeline") or 0).first()
        if pipeline is None:
            raise Http404
        if op == "pipeline_default":
            pipeline_services.pipeline_save(
                actor=actor, pipeline=pipeline, data={"is_default": True, "active": True}
            )
        elif op == "pipeline_toggle":
            pipeline_services.pipeline_save(
                actor=actor, pipeline=pipeline, data={"active": not pipeline.active}
            )
        else:
            pipeline_services.pipeline_delete(actor=actor, pipeline=pipeline)
        return _("Pipelines saved.")
    if op in ("stage_add", "stage_edit"):
        form = StageForm(post)
        if not form.is_valid():
            bad["stage"] = form
            return ""
        data = {k: v for k, v in form.cleaned_data.items() if v is not None}
        stage = None
        if op == "stage_edit":
            stage = Stage.objects.filter(pk=post.get("stage") or 0).first()
            if stage is None:
                raise Http404
        else:
            data["pipeline_id"] = post.get("pipeline")
        try:
            pipeline_services.stage_save(actor=actor, stage=stage, data=data)
        except ValidationFailed as exc:
            apply_domain_errors(form, exc)
            bad["stage"] = form
            return ""
        return _("Stage saved.")
    if op == "stage_delete":
        stage = Stage.objects.filter(pk=post.get("stage") or 0).first()
        if stage is None:
            raise Http404
        move_to = post.get("move_to") or None
        moved = pipeline_services.stage_delete(
            actor=actor, stage=stage, move_to=int(move_to) if move_to else None
        )
        return _("Stage deleted; %(n)d deals moved.") % {"n": moved}
    if op in ("reason_add", "reason_edit"):
        form = LossReasonForm(post)
        if not form.is_valid():
            bad["reason"] = form
            return ""
        reason = None
        if op == "reason_edit":
            reason = LossReason.objects.filter(pk=post.get("reason") or 0).first()
            if reason is None:
                raise Http404
        try:
            pipeline_services.loss_reason_save(actor=actor, reason=reason, data=form.cleaned_data)
        except ValidationFailed as exc:
            apply_domain_errors(form, exc)
            bad["reason"] = form
            return ""
        return _("Loss reasons saved.")
    if op == "reason_delete":
        reason = LossReason.objects.filter(pk=post.get("reason") or 0).first()
        if reason is None:
            raise Http404
        pipeline_services.loss_reason_delete(actor=actor, reason=reason)
        return _("Loss reasons saved.")
    raise Http404
