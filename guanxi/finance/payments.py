"""Every write of receipts (回款记录) and invoices (开票记录).

Payments inherit the scope of their contract: the actor needs the ``payment`` action and
the contract must be in their ``contract`` view scope (else 404).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import DecimalField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.core import audit, events, numbering, permissions
from guanxi.core.errors import Conflict, FieldError, OutOfScope, ValidationFailed
from guanxi.core.models import AuditEvent
from guanxi.finance import money
from guanxi.finance.models import (
    DEFAULT_INVOICE_PATTERN,
    Allocation,
    Contract,
    Installment,
    Invoice,
    Receipt,
)
from guanxi.finance.services import _date, _text

if TYPE_CHECKING:
    from guanxi.identity.models import User

A = AuditEvent.Action
S = Contract.Status
ZERO = Decimal("0.00")

PAYMENT_RECEIVED = events.define("payment.received", "Money was received against a contract")
PAYMENT_DELETED = events.define("payment.deleted", "A receipt recorded by mistake was removed")
PAYMENT_OVERDUE = events.define(
    "payment.overdue", "An installment is overdue; its contract's owner was reminded"
)
INVOICE_CREATED = events.define("invoice.created", "An invoice was recorded")
INVOICE_UPDATED = events.define("invoice.updated", "An invoice was issued, voided or changed")
numbering.define("invoice", gettext_lazy("Invoices"), DEFAULT_INVOICE_PATTERN)

RECEIVABLE_STATUSES = (S.ACTIVE, S.EXPIRED)


def contract_for_payments(actor: User, contract_id: Any, action: str = "create") -> Contract:
    """The contract, when the actor may ``action`` payments and sees the contract."""
    permissions.require(actor, "payment", action)
    contract: Contract = permissions.get_for_user(actor, "contract", contract_id, "view")
    return contract


def _recompute(installment_ids: list[int]) -> None:
    """Set ``received`` of these installments to the sum of their allocations."""
    if not installment_ids:
        return
    total = (
        Allocation.objects.filter(installment=OuterRef("pk"))
        .values("installment")
        .annotate(s=Sum("amount"))
        .values("s")
    )
    Installment.objects.filter(pk__in=installment_ids).update(
        received=Coalesce(Subquery(total), Value(ZERO), output_field=DecimalField()),
        updated_at=timezone.now(),
    )


def received_total(contract: Contract) -> Decimal:
    return contract.receipts.aggregate(s=Sum("amount"))["s"] or ZERO


def receipt_create(*, actor: User, contract: Contract, data: dict[str, Any]) -> Receipt:
    """Record money received: ``received_on``, ``amount``, ``method``, ``reference``,
    ``notes``, optional ``installment_id`` and ``overpayment_note``.

    Against an installment, the amount may not exceed what is still due on it unless an
    overpayment note explains it. Against the contract, it is spread over the open
    installments earliest due first; anything beyond what the contract still owes needs
    the note too. Partial payments are fine.
    """
    contract = contract_for_payments(actor, contract.pk, "create")
    if contract.status not in (*RECEIVABLE_STATUSES, S.TERMINATED):
        raise Conflict(_("Receipts can be recorded once the contract is active."))
    errors: list[FieldError] = []
    received_on = _date(errors, "received_on", data.get("received_on"))
    if received_on is None and not errors:
        errors.append(FieldError("received_on", _("This field is required.")))
    if received_on is not None and received_on > timezone.localdate():
        errors.append(FieldError("received_on", _("The date cannot be in the future.")))
    try:
        amount = money.clean_amount(data.get("amount"), contract.currency)
    except ValueError as exc:
        errors.append(FieldError("amount", str(exc)))
        amount = ZERO
    method = str(data.get("method") or Receipt.Method.BANK)
    if method not in Receipt.Method.values:
        errors.append(
            FieldError(
                "method",
                _("Choose one of: %(c)s") % {"c": ", ".join(Receipt.Method.values)},
            )
        )
    reference = _text(errors, "reference", data.get("reference"), 100)
    notes = _text(errors, "notes", data.get("notes"), 300)
    over_note = _text(errors, "overpayment_note", data.get("overpayment_note"), 300)
    installment: Installment | None = None
    if data.get("installment_id") not in (None, ""):
        installment = Installment.objects.filter(
            pk=data["installment_id"], contract=contract
        ).first()
        if installment is None:
            errors.append(FieldError("installment_id", _("No such installment on this contract.")))
    if errors:
        raise ValidationFailed(errors)
    assert received_on is not None
    with transaction.atomic():
        Contract.objects.select_for_update().filter(pk=contract.pk).first()
        plan = list(contract.installments.select_for_update().order_by("due_on", "position"))
        allocations: list[tuple[Installment, Decimal]] = []
        if installment is not None:
            current = next(i for i in plan if i.pk == installment.pk)
            due = current.outstanding
            if amount > due and not over_note:
                raise ValidationFailed(
                    [
                        FieldError(
                            "amount",
                            _(
                                "%(amount)s is %(excess)s more than the %(due)s still due on "
                                "installment %(n)s; add an overpayment note to record it anyway."
                            )
                            % {
                                "amount": money.fmt(amount, contract.currency),
                                "excess": money.fmt(amount - due, contract.currency),
                                "due": money.fmt(due, contract.currency),
                                "n": current.position,
                            },
                        )
                    ]
                )
            allocations.append((current, amount))
        else:
            owed = max(contract.amount - received_total(contract), ZERO)
            if amount > owed and not over_note:
                raise ValidationFailed(
                    [
                        FieldError(
                            "amount",
                            _(
                                "%(amount)s is %(excess)s more than the %(due)s the contract "
                                "still owes; add an overpayment note to record it anyway."
                            )
                            % {
                                "amount": money.fmt(amount, contract.currency),
                                "excess": money.fmt(amount - owed, contract.currency),
                                "due": money.fmt(owed, contract.currency),
                            },
                        )
                    ]
                )
            left = amount
            for inst in plan:
                if left <= 0:
                    break
                take = min(inst.outstanding, left)
                if take > 0:
                    allocations.append((inst, take))
                    left -= take
            if left > 0 and plan:  # an overpayment sits on the last installment
                last = plan[-1]
                merged = [(i, a + left if i.pk == last.pk else a) for i, a in allocations]
                if not any(i.pk == last.pk for i, _a in allocations):
                    merged.append((last, left))
                allocations = merged
        receipt = Receipt.objects.create(
            contract=contract,
            installment=installment,
            received_on=received_on,
            amount=amount,
            method=method,
            reference=reference,
            notes=notes,
            overpayment_note=over_note,
            recorded_by=actor,
        )
        Allocation.objects.bulk_create(
            [Allocation(receipt=receipt, installment=i, amount=a) for i, a in allocations]
        )
        _recompute([i.pk for i, _a in allocations])
        audit.record(
            actor=actor,
            action=A.CREATE,
            entity="payment",
            obj=receipt,
            changes={
                "contract": [None, contract.number],
                "installment": [None, installment.position if installment else None],
                "amount": [None, str(amount)],
                "received_on": [None, received_on],
                "method": [None, method],
                "reference": [None, reference],
                "overpayment_note": [None, over_note or None],
            },
        )
        events.emit(
            PAYMENT_RECEIVED,
            {
                "id": receipt.pk,
                "contract_id": contract.pk,
                "account_id": contract.account_id,
                "installment_id": installment.pk if installment else None,
                "amount": str(amount),
                "currency": contract.currency,
                "received_on": str(received_on),
                "method": method,
            },
            actor_id=actor.pk,
        )
    return receipt


def receipt_delete(*, actor: User, receipt: Receipt) -> None:
    """Remove a receipt recorded by mistake (needs ``delete`` on payments); the
    installments it paid become due again."""
    contract_for_payments(actor, receipt.contract_id, "delete")
    with transaction.atomic():
        ids = list(receipt.allocations.values_list("installment_id", flat=True))
        audit.record(
            actor=actor,
            action=A.DELETE,
            entity="payment",
            obj=receipt,
            changes={
                "amount": [str(receipt.amount), None],
                "contract": [receipt.contract.number, None],
            },
        )
        payload = {"id": receipt.pk, "contract_id": receipt.contract_id}
        receipt.delete()
        _recompute(ids)
        events.emit(PAYMENT_DELETED, payload, actor_id=actor.pk)


# --- Invoices ---------------------------------------------------------------------------


def invoiced_total(contract: Contract, exclude_pk: int | None = None) -> Decimal:
    qs = contract.invoices.exclude(status=Invoice.Status.VOID)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.aggregate(s=Sum("amount"))["s"] or ZERO


def _check_invoice_total(
    contract: Contract, amount: Decimal, exclude_pk: int | None, note: str
) -> None:
    already = invoiced_total(contract, exclude_pk)
    excess = already + amount - contract.amount
    if excess > 0 and not note:
        raise ValidationFailed(
            [
                FieldError(
                    "amount",
                    _(
                        "Invoices would total %(total)s, %(excess)s more than the contract "
                        "amount %(amount)s; add a note explaining why."
                    )
                    % {
                        "total": money.fmt(already + amount, contract.currency),
                        "excess": money.fmt(excess, contract.currency),
                        "amount": money.fmt(contract.amount, contract.currency),
                    },
                )
            ]
        )


def _clean_invoice(
    errors: list[FieldError], contract: Contract, data: dict[str, Any], creating: bool
) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    if "amount" in data or creating:
        try:
            cleaned["amount"] = money.clean_amount(data.get("amount"), contract.currency)
        except ValueError as exc:
            errors.append(FieldError("amount", str(exc)))
    if "issued_on" in data or creating:
        issued = _date(errors, "issued_on", data.get("issued_on"))
        if issued is None and not any(e.field == "issued_on" for e in errors):
            errors.append(FieldError("issued_on", _("This field is required.")))
        cleaned["issued_on"] = issued
    if "kind" in data or creating:
        kind = str(data.get("kind") or Invoice.Kind.NORMAL)
        if kind not in Invoice.Kind.values:
            errors.append(
                FieldError(
                    "kind", _("Choose one of: %(c)s") % {"c": ", ".join(Invoice.Kind.values)}
                )
            )
        cleaned["kind"] = kind
    if "number" in data:
        cleaned["number"] = _text(errors, "number", data.get("number"), 60)
    if "notes" in data:
        cleaned["notes"] = _text(errors, "notes", data.get("notes"), 300)
    if "over_note" in data:
        cleaned["over_note"] = _text(errors, "over_note", data.get("over_note"), 300)
    return cleaned


INVOICE_AUDIT = ["number", "amount", "issued_on", "kind", "status", "over_note", "notes"]


def invoice_create(*, actor: User, contract: Contract, data: dict[str, Any]) -> Invoice:
    """Record an invoice (``status`` draft or issued). ``number``: the tax invoice number,
    or blank to take the next from the ``invoice`` sequence. Invoices (not void) may not
    total more than the contract amount unless ``over_note`` explains it."""
    contract = contract_for_payments(actor, contract.pk, "create")
    if contract.status in (S.DRAFT, S.PENDING):
        raise Conflict(_("Invoices can be recorded once the contract is active."))
    errors: list[FieldError] = []
    cleaned = _clean_invoice(errors, contract, data, True)
    status = str(data.get("status") or Invoice.Status.DRAFT)
    if status not in (Invoice.Status.DRAFT, Invoice.Status.ISSUED):
        errors.append(FieldError("status", _("A new invoice is a draft or issued.")))
    if errors:
        raise ValidationFailed(errors)
    _check_invoice_total(contract, cleaned["amount"], None, cleaned.get("over_note", ""))
    try:
        with transaction.atomic():
            if not cleaned.get("number"):
                cleaned["number"] = numbering.next_number(key="invoice")
            invoice = Invoice.objects.create(
                contract=contract, status=status, created_by=actor, **cleaned
            )
            audit.record(
                actor=actor,
                action=A.CREATE,
                entity="invoice",
                obj=invoice,
                changes={
                    "contract": [None, contract.number],
                    **audit.diff({}, audit.snapshot(invoice, INVOICE_AUDIT)),
                },
            )
            events.emit(
                INVOICE_CREATED,
                {"id": invoice.pk, "contract_id": contract.pk, "amount": str(invoice.amount)},
                actor_id=actor.pk,
            )
    except IntegrityError as exc:
        raise ValidationFailed(
            [FieldError("number", _("Another invoice already has this number."))]
        ) from exc
    return invoice


INVOICE_FLOW: dict[str, set[str]] = {
    Invoice.Status.DRAFT: {Invoice.Status.DRAFT, Invoice.Status.ISSUED, Invoice.Status.VOID},
    Invoice.Status.ISSUED: {Invoice.Status.ISSUED, Invoice.Status.VOID},
    Invoice.Status.VOID: {Invoice.Status.VOID},
}


def invoice_update(*, actor: User, invoice: Invoice, data: dict[str, Any]) -> Invoice:
    """Change a draft invoice, issue it (draft → issued) or void it (→ void).

    Only drafts change number, amount, date or type; a void invoice stays void.
    """
    contract = contract_for_payments(actor, invoice.contract_id, "edit")
    invoice = Invoice.objects.get(pk=invoice.pk)
    errors: list[FieldError] = []
    cleaned = _clean_invoice(errors, contract, data, False)
    if "status" in data:
        status = str(data["status"] or "")
        if status not in INVOICE_FLOW.get(invoice.status, set()):
            errors.append(
                FieldError(
                    "status",
                    _("An invoice that is %(now)s cannot become %(new)s.")
                    % {"now": invoice.get_status_display(), "new": status or "—"},
                )
            )
        cleaned["status"] = status
    if errors:
        raise ValidationFailed(errors)
    locked = {"number", "amount", "issued_on", "kind"}
    changing = {k for k, v in cleaned.items() if getattr(invoice, k) != v}
    if invoice.status != Invoice.Status.DRAFT and changing & locked:
        raise Conflict(_("Only a draft invoice can change its number, amount, date or type."))
    if cleaned.get("status", invoice.status) != Invoice.Status.VOID:
        _check_invoice_total(
            contract,
            cleaned.get("amount", invoice.amount),
            invoice.pk,
            cleaned.get("over_note", invoice.over_note),
        )
    try:
        with transaction.atomic():
            before = audit.snapshot(invoice, INVOICE_AUDIT)
            for k, v in cleaned.items():
                setattr(invoice, k, v)
            invoice.save()
            changes = audit.diff(before, audit.snapshot(invoice, INVOICE_AUDIT))
            if changes:
                audit.record(
                    actor=actor, action=A.UPDATE, entity="invoice", obj=invoice, changes=changes
                )
                events.emit(
                    INVOICE_UPDATED,
                    {"id": invoice.pk, "contract_id": contract.pk, "changes": list(changes)},
                    actor_id=actor.pk,
                )
    except IntegrityError as exc:
        raise ValidationFailed(
            [FieldError("number", _("Another invoice already has this number."))]
        ) from exc
    return invoice


def invoice_for_user(actor: User, contract: Contract, invoice_id: Any) -> Invoice:
    inv = (
        Invoice.objects.filter(pk=invoice_id, contract=contract).first()
        if str(invoice_id).isdigit()
        else None
    )
    if inv is None:
        raise OutOfScope()
    return inv
