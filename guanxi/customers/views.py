"""Account and contact pages. Thin: every read goes through the selectors, every write
through the services; domain errors are mapped by ``guanxi.web.forms``.

Also home of the helpers the lead pages share (duplicate warning, masked-value reveal).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.core import custom_fields, lists, permissions
from guanxi.core import services as core_services
from guanxi.core.errors import (
    DomainError,
    DuplicateOf,
    DuplicateRecord,
    NotPermitted,
    OutOfScope,
    ValidationFailed,
)
from guanxi.customers import selectors, services
from guanxi.customers.forms import (
    AccountFilterForm,
    AccountForm,
    ContactFilterForm,
    ContactForm,
    TransferForm,
    apply_errors,
)
from guanxi.customers.models import Account, Contact
from guanxi.customers.panels import panels_for
from guanxi.identity import selectors as identity_selectors
from guanxi.web import lists as web_lists
from guanxi.web.forms import apply_domain_errors, flash_domain_error

if TYPE_CHECKING:
    from guanxi.identity.models import User

AUTOCOMPLETE_SIZE = 10


def actor_of(request: HttpRequest) -> User:
    return cast("User", request.user)


def require_can(actor: User, entity_key: str, action: str) -> None:
    if not permissions.can(actor, entity_key, action):
        raise PermissionDenied


def duplicate_info(actor: User, dup: DuplicateOf) -> dict[str, Any]:
    """What the duplicate warning may show: a link and a name only when in scope."""
    info: dict[str, Any] = {"type": dup.type, "match": dup.match, "visible": dup.visible}
    if not dup.visible:
        return info
    try:
        if dup.type == "lead":
            from guanxi.leads import selectors as lead_selectors

            lead = lead_selectors.lead_get_for_user(actor=actor, pk=dup.id)
            info.update(label=str(lead), url=reverse("leads:detail", args=[lead.pk]))
        elif dup.type == "contact":
            contact = selectors.contact_get_for_user(actor=actor, pk=dup.id)
            info.update(label=str(contact), url=reverse("customers:contact_detail", args=[dup.id]))
    except (OutOfScope, NotPermitted):
        info["visible"] = False
    return info


def record_value(request: HttpRequest, value: Any) -> HttpResponse:
    """The revealed value, swapped in by htmx in place of the masked one."""
    return HttpResponse(format_html('<span class="masked-value revealed">{}</span>', value or "—"))


def reveal(request: HttpRequest, entity_key: str, obj: Model, field: str) -> HttpResponse:
    try:
        value = core_services.field_reveal(
            actor=actor_of(request), entity_key=entity_key, obj=obj, field=field
        )
    except OutOfScope as exc:
        raise Http404 from exc
    except NotPermitted as exc:
        raise PermissionDenied from exc
    except ValidationFailed as exc:
        return HttpResponse(exc.message, status=400)
    return record_value(request, value)


def masked_context(actor: User, entity_key: str) -> dict[str, Any]:
    return {
        "masked": permissions.masked_fields(actor, entity_key),
        "can_reveal": permissions.can_reveal(actor, entity_key),
    }


def record_history(actor: User, entity_key: str, pk: int) -> list[Any]:
    """The audit trail of a record, masked for the viewer (see core.permissions.mask_changes)."""
    return identity_selectors.record_history(actor=actor, entity=entity_key, object_id=pk)


def _get(getter: Any, actor: User, pk: Any, action: str = "view") -> Any:
    try:
        return getter(actor=actor, pk=pk, action=action)
    except OutOfScope as exc:
        raise Http404 from exc
    except NotPermitted as exc:
        raise PermissionDenied from exc


def _transfer(
    request: HttpRequest, transfer: Any, obj: Model, detail: str, listing: str
) -> HttpResponse:
    actor = actor_of(request)
    form = TransferForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a user or the public pool."))
        return redirect(detail, pk=obj.pk)
    try:
        transfer(actor=actor, records=[obj], to_user=form.cleaned_data["to_user"])
    except OutOfScope as exc:
        raise Http404 from exc
    except DomainError as exc:
        flash_domain_error(request, exc)
        return redirect(detail, pk=obj.pk)
    to_user = form.cleaned_data["to_user"]
    if to_user is None:
        messages.success(request, _("Released to the public pool."))
    else:
        messages.success(request, _("Transferred to %(name)s.") % {"name": to_user.label})
    if permissions.in_scope(actor, obj._meta.model_name or "", obj):
        return redirect(detail, pk=obj.pk)
    return redirect(listing)


def picked_account(
    request: HttpRequest, actor: User, name: str, current: Account | None
) -> Account | None:
    """The account an account picker holds: the posted one (if in scope) or ``current``,
    so a re-shown form keeps its name. Never a list of accounts."""
    if request.method != "POST":
        return current
    raw = request.POST.get(name)
    if not raw:
        return None
    if current is not None and str(current.pk) == raw:
        return current
    try:
        return selectors.account_get_for_user(actor=actor, pk=raw)
    except (OutOfScope, NotPermitted):
        return None


@login_required
def account_autocomplete(request: HttpRequest) -> HttpResponse:
    """Type-ahead suggestions (htmx): accounts in scope by name, pinyin or initials."""
    actor = actor_of(request)
    q = (request.GET.get("account_q") or request.GET.get("q") or "").strip()
    accounts = selectors.account_suggestions(actor=actor, q=q, limit=AUTOCOMPLETE_SIZE)
    # Rendered without the request: a partial needs no context processors (no queries).
    return HttpResponse(
        render_to_string("customers/_account_options.html", {"accounts": accounts, "q": q})
    )


# --- Accounts ---------------------------------------------------------------------------


@login_required
def account_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    require_can(actor, "account", "view")
    state = web_lists.list_state(request, "account")
    form = AccountFilterForm(state.params or None)
    params: dict[str, Any] = dict(form.cleaned_data) if form.is_valid() else {}
    params.update({k: v for k, v in state.params.items() if k.startswith("custom.")})
    q, filters = selectors.list_params(params, selectors.ACCOUNT_PARAMS)
    try:
        page = selectors.account_list(
            actor=actor,
            q=q,
            filters=filters,
            sort=params.get("sort") or "-created_at",
            page=request.GET.get("page", 1),
        )
    except ValidationFailed as exc:
        flash_domain_error(request, exc)
        page = selectors.account_list(actor=actor)
    mask = permissions.masked_fields(actor, "account")
    rows = lists.rows(
        "account",
        state.columns,
        page.items,
        lambda a: selectors.account_as_dict(actor=actor, account=a, mask=mask),
        selectable=web_lists.can_bulk(actor, "account"),
    )
    return render(
        request,
        "customers/account_list.html",
        {
            "filters": form,
            "page": page,
            "rows": rows,
            "builtin_tabs": [("", _("All")), ("me", _("Mine")), ("none", _("Public pool"))],
            "builtin_param": "owner",
            "builtin_current": params.get("owner") or "",
            "can_create": permissions.can(actor, "account", "create"),
            **web_lists.page_context(request, state, count=page.count),
        },
    )


@login_required
def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    try:
        account = selectors.account_get_for_user(actor=actor, pk=pk)
    except OutOfScope:
        return _pool_account_detail(request, actor, pk)
    except NotPermitted as exc:
        raise PermissionDenied from exc
    contacts_page = (
        selectors.contact_list(actor=actor, filters={"account": account.pk}, page_size=50)
        if permissions.can(actor, "contact", "view")
        else None
    )
    mask = permissions.masked_fields(actor, "contact")
    contacts = [
        (c, selectors.contact_as_dict(actor=actor, contact=c, mask=mask))
        for c in (contacts_page.items if contacts_page else [])
    ]
    return render(
        request,
        "customers/account_detail.html",
        {
            "account": account,
            "collaborators": list(account.collaborators.all()),
            "custom": custom_fields.display("account", account.custom or {}),
            "contacts": contacts,
            "history": record_history(actor, "account", account.pk),
            "can_edit": permissions.in_scope(actor, "account", account, "edit"),
            "can_delete": permissions.in_scope(actor, "account", account, "delete"),
            "can_transfer": permissions.in_scope(actor, "account", account, "transfer"),
            "can_add_contact": permissions.can(actor, "contact", "create"),
            "transfer_form": TransferForm(),
            "panels": panels_for(actor, account),
            **activity_context(actor, "account", account.pk, request.path),
            **deal_context(actor, account),
        },
    )


def _pool_account_detail(request: HttpRequest, actor: User, pk: int) -> HttpResponse:
    """An account in a pool the user sees: read-only, with the Claim button."""
    from guanxi.leads import pool

    try:
        account = pool.pool_get_for_user(actor=actor, entity="account", pk=pk)
    except OutOfScope as exc:
        raise Http404 from exc
    return render(
        request,
        "customers/account_detail.html",
        {
            "account": account,
            "in_pool": True,
            "pool_name": pool.pool_label(account.pool_department_id),
            "can_claim": permissions.can(actor, "account", "edit"),
            "collaborators": [],
            "custom": custom_fields.display("account", account.custom or {}),
            "contacts": [],
            "history": record_history(actor, "account", account.pk),
            "timeline": False,
        },
    )


def deal_context(actor: User, account: Account) -> dict[str, Any]:
    """The account's deals and repeat purchases, when the sales app is installed."""
    try:
        from guanxi.sales import selectors as sales_selectors
    except ImportError:  # pragma: no cover - the sales app is optional
        return {"deals": None}
    if not permissions.can(actor, "deal", "view"):
        return {"deals": None}
    return {
        "deals": sales_selectors.account_deals(actor=actor, account=account),
        "can_add_deal": permissions.can(actor, "deal", "create"),
    }


def _account_form_page(
    request: HttpRequest, form: AccountForm, account: Account | None
) -> HttpResponse:
    return render(request, "customers/account_form.html", {"form": form, "account": account})


@login_required
def account_create(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    require_can(actor, "account", "create")
    form = AccountForm(
        request.POST or None, parent=picked_account(request, actor, "parent_id", None)
    )
    if request.method == "POST" and form.is_valid():
        try:
            account = services.account_create(actor=actor, data=form.service_data())
        except ValidationFailed as exc:
            apply_domain_errors(form, apply_errors(form, exc))
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Account “%(name)s” created.") % {"name": account.name})
            return redirect("customers:account_detail", pk=account.pk)
    return _account_form_page(request, form, None)


@login_required
def account_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    account = _get(selectors.account_get_for_user, actor, pk, "edit")
    initial = {
        name: getattr(account, name)
        for name in (
            "name",
            "credit_code",
            "industry",
            "size",
            "tier",
            "lifecycle_stage",
            "province",
            "city",
            "address",
            "website",
            "special_requirements",
        )
    }
    initial["tags"] = ", ".join(account.tags or [])
    initial["parent_id"] = account.parent_id
    parent = picked_account(request, actor, "parent_id", account.parent)
    form = AccountForm(request.POST or None, initial=initial, parent=parent, custom=account.custom)
    if request.method == "POST" and form.is_valid():
        try:
            services.account_update(
                actor=actor, account=account, data=form.service_data(changed_only=True)
            )
        except ValidationFailed as exc:
            apply_domain_errors(form, apply_errors(form, exc))
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Account saved."))
            return redirect("customers:account_detail", pk=account.pk)
    return _account_form_page(request, form, account)


@login_required
@require_POST
def account_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    account = _get(selectors.account_get_for_user, actor, pk)
    try:
        services.account_delete(actor=actor, account=account)
    except OutOfScope as exc:
        raise Http404 from exc
    except DomainError as exc:
        flash_domain_error(request, exc)
        return redirect("customers:account_detail", pk=account.pk)
    messages.success(request, _("Account deleted."))
    return redirect("customers:account_list")


@login_required
@require_POST
def account_transfer(request: HttpRequest, pk: int) -> HttpResponse:
    account = _get(selectors.account_get_for_user, actor_of(request), pk)
    return _transfer(
        request,
        services.account_transfer,
        account,
        "customers:account_detail",
        "customers:account_list",
    )


# --- Contacts ---------------------------------------------------------------------------


@login_required
def contact_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    require_can(actor, "contact", "view")
    state = web_lists.list_state(request, "contact")
    form = ContactFilterForm(state.params or None)
    params: dict[str, Any] = dict(form.cleaned_data) if form.is_valid() else {}
    params.update({k: v for k, v in state.params.items() if k.startswith("custom.")})
    q, filters = selectors.list_params(params, selectors.CONTACT_PARAMS)
    try:
        page = selectors.contact_list(
            actor=actor,
            q=q,
            filters=filters,
            sort=params.get("sort") or "-created_at",
            page=request.GET.get("page", 1),
        )
    except ValidationFailed as exc:
        flash_domain_error(request, exc)
        page = selectors.contact_list(actor=actor)
    mask = permissions.masked_fields(actor, "contact")
    rows = lists.rows(
        "contact",
        state.columns,
        page.items,
        lambda c: selectors.contact_as_dict(actor=actor, contact=c, mask=mask),
        selectable=web_lists.can_bulk(actor, "contact"),
    )
    return render(
        request,
        "customers/contact_list.html",
        {
            "filters": form,
            "page": page,
            "rows": rows,
            "builtin_tabs": [("", _("All")), ("me", _("Mine")), ("none", _("Public pool"))],
            "builtin_param": "owner",
            "builtin_current": params.get("owner") or "",
            "can_create": permissions.can(actor, "contact", "create"),
            **web_lists.page_context(request, state, count=page.count),
        },
    )


def activity_context(actor: User, entity_key: str, pk: int, next_url: str) -> dict[str, Any]:
    """The follow-up quick-add form and the timeline, when the activities app offers them."""
    try:
        from guanxi.activities import targets
        from guanxi.activities.forms import FollowupForm
        from guanxi.activities.views import followup_context
    except ImportError:  # pragma: no cover - the activities app is optional
        return {"timeline": False}
    try:
        reverse("activities:timeline")
    except NoReverseMatch:
        return {"timeline": False}
    if not targets.is_registered(entity_key):
        return {"timeline": False}
    context: dict[str, Any] = {"timeline": True, "followup": None}
    try:
        may_add = permissions.can(actor, "activity", "create")
    except KeyError:
        may_add = False
    if may_add:
        context["followup"] = followup_context(FollowupForm(), entity_key, pk, next=next_url)
    return context


@login_required
def contact_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    contact = _get(selectors.contact_get_for_user, actor, pk)
    data = selectors.contact_as_dict(actor=actor, contact=contact)
    return render(
        request,
        "customers/contact_detail.html",
        {
            "contact": contact,
            "data": data,
            "account": contact.account if contact.account_id else None,
            "custom": custom_fields.display("contact", contact.custom or {}),
            "history": record_history(actor, "contact", contact.pk),
            "can_edit": permissions.in_scope(actor, "contact", contact, "edit"),
            "can_delete": permissions.in_scope(actor, "contact", contact, "delete"),
            "can_transfer": permissions.in_scope(actor, "contact", contact, "transfer"),
            "transfer_form": TransferForm(),
            **masked_context(actor, "contact"),
            **activity_context(actor, "contact", contact.pk, request.path),
        },
    )


def _contact_form_page(
    request: HttpRequest,
    form: ContactForm,
    contact: Contact | None,
    duplicate: dict[str, Any] | None,
) -> HttpResponse:
    return render(
        request,
        "customers/contact_form.html",
        {
            "form": form,
            "contact": contact,
            "duplicate": duplicate,
            "can_override": permissions.can(actor_of(request), "contact", "create"),
        },
    )


def _allow_duplicate(request: HttpRequest, entity_key: str) -> bool:
    return request.POST.get("allow_duplicate") == "1" and permissions.can(
        actor_of(request), entity_key, "create"
    )


@login_required
def contact_create(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    require_can(actor, "contact", "create")
    initial: dict[str, Any] = {}
    current: Account | None = None
    if account_id := request.GET.get("account"):
        try:
            current = selectors.account_get_for_user(actor=actor, pk=account_id)
        except (OutOfScope, NotPermitted):
            current = None
        else:
            initial["account_id"] = current.pk
    form = ContactForm(
        request.POST or None,
        initial=initial,
        account=picked_account(request, actor, "account_id", current),
    )
    duplicate = None
    if request.method == "POST" and form.is_valid():
        try:
            contact = services.contact_create(
                actor=actor,
                data=form.service_data(),
                allow_duplicate=_allow_duplicate(request, "contact"),
            )
        except DuplicateRecord as exc:
            duplicate = duplicate_info(actor, exc.duplicate)
        except ValidationFailed as exc:
            apply_domain_errors(form, apply_errors(form, exc))
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Contact “%(name)s” created.") % {"name": contact.name})
            return redirect("customers:contact_detail", pk=contact.pk)
    return _contact_form_page(request, form, None, duplicate)


@login_required
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    contact = _get(selectors.contact_get_for_user, actor, pk, "edit")
    names = [
        "name",
        "title",
        "mobile",
        "phone",
        "email",
        "wechat",
        "birthday",
        "is_primary",
        "preferred_channel",
        "consent_marketing",
        "consent_source",
        "consent_at",
        "last_contacted_at",
        "notes",
    ]
    initial: dict[str, Any] = {name: getattr(contact, name) for name in names}
    initial["tags"] = ", ".join(contact.tags or [])
    initial["account_id"] = contact.account_id
    form = ContactForm(
        request.POST or None,
        initial=initial,
        account=picked_account(request, actor, "account_id", contact.account),
        custom=contact.custom,
    )
    duplicate = None
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_update(
                actor=actor,
                contact=contact,
                data=form.service_data(changed_only=True),
                allow_duplicate=_allow_duplicate(request, "contact"),
            )
        except DuplicateRecord as exc:
            duplicate = duplicate_info(actor, exc.duplicate)
        except ValidationFailed as exc:
            apply_domain_errors(form, apply_errors(form, exc))
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Contact saved."))
            return redirect("customers:contact_detail", pk=contact.pk)
    return _contact_form_page(request, form, contact, duplicate)


@login_required
@require_POST
def contact_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    contact = _get(selectors.contact_get_for_user, actor, pk)
    try:
        services.contact_delete(actor=actor, contact=contact)
    except OutOfScope as exc:
        raise Http404 from exc
    except DomainError as exc:
        flash_domain_error(request, exc)
        return redirect("customers:contact_detail", pk=contact.pk)
    messages.success(request, _("Contact deleted."))
    return redirect("customers:contact_list")


@login_required
@require_POST
def contact_transfer(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _get(selectors.contact_get_for_user, actor_of(request), pk)
    return _transfer(
        request,
        services.contact_transfer,
        contact,
        "customers:contact_detail",
        "customers:contact_list",
    )


@login_required
@require_POST
def contact_reveal(request: HttpRequest, pk: int, field: str) -> HttpResponse:
    contact = _get(selectors.contact_get_for_user, actor_of(request), pk)
    return reveal(request, "contact", contact, field)
