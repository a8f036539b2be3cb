"""Lead pages: list with saved views, create / edit with the duplicate warning, detail
with reveal, follow-ups, timeline and history, conversion, transfer and delete.

Thin: reads through ``guanxi.leads.selectors``, writes through ``guanxi.leads.services``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from guanxi.core import custom_fields, lists, permissions
from guanxi.core.errors import (
    Conflict,
    DomainError,
    DuplicateRecord,
    FieldError,
    NotPermitted,
    OutOfScope,
    ValidationFailed,
)
from guanxi.customers.forms import TransferForm, apply_errors
from guanxi.customers.views import (
    activity_context,
    actor_of,
    duplicate_info,
    masked_context,
    picked_account,
    record_history,
    require_can,
    reveal,
)
from guanxi.identity.models import User as UserModel
from guanxi.leads import assignment, dedup, pool, scoring, selectors, services
from guanxi.leads import handover as handover_services
from guanxi.leads.forms import ConvertForm, LeadFilterForm, LeadForm, lead_initial
from guanxi.leads.models import Lead, PoolRule
from guanxi.web import lists as web_lists
from guanxi.web.forms import apply_domain_errors, flash_domain_error

if TYPE_CHECKING:
    from guanxi.identity.models import User

# Built-in views (场景): query-string presets over the selector's filters
# (selectors.preset_filters); users add their own saved views next to them.
VIEWS: list[tuple[str, Any]] = [
    ("", gettext_lazy("All")),
    ("mine", gettext_lazy("Mine")),
    ("department", gettext_lazy("My department")),
    ("today", gettext_lazy("New today")),
    ("stale", gettext_lazy("No follow-up in 7 days")),
    ("pool", gettext_lazy("Public pool")),
]


def _get(actor: User, pk: Any, action: str = "view") -> Lead:
    try:
        return selectors.lead_get_for_user(actor=actor, pk=pk, action=action)
    except OutOfScope as exc:
        raise Http404 from exc
    except NotPermitted as exc:
        raise PermissionDenied from exc


@login_required
def lead_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    require_can(actor, "lead", "view")
    state = web_lists.list_state(request, "lead")
    sources = selectors.source_list()
    form = LeadFilterForm(state.params or None, sources=sources)
    params: dict[str, Any] = dict(form.cleaned_data) if form.is_valid() else {}
    params.update(selectors.custom_params(state.params))
    q, filters = selectors.lead_params(actor=actor, params=params)
    try:
        page = selectors.lead_list(
            actor=actor,
            q=q,
            filters=filters,
            sort=params.get("sort") or "-created_at",
            page=request.GET.get("page", 1),
        )
    except ValidationFailed as exc:
        flash_domain_error(request, exc)
        page = selectors.lead_list(actor=actor)
    mask = permissions.masked_fields(actor, "lead")
    rows = lists.rows(
        "lead",
        state.columns,
        page.items,
        lambda lead: selectors.lead_as_dict(actor=actor, lead=lead, mask=mask),
        selectable=web_lists.can_bulk(actor, "lead"),
    )
    return render(
        request,
        "leads/list.html",
        {
            "filters": form,
            "page": page,
            "rows": rows,
            "builtin_tabs": VIEWS,
            "builtin_param": "view",
            "builtin_current": params.get("view") or "",
            "can_create": permissions.can(actor, "lead", "create"),
            **web_lists.page_context(request, state, count=page.count),
        },
    )


def _form_page(
    request: HttpRequest,
    form: LeadForm,
    lead: Lead | None,
    duplicate: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    likely: list[dict[str, Any]] = []
    if form.is_bound:
        actor = actor_of(request)
        likely = [
            duplicate_info(actor, d)
            for d in dedup.likely_duplicates(
                name=form.data.get("name", ""),
                company=form.data.get("company", ""),
                exclude=("lead", lead.pk) if lead else None,
                actor=actor,
            )
        ]
    return render(
        request,
        "leads/form.html",
        {
            "form": form,
            "lead": lead,
            "likely": likely,
            "duplicate": duplicate,
            "can_override": permissions.can(actor_of(request), "lead", "create"),
        },
        status=status,
    )


def _allow_duplicate(request: HttpRequest) -> bool:
    return request.POST.get("allow_duplicate") == "1" and permissions.can(
        actor_of(request), "lead", "create"
    )


@login_required
def lead_create(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    require_can(actor, "lead", "create")
    form = LeadForm(
        request.POST or None,
        initial={"status": Lead.Status.NEW},
        sources=selectors.source_list(),
        score_computed=scoring.rules().active,
        offer_rules=assignment.routing_enabled(),
    )
    duplicate = None
    if request.method == "POST" and form.is_valid():
        try:
            # A salesperson's own entry stays theirs unless they ask for the rules.
            lead = services.lead_create(
                actor=actor,
                data=form.service_data(),
                allow_duplicate=_allow_duplicate(request),
                assign=form.assign_by_rules(),
            )
        except DuplicateRecord as exc:
            duplicate = duplicate_info(actor, exc.duplicate)
        except ValidationFailed as exc:
            apply_domain_errors(form, apply_errors(form, exc))
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            if permissions.in_scope(actor, "lead", lead):
                messages.success(request, _("Lead “%(name)s” created.") % {"name": lead.name})
                return redirect("leads:detail", pk=lead.pk)
            # Routed to someone outside the creator's scope: say where it went.
            messages.success(
                request,
                _("Lead “%(name)s” created. %(reason)s")
                % {"name": lead.name, "reason": lead.assigned_reason},
            )
            return redirect("leads:list")
    return _form_page(request, form, None, duplicate)


@login_required
def lead_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    lead = _get(actor, pk, "edit")
    form = LeadForm(
        request.POST or None,
        initial=lead_initial(lead),
        sources=selectors.source_list(active_only=False),
        custom=lead.custom,
        score_computed=scoring.rules().active,
    )
    if lead.status == Lead.Status.CONVERTED:
        form.fields["status"].choices = Lead.Status.choices  # type: ignore[attr-defined]
    duplicate = None
    if request.method == "POST" and form.is_valid():
        try:
            services.lead_update(
                actor=actor,
                lead=lead,
                data=form.service_data(changed_only=True),
                allow_duplicate=_allow_duplicate(request),
            )
        except DuplicateRecord as exc:
            duplicate = duplicate_info(actor, exc.duplicate)
        except ValidationFailed as exc:
            apply_domain_errors(form, apply_errors(form, exc))
        except OutOfScope as exc:
            raise Http404 from exc
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Lead saved."))
            return redirect("leads:detail", pk=lead.pk)
    return _form_page(request, form, lead, duplicate)


@login_required
def lead_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    try:
        lead = selectors.lead_get_for_user(actor=actor, pk=pk)
    except OutOfScope:
        # A lead in a pool the user sees: shown read-only with the Claim button.
        try:
            lead = pool.pool_get_for_user(actor=actor, entity="lead", pk=pk)
        except OutOfScope as exc:
            raise Http404 from exc
        return _pool_lead_detail(request, actor, lead)
    except NotPermitted as exc:
        raise PermissionDenied from exc
    data = selectors.lead_as_dict(actor=actor, lead=lead)
    likely = [
        duplicate_info(actor, d)
        for d in dedup.likely_duplicates(
            name=lead.name, company=lead.company, exclude=("lead", lead.pk), actor=actor
        )
    ]
    can_edit = permissions.in_scope(actor, "lead", lead, "edit")
    return render(
        request,
        "leads/detail.html",
        {
            "lead": lead,
            "data": data,
            "custom": custom_fields.display("lead", lead.custom or {}),
            "likely": likely,
            "history": record_history(actor, "lead", lead.pk),
            "can_edit": can_edit,
            "can_convert": can_edit
            and lead.status != Lead.Status.CONVERTED
            and permissions.can(actor, "contact", "create"),
            "can_delete": permissions.in_scope(actor, "lead", lead, "delete"),
            "can_transfer": permissions.in_scope(actor, "lead", lead, "transfer"),
            "transfer_form": TransferForm(),
            **masked_context(actor, "lead"),
            **activity_context(actor, "lead", lead.pk, request.path),
        },
    )


def _pool_lead_detail(request: HttpRequest, actor: User, lead: Lead) -> HttpResponse:
    return render(
        request,
        "leads/detail.html",
        {
            "lead": lead,
            "data": selectors.lead_as_dict(actor=actor, lead=lead),
            "custom": custom_fields.display("lead", lead.custom or {}),
            "likely": [],
            "history": record_history(actor, "lead", lead.pk),
            "in_pool": True,
            "can_claim": permissions.can(actor, "lead", "edit"),
            "timeline": False,
            **masked_context(actor, "lead"),
        },
    )


@login_required
def lead_likely(request: HttpRequest) -> HttpResponse:
    """Likely duplicates of ``?name=&company=`` (suggestions while filling in the form)."""
    actor = actor_of(request)
    require_can(actor, "lead", "view")
    exclude = ("lead", request.GET["exclude"]) if request.GET.get("exclude") else None
    likely = [
        duplicate_info(actor, d)
        for d in dedup.likely_duplicates(
            name=request.GET.get("name", ""),
            company=request.GET.get("company", ""),
            exclude=exclude,
            actor=actor,
        )
    ]
    return render(request, "leads/_likely.html", {"likely": likely})


@login_required
@require_POST
def lead_reveal(request: HttpRequest, pk: int, field: str) -> HttpResponse:
    lead = _get(actor_of(request), pk)
    return reveal(request, "lead", lead, field)


@login_required
def lead_convert(request: HttpRequest, pk: int) -> HttpResponse:
    """The convert dialog: pick an account or create one from the company, then convert."""
    actor = actor_of(request)
    lead = _get(actor, pk)
    with_deal = permissions.can(actor, "deal", "create")
    form = ConvertForm(
        request.POST or None,
        account=picked_account(request, actor, "account_id", None),
        with_deal=with_deal,
    )
    error = ""
    duplicate = None
    status = 200
    if lead.status == Lead.Status.CONVERTED and request.method != "POST":
        error = _("This lead has already been converted.")
    if request.method == "POST" and form.is_valid():
        try:
            conversion = services.lead_convert(
                actor=actor,
                lead=lead,
                account_id=form.cleaned_data["account_id"],
                allow_duplicate=_allow_duplicate(request),
                create_deal=with_deal and bool(form.cleaned_data.get("create_deal")),
                deal_data=form.deal_data() if with_deal else None,
            )
        except OutOfScope as exc:
            raise Http404 from exc
        except NotPermitted as exc:
            raise PermissionDenied from exc
        except DuplicateRecord as exc:
            duplicate = duplicate_info(actor, exc.duplicate)
            status = 409
        except Conflict as exc:
            error = exc.message
            status = 409
        except ValidationFailed as exc:
            apply_domain_errors(
                form,
                ValidationFailed(
                    [
                        FieldError(e.field.replace("deal.", "deal_", 1), e.message)
                        for e in exc.errors
                    ],
                    exc.message,
                ),
            )
            status = 422
        else:
            messages.success(
                request,
                _("Converted: account “%(account)s”, contact “%(contact)s”.")
                % {"account": conversion.account.name, "contact": conversion.contact.name},
            )
            if conversion.deal is not None:
                messages.success(
                    request, _("Deal “%(name)s” created.") % {"name": conversion.deal.name}
                )
            return redirect("leads:detail", pk=lead.pk)
    return render(
        request,
        "leads/convert.html",
        {
            "lead": lead,
            "form": form,
            "error": error,
            "duplicate": duplicate,
            "can_override": permissions.can(actor, "contact", "create"),
        },
        status=status,
    )


@login_required
@require_POST
def lead_transfer(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    lead = _get(actor, pk)
    form = TransferForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a user or the public pool."))
        return redirect("leads:detail", pk=lead.pk)
    to_user = form.cleaned_data["to_user"]
    try:
        services.lead_transfer(actor=actor, records=[lead], to_user=to_user)
    except OutOfScope as exc:
        raise Http404 from exc
    except DomainError as exc:
        flash_domain_error(request, exc)
        return redirect("leads:detail", pk=lead.pk)
    if to_user is None:
        messages.success(request, _("Released to the public pool."))
    else:
        messages.success(request, _("Transferred to %(name)s.") % {"name": to_user.label})
    if permissions.in_scope(actor, "lead", lead):
        return redirect("leads:detail", pk=lead.pk)
    return redirect("leads:list")


@login_required
@require_POST
def lead_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    lead = _get(actor, pk)
    try:
        services.lead_delete(actor=actor, lead=lead)
    except OutOfScope as exc:
        raise Http404 from exc
    except DomainError as exc:
        flash_domain_error(request, exc)
        return redirect("leads:detail", pk=lead.pk)
    messages.success(request, _("Lead deleted."))
    return redirect("leads:list")


# --- Public pool (公海), reclaim rules and handover (离职交接) -------------------------


def _require_admin(actor: User) -> None:
    if not permissions.is_admin(actor):
        raise PermissionDenied


@login_required
def pool_list(request: HttpRequest) -> HttpResponse:
    """The lead pool: unowned leads in the pools the user sees, to claim."""
    from guanxi.leads.pool_views import pool_page_context

    actor = actor_of(request)
    require_can(actor, "lead", "view")
    return render(request, "leads/pool.html", pool_page_context(request, actor, "lead"))


@login_required
@require_POST
def lead_claim(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    try:
        lead = pool.lead_claim(actor=actor, lead=pk)
    except OutOfScope as exc:
        raise Http404 from exc
    except NotPermitted as exc:
        raise PermissionDenied from exc
    except DomainError as exc:
        flash_domain_error(request, exc)
        return redirect("leads:pool")
    messages.success(request, _("Claimed %(name)s.") % {"name": str(lead)})
    return redirect("leads:detail", pk=pk)


@login_required
@require_POST
def lead_release(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    try:
        pool.lead_release(actor=actor, lead=pk, reason=request.POST.get("reason", ""))
    except OutOfScope as exc:
        raise Http404 from exc
    except NotPermitted as exc:
        raise PermissionDenied from exc
    except DomainError as exc:
        flash_domain_error(request, exc)
        return redirect("leads:detail", pk=pk)
    messages.success(request, _("Released to the public pool."))
    if permissions.in_scope(actor, "lead", Lead(pk=pk)):
        return redirect("leads:detail", pk=pk)
    return redirect("leads:pool")


class PoolRuleForm(forms.ModelForm):
    entity = forms.ChoiceField(
        label=gettext_lazy("Applies to"),
        choices=[("lead", gettext_lazy("Leads")), ("account", gettext_lazy("Accounts"))],
        required=False,
        initial="lead",
    )
    tiers = forms.MultipleChoiceField(
        label=gettext_lazy("Account tiers"),
        choices=[("A", "A"), ("B", "B"), ("C", "C")],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Accounts only; none ticked: every tier."),
    )

    def clean_entity(self) -> str:
        return str(self.cleaned_data.get("entity") or "lead")

    class Meta:
        model = PoolRule
        fields = [
            "name",
            "entity",
            "active",
            "department",
            "tiers",
            "no_followup_days",
            "not_converted_days",
            "no_deal_days",
            "not_won_days",
            "warn_days_before",
        ]
        help_texts = {
            "department": gettext_lazy(
                "Only owners in this department and its sub-departments; empty: everyone."
            ),
            "not_converted_days": gettext_lazy("Leads only."),
        }


@login_required
def pool_rules(request: HttpRequest, rule_pk: int | None = None) -> HttpResponse:
    """Administrators: list, create and edit reclaim rules, with the preview per rule."""
    actor = actor_of(request)
    _require_admin(actor)
    rule = get_object_or_404(PoolRule, pk=rule_pk) if rule_pk else None
    form = PoolRuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        try:
            pool.rule_save(actor=actor, rule=form.save(commit=False))
        except ValidationFailed as exc:
            for error in exc.errors:
                form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, _("Reclaim rule saved."))
            return redirect("leads:pool_rules")
    preview = pool.reclaim_preview(entity="lead", limit=100)
    account_preview = pool.reclaim_preview(entity="account", limit=100)
    due = {**preview.by_rule, **account_preview.by_rule}
    rules = list(PoolRule.objects.select_related("department").order_by("entity", "name", "id"))
    return render(
        request,
        "leads/pool_rules.html",
        {
            "form": form,
            "rule": rule,
            "rows": [(r, due.get(r.pk, 0)) for r in rules],
            "preview": preview,
            "account_preview": account_preview,
        },
    )


@login_required
@require_POST
def pool_rule_toggle(request: HttpRequest, rule_pk: int) -> HttpResponse:
    actor = actor_of(request)
    _require_admin(actor)
    rule = get_object_or_404(PoolRule, pk=rule_pk)
    rule.active = not rule.active
    pool.rule_save(actor=actor, rule=rule)
    return redirect("leads:pool_rules")


class HandoverForm(forms.Form):
    from_user = forms.ModelChoiceField(
        label=gettext_lazy("From (leaving)"), queryset=UserModel.objects.order_by("username")
    )
    to_user = forms.ModelChoiceField(
        label=gettext_lazy("To"), queryset=UserModel.objects.filter(is_active=True)
    )
    entities = forms.MultipleChoiceField(
        label=gettext_lazy("What to hand over"),
        choices=[
            ("lead", gettext_lazy("Leads")),
            ("account", gettext_lazy("Accounts")),
            ("contact", gettext_lazy("Contacts")),
            ("deal", gettext_lazy("Deals")),
            ("task", gettext_lazy("Open tasks")),
        ],
        initial=list(handover_services.ENTITIES),
        widget=forms.CheckboxSelectMultiple,
    )


@login_required
def handover(request: HttpRequest) -> HttpResponse:
    """Administrators: preview a leaver's records, then hand them over on confirm."""
    actor = actor_of(request)
    _require_admin(actor)
    form = HandoverForm(request.POST or request.GET or None)
    preview = None
    if form.is_valid():
        source = form.cleaned_data["from_user"]
        preview = handover_services.handover_preview(source)
        if request.method == "POST" and request.POST.get("confirm"):
            try:
                moved = handover_services.handover_execute(
                    actor=actor,
                    from_user=source,
                    to_user=form.cleaned_data["to_user"],
                    entities=form.cleaned_data["entities"],
                )
            except ValidationFailed as exc:
                apply_domain_errors(form, exc)
            else:
                messages.success(
                    request, _("Handed over %(count)s records.") % {"count": sum(moved.values())}
                )
                return redirect("leads:handover")
    return render(request, "leads/handover.html", {"form": form, "preview": preview})


@login_required
@require_POST
def lead_lock(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    locked = request.POST.get("locked") == "1"
    try:
        pool.lead_lock(actor=actor, lead=pk, locked=locked)
    except OutOfScope as exc:
        raise Http404 from exc
    except NotPermitted as exc:
        raise PermissionDenied from exc
    except DomainError as exc:
        flash_domain_error(request, exc)
    else:
        messages.success(request, _("Locked.") if locked else _("Unlocked."))
    return redirect("leads:detail", pk=pk)
