"""/contracts (+ plan, receipts, invoices, scan, activate, terminate), /payments and
/receivables."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.dateparse import parse_date
from ninja import File, Query, Router
from ninja.files import UploadedFile
from ninja.responses import Status

from guanxi.api.auth import actor
from guanxi.core import permissions
from guanxi.core.errors import FieldError, ValidationFailed
from guanxi.finance import payments, receivables, selectors, services
from guanxi.finance.schemas import (
    ContractFilter,
    ContractIn,
    ContractOut,
    ContractPage,
    ContractPatch,
    InvoiceIn,
    InvoiceList,
    InvoiceOut,
    InvoicePatch,
    OpenInstallmentPage,
    PaymentFilter,
    PaymentIn,
    PlanIn,
    PlanOut,
    ReceiptIn,
    ReceiptOut,
    ReceiptPage,
    ReceivablesOut,
    TerminateIn,
)

router = Router(tags=["finance"])


def _out(caller: Any, contract: Any) -> dict[str, Any]:
    fresh = selectors.contract_get_for_user(actor=caller, pk=contract.pk)
    return selectors.contract_as_dict(actor=caller, contract=fresh)


# --- Contracts --------------------------------------------------------------------------


@router.get("/contracts", response=ContractPage, summary="Contracts in the caller's scope")
def contract_list(request: HttpRequest, filters: Query[ContractFilter]) -> dict[str, Any]:
    caller = actor(request)
    f = filters.dict()
    result = selectors.contract_list(
        actor=caller,
        q=f.pop("q"),
        sort=f.pop("sort"),
        page=f.pop("page"),
        page_size=f.pop("page_size"),
        filters=f,
    )
    mask = permissions.masked_fields(caller, "contract")
    return result.as_api(
        [selectors.contract_as_dict(actor=caller, contract=c, mask=mask) for c in result.items]
    )


@router.post("/contracts", response={201: ContractOut}, summary="Record a draft contract")
def contract_create(request: HttpRequest, payload: ContractIn) -> Status[dict[str, Any]]:
    caller = actor(request)
    contract = services.contract_create(actor=caller, data=payload.dict(exclude_unset=True))
    return Status(201, _out(caller, contract))


@router.get("/contracts/{int:contract_id}", response=ContractOut)
def contract_detail(request: HttpRequest, contract_id: int) -> dict[str, Any]:
    caller = actor(request)
    return selectors.contract_as_dict(
        actor=caller, contract=selectors.contract_get_for_user(actor=caller, pk=contract_id)
    )


@router.patch("/contracts/{int:contract_id}", response=ContractOut)
def contract_update(
    request: HttpRequest, contract_id: int, payload: ContractPatch
) -> dict[str, Any]:
    caller = actor(request)
    contract = selectors.contract_get_for_user(actor=caller, pk=contract_id, action="edit")
    services.contract_update(actor=caller, contract=contract, data=payload.dict(exclude_unset=True))
    return _out(caller, contract)


@router.delete("/contracts/{int:contract_id}", response={204: None})
def contract_delete(request: HttpRequest, contract_id: int) -> Status[None]:
    caller = actor(request)
    contract = selectors.contract_get_for_user(actor=caller, pk=contract_id, action="delete")
    services.contract_delete(actor=caller, contract=contract)
    return Status(204, None)


@router.post(
    "/contracts/{int:contract_id}/activate",
    response=ContractOut,
    summary="Activate a draft (or send it for approval above the threshold)",
)
def contract_activate(request: HttpRequest, contract_id: int) -> dict[str, Any]:
    caller = actor(request)
    contract = selectors.contract_get_for_user(actor=caller, pk=contract_id, action="edit")
    services.contract_activate(actor=caller, contract=contract)
    return _out(caller, contract)


@router.post("/contracts/{int:contract_id}/terminate", response=ContractOut)
def contract_terminate(
    request: HttpRequest, contract_id: int, payload: TerminateIn
) -> dict[str, Any]:
    caller = actor(request)
    contract = selectors.contract_get_for_user(actor=caller, pk=contract_id, action="edit")
    services.contract_terminate(actor=caller, contract=contract, reason=payload.reason)
    return _out(caller, contract)


@router.post(
    "/contracts/{int:contract_id}/scan", response=ContractOut, summary="Upload the signed scan"
)
def contract_scan(
    request: HttpRequest, contract_id: int, file: File[UploadedFile]
) -> dict[str, Any]:
    caller = actor(request)
    contract = selectors.contract_get_for_user(actor=caller, pk=contract_id, action="edit")
    services.contract_attach_scan(actor=caller, contract=contract, upload=file)
    return _out(caller, contract)


# --- Plan -------------------------------------------------------------------------------


def _plan(contract: Any) -> dict[str, Any]:
    return {
        "contract_id": contract.pk,
        "currency": contract.currency,
        "installments": [
            selectors.installment_as_dict(i) for i in selectors.installments_of(contract=contract)
        ],
    }


@router.get("/contracts/{int:contract_id}/plan", response=PlanOut)
def plan_detail(request: HttpRequest, contract_id: int) -> dict[str, Any]:
    caller = actor(request)
    return _plan(selectors.contract_get_for_user(actor=caller, pk=contract_id))


@router.put(
    "/contracts/{int:contract_id}/plan",
    response=PlanOut,
    summary="Replace the payment plan (must add up to the contract amount)",
)
def plan_set(request: HttpRequest, contract_id: int, payload: PlanIn) -> dict[str, Any]:
    caller = actor(request)
    contract = selectors.contract_get_for_user(actor=caller, pk=contract_id, action="edit")
    services.plan_set(
        actor=caller,
        contract=contract,
        installments=[i.dict() for i in payload.installments],
    )
    return _plan(contract)


# --- Receipts ---------------------------------------------------------------------------


@router.get("/contracts/{int:contract_id}/receipts", response=ReceiptPage)
def contract_receipts(
    request: HttpRequest, contract_id: int, page: int = 1, page_size: int = 50
) -> dict[str, Any]:
    caller = actor(request)
    contract = selectors.contract_get_for_user(actor=caller, pk=contract_id)
    result = selectors.receipt_list(
        actor=caller, contract_id=contract.pk, page=page, page_size=page_size
    )
    return result.as_api([selectors.receipt_as_dict(r) for r in result.items])


@router.post("/contracts/{int:contract_id}/receipts", response={201: ReceiptOut})
def contract_receipt_create(
    request: HttpRequest, contract_id: int, payload: ReceiptIn
) -> Status[dict[str, Any]]:
    caller = actor(request)
    contract = payments.contract_for_payments(caller, contract_id)
    receipt = payments.receipt_create(actor=caller, contract=contract, data=payload.dict())
    return Status(
        201, selectors.receipt_as_dict(selectors.receipt_get_for_user(actor=caller, pk=receipt.pk))
    )


# --- Invoices ---------------------------------------------------------------------------


@router.get("/contracts/{int:contract_id}/invoices", response=InvoiceList)
def contract_invoices(request: HttpRequest, contract_id: int) -> dict[str, Any]:
    caller = actor(request)
    contract = selectors.contract_get_for_user(actor=caller, pk=contract_id)
    return {
        "items": [
            selectors.invoice_as_dict(i)
            for i in selectors.invoices_of(actor=caller, contract=contract)
        ]
    }


@router.post("/contracts/{int:contract_id}/invoices", response={201: InvoiceOut})
def contract_invoice_create(
    request: HttpRequest, contract_id: int, payload: InvoiceIn
) -> Status[dict[str, Any]]:
    caller = actor(request)
    contract = payments.contract_for_payments(caller, contract_id)
    invoice = payments.invoice_create(actor=caller, contract=contract, data=payload.dict())
    return Status(201, selectors.invoice_as_dict(invoice))


@router.patch("/contracts/{int:contract_id}/invoices/{int:invoice_id}", response=InvoiceOut)
def contract_invoice_update(
    request: HttpRequest, contract_id: int, invoice_id: int, payload: InvoicePatch
) -> dict[str, Any]:
    caller = actor(request)
    contract = payments.contract_for_payments(caller, contract_id, "edit")
    invoice = payments.invoice_for_user(caller, contract, invoice_id)
    invoice = payments.invoice_update(
        actor=caller, invoice=invoice, data=payload.dict(exclude_unset=True)
    )
    return selectors.invoice_as_dict(invoice)


# --- Payments ---------------------------------------------------------------------------


@router.get("/payments", response=ReceiptPage, summary="Receipts on contracts in scope")
def payment_list(request: HttpRequest, filters: Query[PaymentFilter]) -> dict[str, Any]:
    caller = actor(request)
    f = filters.dict()
    result = selectors.receipt_list(
        actor=caller,
        contract_id=f["contract"],
        account_id=f["account"],
        received_from=f["received_from"],
        received_to=f["received_to"],
        method=f["method"],
        page=f["page"],
        page_size=f["page_size"],
    )
    return result.as_api([selectors.receipt_as_dict(r) for r in result.items])


@router.post("/payments", response={201: ReceiptOut}, summary="Record a receipt")
def payment_create(request: HttpRequest, payload: PaymentIn) -> Status[dict[str, Any]]:
    caller = actor(request)
    data = payload.dict()
    contract = payments.contract_for_payments(caller, data.pop("contract_id"))
    receipt = payments.receipt_create(actor=caller, contract=contract, data=data)
    return Status(
        201, selectors.receipt_as_dict(selectors.receipt_get_for_user(actor=caller, pk=receipt.pk))
    )


@router.get("/payments/{int:receipt_id}", response=ReceiptOut)
def payment_detail(request: HttpRequest, receipt_id: int) -> dict[str, Any]:
    caller = actor(request)
    return selectors.receipt_as_dict(selectors.receipt_get_for_user(actor=caller, pk=receipt_id))


@router.delete("/payments/{int:receipt_id}", response={204: None})
def payment_delete(request: HttpRequest, receipt_id: int) -> Status[None]:
    caller = actor(request)
    receipt = selectors.receipt_get_for_user(actor=caller, pk=receipt_id, action="delete")
    payments.receipt_delete(actor=caller, receipt=receipt)
    return Status(204, None)


# --- Receivables ------------------------------------------------------------------------


def _as_of(value: str) -> Any:
    if not value:
        return None
    day = parse_date(value)
    if day is None:
        raise ValidationFailed([FieldError("as_of", "Enter a date (YYYY-MM-DD).")])
    return day


def _money(row: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (str(v) if not isinstance(v, str | int) and v is not None else v) for k, v in row.items()
    }


@router.get(
    "/receivables",
    response=ReceivablesOut,
    summary="Outstanding amounts and aging buckets, per account, contract or owner",
    description=(
        "Buckets: not_due (due today or later), d0_30 (1–30 days overdue), d31_60, d61_90, "
        "d90_plus. Only active and expired contracts count; `unscheduled` is what contracts "
        "without a payment plan still owe. `as_of=YYYY-MM-DD` computes the buckets for "
        "another day."
    ),
)
def receivables_list(
    request: HttpRequest,
    group: str = "account",
    as_of: str = "",
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    caller = actor(request)
    today = _as_of(as_of)
    from django.utils import timezone

    day = today or timezone.localdate()
    totals = receivables.aging_summary(actor=caller, today=day)
    result = receivables.aging_by(
        actor=caller, group=group, today=day, page=page, page_size=page_size
    )
    return {
        "as_of": day.isoformat(),
        "group": group,
        "totals": [_money(t) for t in totals],
        **result.as_api([_money(r) for r in result.items]),
    }


@router.get(
    "/receivables/installments",
    response=OpenInstallmentPage,
    summary="Open installments behind an aging figure (drill-down)",
)
def receivables_installments(
    request: HttpRequest,
    bucket: str = "",
    account: int | None = None,
    contract: int | None = None,
    as_of: str = "",
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    caller = actor(request)
    today = _as_of(as_of)
    result = receivables.installments_in_bucket(
        actor=caller,
        bucket=bucket,
        account_id=account,
        contract_id=contract,
        today=today,
        page=page,
        page_size=page_size,
    )
    return result.as_api(
        [
            {
                **selectors.installment_as_dict(i),
                "contract": {
                    "id": i.contract.pk,
                    "number": i.contract.number,
                    "title": i.contract.title,
                },
                "account": {"id": i.contract.account_id, "name": i.contract.account.name},
                "currency": i.contract.currency,
            }
            for i in result.items
        ]
    )
