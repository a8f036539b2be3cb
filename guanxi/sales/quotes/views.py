"""Quote pages: list, new, detail (lines editor, approval, sending, versions), edit, PDF,
and the quote settings (thresholds, company letterhead) for administrators."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.automation import selectors as approval_selectors
from guanxi.core import company, permissions
from guanxi.core.errors import DomainError, NotPermitted, OutOfScope, ValidationFailed
from guanxi.identity.models import User
from guanxi.identity.selectors import record_history
from guanxi.sales.catalog import selectors as catalog_selectors
from guanxi.sales.quotes import pdf, selectors, services
from guanxi.sales.quotes.forms import (
    CompanyProfileForm,
    DecisionForm,
    LineForm,
    QuoteFilterForm,
    QuoteForm,
    QuoteSettingsForm,
    SubmitForm,
)
from guanxi.sales.quotes.models import Quote
from guanxi.web.access import admin_required
from guanxi.web.forms import apply_domain_errors, flash_domain_error

CHOICE_LIMIT = 500


def _actor(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _get(actor: User, pk: int, action: str = "view") -> Quote:
    try:
        return selectors.quote_get_for_user(actor=actor, pk=pk, action=action)
    except OutOfScope as exc:
        raise Http404 from exc
    except NotPermitted as exc:
        raise PermissionDenied from exc


@login_required
def quote_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    if not permissions.can(actor, "quote", "view"):
        raise PermissionDenied
    filters = QuoteFilterForm(request.GET or None)
    data: dict[str, Any] = filters.cleaned_data if filters.is_valid() else {}
    owner = request.GET.get("owner", "")
    try:
        page = selectors.quote_list(
            actor=actor,
            q=data.get("q", ""),
            status=data.get("status", ""),
            owner="me" if owner == "me" else "",
            account_id=request.GET.get("account") or None,
            page=request.GET.get("page", 1),
        )
    except ValidationFailed as exc:
        flash_domain_error(request, exc)
        page = selectors.quote_list(actor=actor)
    return render(
        request,
        "quotes/quote_list.html",
        {
            "page": page,
            "filters": filters,
            "owner": owner,
            "can_create": permissions.can(actor, "quote", "create"),
        },
    )


def _choices(actor: User, account_id: Any) -> dict[str, Any]:
    from guanxi.customers.models import Contact
    from guanxi.sales.models import Deal

    accounts = permissions.scoped_queryset(actor, "account").order_by("name")
    out: dict[str, Any] = {
        "accounts": [(a.pk, a.name) for a in accounts.only("id", "name")[:CHOICE_LIMIT]],
        "deals": [],
        "contacts": [],
    }
    if account_id and not any(str(pk) == str(account_id) for pk, _n in out["accounts"]):
        extra = accounts.filter(pk=account_id).only("id", "name").first()
        if extra is not None:
            out["accounts"].insert(0, (extra.pk, extra.name))
    if permissions.can(actor, "deal", "view"):
        deals = permissions.scoped_queryset(actor, "deal", base=Deal.objects.all())
        if account_id:
            deals = deals.filter(account_id=account_id)
        out["deals"] = [
            (d.pk, d.name) for d in deals.order_by("-created_at").only("id", "name")[:CHOICE_LIMIT]
        ]
    if permissions.can(actor, "contact", "view"):
        contacts = permissions.scoped_queryset(actor, "contact", base=Contact.objects.all())
        if account_id:
            contacts = contacts.filter(account_id=account_id)
        out["contacts"] = [
            (c.pk, c.name) for c in contacts.order_by("name").only("id", "name")[:CHOICE_LIMIT]
        ]
    return out


@login_required
def quote_create(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    if not permissions.can(actor, "quote", "create"):
        raise PermissionDenied
    account_id = request.POST.get("account_id") or request.GET.get("account")
    initial: dict[str, Any] = {"account_id": account_id, "deal_id": request.GET.get("deal")}
    if request.GET.get("deal") and not account_id:
        deal = permissions.scoped_queryset(actor, "deal").filter(pk=request.GET["deal"]).first()
        if deal is not None:
            account_id = initial["account_id"] = deal.account_id
    conf = services.settings_get()
    initial["terms"] = conf.default_terms
    form = QuoteForm(request.POST or None, initial=initial, **_choices(actor, account_id))
    if request.method == "POST" and form.is_valid():
        try:
            quote = services.quote_create(actor=actor, data=form.cleaned_data)
        except ValidationFailed as exc:
            apply_domain_errors(form, exc)
        else:
            messages.success(request, _("Quote %(number)s has been created.") % {"number": quote})
            return redirect("quotes:detail", pk=quote.pk)
    return render(
        request,
        "quotes/quote_form.html",
        {"form": form, "quote": None},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def quote_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    quote = _get(actor, pk, "edit")
    initial = {
        "account_id": quote.account_id,
        "deal_id": quote.deal_id,
        "contact_id": quote.contact_id,
        "title": quote.title,
        "currency": quote.currency,
        "valid_until": quote.valid_until,
        "terms": quote.terms,
    }
    form = QuoteForm(
        request.POST or None, initial=initial, editing=True, **_choices(actor, quote.account_id)
    )
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "account_id"}
        try:
            services.quote_update(actor=actor, quote=quote, data=data)
        except ValidationFailed as exc:
            apply_domain_errors(form, exc)
        except DomainError as exc:
            flash_domain_error(request, exc)
            return redirect("quotes:detail", pk=quote.pk)
        else:
            messages.success(request, _("The quote has been saved."))
            return redirect("quotes:detail", pk=quote.pk)
    return render(
        request,
        "quotes/quote_form.html",
        {"form": form, "quote": quote},
        status=400 if request.method == "POST" else 200,
    )


def _products(actor: User) -> list[tuple[Any, Any]]:
    return [(p.pk, str(p)) for p in catalog_selectors.product_choices(actor=actor)]


def _detail_context(
    request: HttpRequest, actor: User, quote: Quote, edit_line: str = "", **forms: Any
) -> dict[str, Any]:
    lines = selectors.quote_lines(quote)
    totals = selectors.quote_totals(quote, lines)
    can_edit = permissions.in_scope(actor, "quote", quote, "edit")
    editable = can_edit and quote.status in services.EDITABLE
    pending = approval_selectors.pending_for_object(entity="quote", object_id=quote.pk)
    is_approver = pending is not None and any(
        s.status == "pending" and s.approver_id == actor.pk for s in pending.steps.all()
    )
    line_to_edit: str = edit_line or request.GET.get("line", "")
    rows = []
    for line, amounts in zip(lines, totals.lines, strict=True):
        line_form = None
        if editable and line_to_edit == str(line.pk):
            line_form = forms.get("line_edit_form") or LineForm(
                initial={
                    "product_id": line.product_id,
                    "description": line.description,
                    "quantity": line.quantity.normalize(),
                    "unit": line.unit,
                    "unit_price": line.unit_price,
                    "discount": line.discount.normalize(),
                    "tax_rate": line.tax_rate.normalize(),
                },
                products=_products(actor),
                prefix="edit",
            )
        rows.append({"line": line, "amounts": amounts, "form": line_form})
    reasons = services.approval_reasons(quote)
    return {
        "quote": quote,
        "rows": rows,
        "totals": totals,
        "can_edit": can_edit,
        "editable": editable,
        "can_delete": permissions.in_scope(actor, "quote", quote, "delete")
        and quote.status in (Quote.Status.DRAFT, Quote.Status.REJECTED),
        "reasons": reasons,
        "pending": pending,
        "is_approver": is_approver,
        "line_form": forms.get("line_form")
        or (LineForm(products=_products(actor)) if editable else None),
        "submit_form": forms.get("submit_form") or SubmitForm(),
        "decision_form": forms.get("decision_form") or DecisionForm(),
        "approvals": approval_selectors.approvals_for_object(entity="quote", object_id=quote.pk),
        "versions": selectors.quote_versions(actor=actor, quote=quote),
        "history": record_history(actor=actor, entity="quote", object_id=quote.pk),
    }


@login_required
def quote_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    quote = _get(actor, pk)
    return render(request, "quotes/quote_detail.html", _detail_context(request, actor, quote))


@login_required
@require_POST
def quote_line_add(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    quote = _get(actor, pk, "edit")
    form = LineForm(request.POST, products=_products(actor))
    if form.is_valid():
        try:
            services.quote_line_add(actor=actor, quote=quote, data=form.service_data())
        except ValidationFailed as exc:
            apply_domain_errors(form, exc)
        except DomainError as exc:
            flash_domain_error(request, exc)
            return redirect("quotes:detail", pk=pk)
        else:
            return redirect(f"{quote_url(pk)}#lines")
    quote.refresh_from_db()
    return render(
        request,
        "quotes/quote_detail.html",
        _detail_context(request, actor, quote, line_form=form),
        status=400,
    )


def quote_url(pk: int) -> str:
    from django.urls import reverse

    return reverse("quotes:detail", args=[pk])


@login_required
@require_POST
def quote_line_edit(request: HttpRequest, pk: int, line_id: int) -> HttpResponse:
    actor = _actor(request)
    quote = _get(actor, pk, "edit")
    form = LineForm(request.POST, products=_products(actor), prefix="edit")
    if form.is_valid():
        data = form.service_data()
        data["product_id"] = form.cleaned_data.get("product_id")
        try:
            services.quote_line_update(actor=actor, quote=quote, line_id=line_id, data=data)
        except ValidationFailed as exc:
            apply_domain_errors(form, exc)
        except OutOfScope as exc:
            raise Http404 from exc
        except DomainError as exc:
            flash_domain_error(request, exc)
            return redirect("quotes:detail", pk=pk)
        else:
            return redirect(f"{quote_url(pk)}#lines")
    return render(
        request,
        "quotes/quote_detail.html",
        _detail_context(request, actor, quote, edit_line=str(line_id), line_edit_form=form),
        status=400,
    )


@login_required
@require_POST
def quote_line_delete(request: HttpRequest, pk: int, line_id: int) -> HttpResponse:
    actor = _actor(request)
    quote = _get(actor, pk, "edit")
    try:
        services.quote_line_delete(actor=actor, quote=quote, line_id=line_id)
    except OutOfScope as exc:
        raise Http404 from exc
    except DomainError as exc:
        flash_domain_error(request, exc)
    return redirect(f"{quote_url(pk)}#lines")


@login_required
@require_POST
def quote_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """submit, withdraw, send, accept, expire, revise, attach, delete."""
    actor = _actor(request)
    quote = _get(actor, pk, "delete" if action == "delete" else "edit")
    target = pk
    try:
        if action == "submit":
            form = SubmitForm(request.POST)
            reason = form.cleaned_data["reason"] if form.is_valid() else ""
            quote = services.quote_submit(actor=actor, quote=quote, reason=reason)
            if quote.status == Quote.Status.PENDING_APPROVAL:
                messages.success(request, _("Sent to the manager for approval."))
            else:
                messages.success(request, _("No approval is needed; the quote is approved."))
        elif action == "withdraw":
            services.quote_withdraw(actor=actor, quote=quote)
            messages.success(request, _("The approval request has been withdrawn."))
        elif action == "send":
            services.quote_mark_sent(actor=actor, quote=quote)
            messages.success(request, _("The quote is marked as sent."))
        elif action == "accept":
            services.quote_mark_accepted(actor=actor, quote=quote)
            messages.success(request, _("The quote is marked as accepted."))
        elif action == "expire":
            services.quote_mark_expired(actor=actor, quote=quote)
            messages.success(request, _("The quote is marked as expired."))
        elif action == "revise":
            new = services.quote_revise(actor=actor, quote=quote)
            target = new.pk
            messages.success(request, _("Version %(v)d has been created.") % {"v": new.version})
        elif action == "attach":
            services.quote_attach_pdf(actor=actor, quote=quote)
            messages.success(request, _("The PDF has been added to the account's timeline."))
        elif action == "delete":
            services.quote_delete(actor=actor, quote=quote)
            messages.success(request, _("The quote has been deleted."))
            return redirect("quotes:list")
        else:
            raise Http404
    except ValidationFailed as exc:
        flash_domain_error(request, exc)
    except OutOfScope as exc:
        raise Http404 from exc
    except NotPermitted as exc:
        raise PermissionDenied from exc
    except DomainError as exc:
        flash_domain_error(request, exc)
    return redirect("quotes:detail", pk=target)


@login_required
@require_POST
def quote_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """The approver's decision from the quote page (they can see the quote)."""
    actor = _actor(request)
    quote = _get(actor, pk)
    form = DecisionForm(request.POST)
    if form.is_valid():
        try:
            services.quote_decide(
                actor=actor,
                quote=quote,
                decision=form.cleaned_data["decision"],
                comment=form.cleaned_data["comment"],
            )
        except ValidationFailed as exc:
            apply_domain_errors(form, exc)
        except OutOfScope as exc:
            raise Http404 from exc
        except DomainError as exc:
            flash_domain_error(request, exc)
            return redirect("quotes:detail", pk=pk)
        else:
            messages.success(request, _("Your decision has been recorded."))
            return redirect("quotes:detail", pk=pk)
    return render(
        request,
        "quotes/quote_detail.html",
        _detail_context(request, actor, quote, decision_form=form),
        status=400,
    )


@login_required
def quote_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    quote = _get(_actor(request), pk)
    response = HttpResponse(pdf.render(quote), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{pdf.filename(quote)}"'
    return response


@admin_required
def quote_settings(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    conf = services.settings_get()
    profile = company.company_profile_get()
    which = request.POST.get("form")
    settings_form = QuoteSettingsForm(
        request.POST if which == "settings" else None,
        initial={
            "discount_threshold": conf.discount_threshold.normalize(),
            "amount_threshold": conf.amount_threshold,
            "amount_currency": conf.amount_currency,
            "default_validity_days": conf.default_validity_days,
            "default_terms": conf.default_terms,
        },
    )
    profile_form = CompanyProfileForm(
        request.POST if which == "company" else None,
        request.FILES if which == "company" else None,
        initial={f: getattr(profile, f) for f in company.FIELDS},
    )
    if request.method == "POST":
        form = settings_form if which == "settings" else profile_form
        if form.is_valid():
            try:
                if form is settings_form:
                    services.settings_save(actor=actor, data=form.cleaned_data)
                else:
                    data = dict(form.cleaned_data)
                    company.company_profile_save(
                        actor=actor,
                        data={k: data[k] for k in company.FIELDS},
                        logo=data.get("logo"),
                        remove_logo=bool(data.get("remove_logo")),
                    )
            except ValidationFailed as exc:
                apply_domain_errors(form, exc)
            else:
                messages.success(request, _("The settings have been saved."))
                return redirect("quotes:settings")
    return render(
        request,
        "quotes/settings.html",
        {
            "settings_form": settings_form,
            "profile_form": profile_form,
            "profile": profile,
            "nav": "quote_settings",
        },
        status=400 if request.method == "POST" else 200,
    )


# --- Deal products ----------------------------------------------------------------------


@login_required
def deal_products(request: HttpRequest, pk: int) -> HttpResponse:
    """The products on a deal (add, remove) and the deal's quotes."""
    actor = _actor(request)
    try:
        deal = permissions.get_for_user(actor, "deal", pk)
    except OutOfScope as exc:
        raise Http404 from exc
    except NotPermitted as exc:
        raise PermissionDenied from exc
    can_edit = permissions.in_scope(actor, "deal", deal, "edit")
    form = LineForm(request.POST or None, products=_products(actor))
    status = 200
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.deal_line_add(actor=actor, deal=deal, data=form.service_data())
            except ValidationFailed as exc:
                apply_domain_errors(form, exc)
            else:
                return redirect("quotes:deal_products", pk=deal.pk)
        status = 400
    lines = selectors.deal_lines(deal)
    from guanxi.sales.quotes.totals import compute

    totals = compute(lines, deal.currency)
    quotes = (
        selectors.quote_list(actor=actor, deal_id=deal.pk, page_size=50).items
        if permissions.can(actor, "quote", "view")
        else []
    )
    return render(
        request,
        "quotes/deal_products.html",
        {
            "deal": deal,
            "rows": list(zip(lines, totals.lines, strict=True)),
            "totals": totals,
            "form": form if can_edit else None,
            "can_edit": can_edit,
            "quotes": quotes,
            "can_quote": permissions.can(actor, "quote", "create"),
        },
        status=status,
    )


@login_required
@require_POST
def deal_product_remove(request: HttpRequest, pk: int, line_id: int) -> HttpResponse:
    actor = _actor(request)
    try:
        deal = permissions.get_for_user(actor, "deal", pk, "edit")
        services.deal_line_delete(actor=actor, deal=deal, line_id=line_id)
    except OutOfScope as exc:
        raise Http404 from exc
    except NotPermitted as exc:
        raise PermissionDenied from exc
    return redirect("quotes:deal_products", pk=pk)
