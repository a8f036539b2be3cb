"""Every read of contracts, plans, receipts and invoices: scoped (core.permissions),
masked, paginated, no N+1. Receivables and aging live in :mod:`guanxi.finance.receivables`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import (
    Case,
    CharField,
    DecimalField,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from guanxi.core import permissions
from guanxi.core.errors import FieldError, OutOfScope, ValidationFailed
from guanxi.core.pagination import Page, paginate
from guanxi.customers.listing import base_dict, iso
from guanxi.finance import money
from guanxi.finance.models import Contract, Installment, Invoice, Receipt

if TYPE_CHECKING:
    from guanxi.identity.models import User

ZERO = Decimal("0.00")
CONTRACT_SORTABLE = {"created_at", "updated_at", "number", "amount", "ends_on", "signed_on"}


def _received_subquery() -> Subquery:
    return Subquery(
        Receipt.objects.filter(contract=OuterRef("pk"))
        .values("contract")
        .annotate(s=Sum("amount"))
        .values("s"),
        output_field=DecimalField(max_digits=16, decimal_places=2),
    )


def _contracts() -> QuerySet[Contract]:
    return Contract.objects.select_related("owner", "account").annotate(
        received_total=Coalesce(
            _received_subquery(),
            Value(ZERO),
            output_field=DecimalField(max_digits=16, decimal_places=2),
        )
    )


def contracts_in_scope(actor: User, action: str = "view") -> QuerySet[Contract]:
    return permissions.scoped_queryset(actor, "contract", action, base=Contract.objects.all())


def contract_list(
    *,
    actor: User,
    q: str = "",
    filters: dict[str, Any] | None = None,
    sort: str = "-created_at",
    page: Any = 1,
    page_size: Any = 50,
) -> Page:
    """A page of the contracts ``actor`` may see. ``filters``: status, account (id),
    owner ("me" or a user id), ending_before (date)."""
    qs = permissions.scoped_queryset(actor, "contract", base=_contracts())
    q = (q or "").strip()
    if q:
        qs = qs.filter(
            Q(number__icontains=q) | Q(title__icontains=q) | Q(account__name__icontains=q)
        )
    f = dict(filters or {})
    errors: list[FieldError] = []
    if f.get("status"):
        if f["status"] not in Contract.Status.values:
            errors.append(
                FieldError(
                    "status", _("Choose one of: %(c)s") % {"c": ", ".join(Contract.Status.values)}
                )
            )
        qs = qs.filter(status=f["status"])
    if f.get("account"):
        try:
            qs = qs.filter(account_id=int(f["account"]))
        except (TypeError, ValueError):
            errors.append(FieldError("account", _("Enter a whole number.")))
    if f.get("deal"):
        try:
            qs = qs.filter(deal_id=int(f["deal"]))
        except (TypeError, ValueError):
            errors.append(FieldError("deal", _("Enter a whole number.")))
    owner = f.get("owner")
    if owner == "me":
        qs = qs.filter(owner_id=actor.pk)
    elif owner:
        try:
            qs = qs.filter(owner_id=int(owner))
        except (TypeError, ValueError):
            errors.append(FieldError("owner", _("Use “me” or a user id.")))
    if f.get("ending_before"):
        day = parse_date(str(f["ending_before"]))
        if day is None:
            errors.append(FieldError("ending_before", _("Enter a date (YYYY-MM-DD).")))
        else:
            qs = qs.filter(ends_on__lte=day)
    key = sort.lstrip("-")
    if key not in CONTRACT_SORTABLE:
        errors.append(
            FieldError(
                "sort", _("Sort by one of: %(c)s") % {"c": ", ".join(sorted(CONTRACT_SORTABLE))}
            )
        )
    if errors:
        raise ValidationFailed(errors)
    qs = qs.order_by(sort, "-id" if sort.startswith("-") else "id")
    return paginate(qs, page, page_size)


def contract_get_for_user(*, actor: User, pk: Any, action: str = "view") -> Contract:
    contract: Contract = permissions.get_for_user(actor, "contract", pk, action, base=_contracts())
    return contract


def outstanding_of(contract: Contract) -> Decimal:
    received = getattr(contract, "received_total", None)
    if received is None:
        received = contract.receipts.aggregate(s=Sum("amount"))["s"] or ZERO
    return money.quantize(max(contract.amount - received, ZERO), contract.currency)


def _scan_url(pk: int) -> str:
    try:
        return reverse("finance:contract_scan", args=[pk])
    except NoReverseMatch:  # the UI is not mounted (API-only deployments)
        return ""


def contract_as_dict(
    *, actor: User, contract: Contract, mask: set[str] | None = None
) -> dict[str, Any]:
    """The JSON of a contract, masked for ``actor`` (``amount`` is maskable)."""
    received = getattr(contract, "received_total", None)
    if received is None:
        received = contract.receipts.aggregate(s=Sum("amount"))["s"] or ZERO
    received = money.quantize(Decimal(received), contract.currency)
    fields = permissions.masked_fields(actor, "contract") if mask is None else mask
    hidden = "amount" in fields
    deal_id = contract.deal_id
    data: dict[str, Any] = {
        **base_dict(contract),
        "number": contract.number,
        "account": {"id": contract.account_id, "name": contract.account.name},
        "deal_id": deal_id,
        "title": contract.title,
        "amount": str(contract.amount),
        "currency": contract.currency,
        "received": None if hidden else str(received),
        "outstanding": None if hidden else str(max(contract.amount - received, ZERO)),
        "signed_on": iso(contract.signed_on),
        "starts_on": iso(contract.starts_on),
        "ends_on": iso(contract.ends_on),
        "status": contract.status,
        "scan": (
            {"name": contract.scan_name, "url": _scan_url(contract.pk)} if contract.scan else None
        ),
        "notes": contract.notes,
        "approval_request_id": contract.approval_request_id,
        "activated_at": iso(contract.activated_at),
        "terminated_at": iso(contract.terminated_at),
    }
    return permissions.apply_mask(actor, "contract", data, fields)


# --- Plan -------------------------------------------------------------------------------


def state_case(today: dt.date) -> Case:
    """The derived installment state as a database expression (for filters and lists)."""
    return Case(
        When(received__gte=F("amount"), then=Value(Installment.State.PAID)),
        When(due_on__lt=today, then=Value(Installment.State.OVERDUE)),
        When(received__gt=0, then=Value(Installment.State.PARTIAL)),
        default=Value(Installment.State.UNPAID),
        output_field=CharField(),
    )


def installments_of(*, contract: Contract, today: dt.date | None = None) -> list[Installment]:
    """The plan of a contract already fetched in scope, with ``state`` annotated."""
    today = today or timezone.localdate()
    return list(
        Installment.objects.filter(contract=contract)
        .annotate(state=state_case(today))
        .order_by("position", "id")
    )


def installment_as_dict(inst: Installment, today: dt.date | None = None) -> dict[str, Any]:
    state = getattr(inst, "state", None) or inst.state_on(today or timezone.localdate())
    return {
        "id": inst.pk,
        "position": inst.position,
        "due_on": iso(inst.due_on),
        "amount": str(inst.amount),
        "received": str(inst.received),
        "outstanding": str(inst.outstanding),
        "status": state,
        "notes": inst.notes,
    }


# --- Receipts ---------------------------------------------------------------------------


def _payments_base(actor: User, action: str = "view") -> QuerySet[Receipt]:
    """Receipts of the contracts in ``actor``'s contract scope (payments inherit it)."""
    permissions.require(actor, "payment", action)
    return Receipt.objects.filter(contract__in=contracts_in_scope(actor).values("pk"))


def receipt_list(
    *,
    actor: User,
    contract_id: Any = None,
    account_id: Any = None,
    received_from: Any = None,
    received_to: Any = None,
    method: str = "",
    page: Any = 1,
    page_size: Any = 50,
) -> Page:
    """A page of receipts (newest first) on contracts the actor may see."""
    qs = _payments_base(actor).select_related(
        "contract", "contract__account", "installment", "recorded_by"
    )
    errors: list[FieldError] = []
    for name, value, lookup in (
        ("contract", contract_id, "contract_id"),
        ("account", account_id, "contract__account_id"),
    ):
        if value not in (None, ""):
            try:
                qs = qs.filter(**{lookup: int(value)})
            except (TypeError, ValueError):
                errors.append(FieldError(name, _("Enter a whole number.")))
    for name, value, lookup in (
        ("received_from", received_from, "received_on__gte"),
        ("received_to", received_to, "received_on__lte"),
    ):
        if value not in (None, ""):
            day = value if isinstance(value, dt.date) else parse_date(str(value))
            if day is None:
                errors.append(FieldError(name, _("Enter a date (YYYY-MM-DD).")))
            else:
                qs = qs.filter(**{lookup: day})
    if method:
        if method not in Receipt.Method.values:
            errors.append(
                FieldError(
                    "method", _("Choose one of: %(c)s") % {"c": ", ".join(Receipt.Method.values)}
                )
            )
        qs = qs.filter(method=method)
    if errors:
        raise ValidationFailed(errors)
    return paginate(qs.order_by("-received_on", "-id"), page, page_size)


def receipt_get_for_user(*, actor: User, pk: Any, action: str = "view") -> Receipt:
    try:
        return _payments_base(actor, action).select_related("contract", "installment").get(pk=pk)
    except (Receipt.DoesNotExist, ValueError, TypeError) as exc:
        raise OutOfScope() from exc


def receipt_as_dict(receipt: Receipt) -> dict[str, Any]:
    contract = receipt.contract
    inst = receipt.installment
    return {
        "id": receipt.pk,
        "created_at": iso(receipt.created_at),
        "updated_at": iso(receipt.updated_at),
        "contract": {"id": contract.pk, "number": contract.number, "title": contract.title},
        "account_id": contract.account_id,
        "installment": {"id": inst.pk, "position": inst.position} if inst is not None else None,
        "received_on": iso(receipt.received_on),
        "amount": str(receipt.amount),
        "currency": contract.currency,
        "method": receipt.method,
        "reference": receipt.reference,
        "overpayment_note": receipt.overpayment_note,
        "notes": receipt.notes,
        "recorded_by": (
            {"id": receipt.recorded_by.pk, "username": receipt.recorded_by.username}
            if receipt.recorded_by
            else None
        ),
    }


# --- Invoices ---------------------------------------------------------------------------


def invoices_of(*, actor: User, contract: Contract) -> list[Invoice]:
    """Invoices of a contract already fetched in scope (needs ``view`` on payments)."""
    permissions.require(actor, "payment", "view")
    return list(Invoice.objects.filter(contract=contract).order_by("-issued_on", "-id"))


def invoice_as_dict(invoice: Invoice) -> dict[str, Any]:
    return {
        "id": invoice.pk,
        "created_at": iso(invoice.created_at),
        "updated_at": iso(invoice.updated_at),
        "contract_id": invoice.contract_id,
        "number": invoice.number,
        "amount": str(invoice.amount),
        "issued_on": iso(invoice.issued_on),
        "kind": invoice.kind,
        "status": invoice.status,
        "over_note": invoice.over_note,
        "notes": invoice.notes,
    }


def invoice_totals(contract: Contract) -> dict[str, Decimal]:
    agg = Invoice.objects.filter(contract=contract).aggregate(
        issued=Sum("amount", filter=Q(status=Invoice.Status.ISSUED)),
        draft=Sum("amount", filter=Q(status=Invoice.Status.DRAFT)),
    )
    return {k: money.quantize(v or ZERO, contract.currency) for k, v in agg.items()}
