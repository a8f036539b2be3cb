"""Contract pages (list, detail with plan editor, receipts, invoices, scan), the
receivables aging page and finance settings. Thin: selectors read, services write."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.core import permissions
from guanxi.core.errors import DomainError, NotPermitted, OutOfScope, ValidationFailed
from guanxi.customers import selectors as customer_selectors
from guanxi.customers.views import activity_context, record_history
from guanxi.finance import payments, receivables, selectors, services
from guanxi.finance.forms import (
    ContractFilterForm,
    ContractForm,
    DrilldownForm,
    FinanceSettingsForm,
    InvoiceForm,
    ReceiptForm,
    ReceivablesForm,
    ScanForm,
    TerminateForm,
)
from guanxi.finance.models import Contract, Invoice
from guanxi.web.forms import apply_domain_errors, flash_domain_error

if TYPE_CHECKING:
    from guanxi.identity.models import User

PICKER_SIZE = 200


def _actor(request: HttpRequest) -> User:
    return cast("User", request.user)


def _contract(actor: User, pk: Any, action: str = "view") -> Contract:
    try:
        return selectors.contract_get_for_user(actor=actor, pk=pk, action=action)
    except OutOfScope as exc:
        raise Http404 from exc
    except NotPermitted as exc:
        raise PermissionDenied from exc


def _accounts(actor: User, current: Any = None) -> list[Any]:
    if not permissions.can(actor, "account", "view"):
        return [current] if current is not None else []
    items = list(
        customer_selectors.account_list(actor=actor, sort="name", page_size=PICKER_SIZE).items
    )
    if current is not None and all(a.pk != current.pk for a in items):
        items.insert(0, current)
    return items


@login_required
def contract_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    if not permissions.can(actor, "contract", "view"):
        raise PermissionDenied
    form = ContractFilterForm(request.GET or None)
    params: dict[str, Any] = form.cleaned_data if form.is_valid() else {}
    filters = {k: params.get(k) for k in ("status", "owner", "account")}
    try:
        page = selectors.contract_list(
            actor=actor, q=params.get("q") or "", filters=filters, page=request.GET.get("page", 1)
        )
    except ValidationFailed as exc:
        flash_domain_error(request, exc)
        page = selectors.contract_list(actor=actor)
    mask = permissions.masked_fields(actor, "contract")
    rows = [(c, selectors.contract_as_dict(actor=actor, contract=c, mask=mask)) for c in page.items]
    return render(
        request,
        "finance/contract_list.html",
        {
            "filters": form,
            "page": page,
            "rows": rows,
            "owner": request.GET.get("owner", ""),
            "tabs": [("", _("All")), ("me", _("Mine"))],
            "can_create": permissions.can(actor, "contract", "create"),
            "can_see_payments": permissions.can(actor, "payment", "view"),
        },
    )


def _form_page(request: HttpRequest, form: ContractForm, contract: Contract | None) -> HttpResponse:
    return render(request, "finance/contract_form.html", {"form": form, "contract": contract})


@login_required
def contract_create(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    if not permissions.can(actor, "contract", "create"):
        raise PermissionDenied
    current = None
    initial: dict[str, Any] = {"currency": "CNY"}
    if account_id := request.GET.get("account"):
        try:
            current = customer_selectors.account_get_for_user(actor=actor, pk=account_id)
        except (OutOfScope, NotPermitted):
            current = None
        else:
            initial["account_id"] = current.pk
    form = ContractForm(request.POST or None, initial=initial, accounts=_accounts(actor, current))
    if request.method == "POST" and form.is_valid():
        try:
            contract = services.contract_create(actor=actor, data=form.service_data())
        except ValidationFailed as exc:
            apply_domain_errors(form, exc)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request, _("Contract %(number)s recorded.") % {"number": contract.number}
            )
            return redirect("finance:contract_detail", pk=contract.pk)
    return _form_page(request, form, None)


@login_required
def contract_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    contract = _contract(actor, pk, "edit")
    initial = {
        name: getattr(contract, name)
        for name in ("title", "amount", "currency", "signed_on", "starts_on", "ends_on", "notes")
    }
    initial["account_id"] = contract.account_id
    form = ContractForm(
        request.POST or None, initial=initial, accounts=_accounts(actor, contract.account)
    )
    if request.method == "POST" and form.is_valid():
        data = form.service_data(changed_only=True)
        if "amount" in data and str(contract.amount) == str(data["amount"]).strip():
            data.pop("amount")
        try:
            services.contract_update(actor=actor, contract=contract, data=data)
        except ValidationFailed as exc:
            apply_domain_errors(form, exc)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Contract saved."))
            return redirect("finance:contract_detail", pk=contract.pk)
    return _form_page(request, form, contract)


def _detail_context(
    request: HttpRequest,
    contract: Contract,
    *,
    receipt_form: ReceiptForm | None = None,
    invoice_form: InvoiceForm | None = None,
    plan_rows: list[dict[str, Any]] | None = None,
    plan_errors: list[str] | None = None,
) -> dict[str, Any]:
    actor = _actor(request)
    today = timezone.localdate()
    installments = selectors.installments_of(contract=contract, today=today)
    can_edit = permissions.in_scope(actor, "contract", contract, "edit")
    see_payments = permissions.can(actor, "payment", "view")
    open_installments = [i for i in installments if i.outstanding > 0]
    data = selectors.contract_as_dict(actor=actor, contract=contract)
    receipts = (
        selectors.receipt_list(actor=actor, contract_id=contract.pk, page_size=200).items
        if see_payments
        else []
    )
    invoices = selectors.invoices_of(actor=actor, contract=contract) if see_payments else []
    plan_locked = bool(receipts) or contract.status in (
        Contract.Status.TERMINATED,
        Contract.Status.EXPIRED,
    )
    return {
        "contract": contract,
        "data": data,
        "amount_masked": "amount" in permissions.masked_fields(actor, "contract"),
        "installments": installments,
        "plan_rows": plan_rows
        if plan_rows is not None
        else [
            {"due_on": i.due_on.isoformat(), "amount": str(i.amount), "notes": i.notes}
            for i in installments
        ],
        "plan_errors": plan_errors or [],
        "plan_editable": can_edit and not plan_locked,
        "receipts": receipts,
        "invoices": invoices,
        "invoice_totals": selectors.invoice_totals(contract) if see_payments else None,
        "see_payments": see_payments,
        "can_edit": can_edit,
        "can_delete": contract.status == Contract.Status.DRAFT
        and permissions.in_scope(actor, "contract", contract, "delete"),
        "can_receive": permissions.can(actor, "payment", "create")
        and contract.status
        in (Contract.Status.ACTIVE, Contract.Status.EXPIRED, Contract.Status.TERMINATED),
        "can_invoice": permissions.can(actor, "payment", "create")
        and contract.status not in (Contract.Status.DRAFT, Contract.Status.PENDING),
        "can_edit_invoices": permissions.can(actor, "payment", "edit"),
        "can_delete_receipts": permissions.can(actor, "payment", "delete"),
        "receipt_form": receipt_form
        or ReceiptForm(
            initial={"received_on": today, "method": "bank_transfer"},
            installments=open_installments,
        ),
        "invoice_form": invoice_form or InvoiceForm(initial={"issued_on": today}),
        "scan_form": ScanForm(),
        "terminate_form": TerminateForm(),
        "history": record_history(actor, "contract", contract.pk),
        "today": today,
        **activity_context(actor, "contract", contract.pk, request.path),
    }


@login_required
def contract_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contract = _contract(_actor(request), pk)
    return render(request, "finance/contract_detail.html", _detail_context(request, contract))


def _back(contract: Contract, anchor: str = "") -> HttpResponse:
    response = redirect("finance:contract_detail", pk=contract.pk)
    if anchor:
        response["Location"] += f"#{anchor}"
    return response


@login_required
@require_POST
def contract_activate(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    contract = _contract(actor, pk)
    try:
        contract = services.contract_activate(actor=actor, contract=contract)
    except OutOfScope as exc:
        raise Http404 from exc
    except DomainError as exc:
        flash_domain_error(request, exc)
    else:
        if contract.status == Contract.Status.PENDING:
            messages.success(request, _("Sent for approval to the department head."))
        else:
            messages.success(request, _("The contract is active."))
    return _back(contract)


@login_required
@require_POST
def contract_terminate(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    contract = _contract(actor, pk)
    try:
        services.contract_terminate(
            actor=actor, contract=contract, reason=request.POST.get("reason", "")
        )
    except OutOfScope as exc:
        raise Http404 from exc
    except DomainError as exc:
        flash_domain_error(request, exc)
    else:
        messages.success(request, _("The contract is terminated."))
    return _back(contract)


@login_required
@require_POST
def contract_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    contract = _contract(actor, pk)
    try:
        services.contract_delete(actor=actor, contract=contract)
    except OutOfScope as exc:
        raise Http404 from exc
    except DomainError as exc:
        flash_domain_error(request, exc)
        return _back(contract)
    messages.success(request, _("Contract deleted."))
    return redirect("finance:contract_list")


@login_required
@require_POST
def contract_scan_upload(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    contract = _contract(actor, pk)
    try:
        services.contract_attach_scan(
            actor=actor, contract=contract, upload=request.FILES.get("scan")
        )
    except OutOfScope as exc:
        raise Http404 from exc
    except DomainError as exc:
        flash_domain_error(request, exc)
    else:
        messages.success(request, _("Scan uploaded."))
    return _back(contract, "scan")


@login_required
def contract_scan(request: HttpRequest, pk: int) -> FileResponse:
    """The signed scan, only for users who see the contract."""
    contract = _contract(_actor(request), pk)
    if not contract.scan:
        raise Http404
    return FileResponse(
        contract.scan.open("rb"),
        as_attachment=request.GET.get("download") == "1",
        filename=contract.scan_name or "scan",
        content_type=contract.scan_content_type or None,
    )


def _plan_rows(request: HttpRequest) -> list[dict[str, Any]]:
    dues = request.POST.getlist("due_on")
    amounts = request.POST.getlist("amount")
    notes = request.POST.getlist("notes")
    rows = []
    for i, due in enumerate(dues):
        amount = amounts[i] if i < len(amounts) else ""
        note = notes[i] if i < len(notes) else ""
        if not due.strip() and not amount.strip() and not note.strip():
            continue  # an untouched blank row
        rows.append({"due_on": due.strip(), "amount": amount.strip(), "notes": note.strip()})
    return rows


@login_required
@require_POST
def contract_plan(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    contract = _contract(actor, pk)
    rows = _plan_rows(request)
    try:
        services.plan_set(actor=actor, contract=contract, installments=rows)
    except OutOfScope as exc:
        raise Http404 from exc
    except ValidationFailed as exc:
        errors = [_field_label(e.field) + str(e.message) for e in exc.errors]
        return render(
            request,
            "finance/contract_detail.html",
            _detail_context(request, contract, plan_rows=rows, plan_errors=errors),
            status=422,
        )
    except DomainError as exc:
        flash_domain_error(request, exc)
    else:
        messages.success(request, _("Payment plan saved."))
    return _back(contract, "plan")


def _field_label(field: str) -> str:
    """``installments.1.amount`` → "Installment 2: " for the plan editor's messages."""
    parts = field.split(".")
    if len(parts) >= 2 and parts[0] == "installments" and parts[1].isdigit():
        return _("Installment %(n)d: ") % {"n": int(parts[1]) + 1}
    return ""


@login_required
@require_POST
def receipt_create(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    contract = _contract(actor, pk)
    installments = [i for i in selectors.installments_of(contract=contract) if i.outstanding > 0]
    form = ReceiptForm(request.POST, installments=installments)
    if form.is_valid():
        try:
            payments.receipt_create(actor=actor, contract=contract, data=dict(form.cleaned_data))
        except OutOfScope as exc:
            raise Http404 from exc
        except NotPermitted as exc:
            raise PermissionDenied from exc
        except ValidationFailed as exc:
            apply_domain_errors(form, exc)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Receipt recorded."))
            return _back(contract, "receipts")
    return render(
        request,
        "finance/contract_detail.html",
        _detail_context(request, contract, receipt_form=form),
        status=422,
    )


@login_required
@require_POST
def receipt_delete(request: HttpRequest, pk: int, receipt_id: int) -> HttpResponse:
    actor = _actor(request)
    contract = _contract(actor, pk)
    try:
        receipt = selectors.receipt_get_for_user(actor=actor, pk=receipt_id, action="delete")
        if receipt.contract_id != contract.pk:
            raise OutOfScope()
        payments.receipt_delete(actor=actor, receipt=receipt)
    except OutOfScope as exc:
        raise Http404 from exc
    except DomainError as exc:
        flash_domain_error(request, exc)
    else:
        messages.success(request, _("Receipt removed."))
    return _back(contract, "receipts")


@login_required
@require_POST
def invoice_create(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    contract = _contract(actor, pk)
    form = InvoiceForm(request.POST)
    if form.is_valid():
        try:
            payments.invoice_create(actor=actor, contract=contract, data=dict(form.cleaned_data))
        except OutOfScope as exc:
            raise Http404 from exc
        except NotPermitted as exc:
            raise PermissionDenied from exc
        except ValidationFailed as exc:
            apply_domain_errors(form, exc)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Invoice recorded."))
            return _back(contract, "invoices")
    return render(
        request,
        "finance/contract_detail.html",
        _detail_context(request, contract, invoice_form=form),
        status=422,
    )


@login_required
@require_POST
def invoice_status(request: HttpRequest, pk: int, invoice_id: int) -> HttpResponse:
    actor = _actor(request)
    contract = _contract(actor, pk)
    status = request.POST.get("status", "")
    try:
        invoice = payments.invoice_for_user(actor, contract, invoice_id)
        payments.invoice_update(actor=actor, invoice=invoice, data={"status": status})
    except OutOfScope as exc:
        raise Http404 from exc
    except DomainError as exc:
        flash_domain_error(request, exc)
    else:
        messages.success(
            request,
            _("Invoice issued.") if status == Invoice.Status.ISSUED else _("Invoice voided."),
        )
    return _back(contract, "invoices")


# --- Receivables ------------------------------------------------------------------------


@login_required
def receivables_page(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    if not permissions.can(actor, "payment", "view"):
        raise PermissionDenied
    form = ReceivablesForm(request.GET or None)
    params: dict[str, Any] = form.cleaned_data if form.is_valid() else {}
    group = params.get("group") or "account"
    today = params.get("as_of") or timezone.localdate()
    totals = receivables.aging_summary(actor=actor, today=today)
    page = receivables.aging_by(
        actor=actor, group=group, today=today, page=request.GET.get("page", 1)
    )
    return render(
        request,
        "finance/receivables.html",
        {
            "form": form,
            "group": group,
            "today": today,
            "as_of": params.get("as_of"),
            "totals": totals,
            "page": page,
            "buckets": receivables.BUCKETS,
            "groups": [
                ("account", _("Account")),
                ("contract", _("Contract")),
                ("owner", _("Owner")),
            ],
        },
    )


@login_required
def receivables_installments(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    if not permissions.can(actor, "payment", "view"):
        raise PermissionDenied
    form = DrilldownForm(request.GET or None)
    params: dict[str, Any] = form.cleaned_data if form.is_valid() else {}
    today = params.get("as_of") or timezone.localdate()
    bucket = params.get("bucket") or ""
    page = receivables.installments_in_bucket(
        actor=actor,
        bucket=bucket,
        account_id=params.get("account"),
        contract_id=params.get("contract"),
        today=today,
        page=request.GET.get("page", 1),
    )
    labels = dict(receivables.BUCKETS)
    labels["overdue"] = _("Overdue")
    return render(
        request,
        "finance/receivables_installments.html",
        {
            "page": page,
            "today": today,
            "bucket_label": labels.get(bucket, _("All open")),
            "as_of": params.get("as_of"),
        },
    )


@login_required
def finance_settings(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    if not permissions.is_admin(actor):
        raise PermissionDenied
    from guanxi.finance.models import FinanceSettings

    conf = FinanceSettings.current()
    form = FinanceSettingsForm(
        request.POST or None,
        initial={"approval_threshold": conf.approval_threshold, "renewal_days": conf.renewal_days},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.finance_settings_save(
                actor=actor,
                approval_threshold=form.cleaned_data["approval_threshold"],
                renewal_days=form.cleaned_data["renewal_days"],
            )
        except ValidationFailed as exc:
            apply_domain_errors(form, exc)
        else:
            messages.success(request, _("Finance settings saved."))
            return redirect("finance:settings")
    return render(request, "finance/settings.html", {"form": form, "nav": "finance_settings"})
