"""Every write to contracts and their payment plans: validation, permission, audit, events.

Receipts and invoices live in :mod:`guanxi.finance.payments`; the periodic work
(expiry, renewal tasks, overdue reminders) in :mod:`guanxi.finance.reminders`.
"""

from __future__ import annotations

import datetime as dt
import mimetypes
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.files import File
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.core import audit, custom_fields, events, numbering, permissions
from guanxi.core.errors import Conflict, FieldError, ValidationFailed
from guanxi.core.models import AuditEvent
from guanxi.customers.common import KEEP, resolve_owner
from guanxi.finance import money
from guanxi.finance.models import (
    DEFAULT_NUMBER_PATTERN,
    Contract,
    FinanceSettings,
    Installment,
)

if TYPE_CHECKING:
    from guanxi.identity.models import User

A = AuditEvent.Action
S = Contract.Status

CONTRACT_CREATED = events.define("contract.created", "A contract was recorded")
CONTRACT_UPDATED = events.define("contract.updated", "A contract was changed")
CONTRACT_SUBMITTED = events.define(
    "contract.submitted", "A contract above the approval threshold was sent for approval"
)
CONTRACT_ACTIVATED = events.define("contract.activated", "A contract became active")
CONTRACT_REJECTED = events.define("contract.rejected", "A contract's approval was refused")
CONTRACT_TERMINATED = events.define("contract.terminated", "A contract was terminated")
CONTRACT_EXPIRED = events.define("contract.expired", "A contract passed its end date")
CONTRACT_EXPIRING = events.define(
    "contract.expiring", "A contract nears its end date; a renewal task was created"
)
CONTRACT_DELETED = events.define("contract.deleted", "A draft contract was deleted")
PLAN_CHANGED = events.define("contract.plan_changed", "A contract's payment plan was set")

CONTRACT_AUDIT = [
    "number",
    "account",
    "deal",
    "title",
    "amount",
    "currency",
    "signed_on",
    "starts_on",
    "ends_on",
    "status",
    "notes",
    "owner",
    "custom",
]
SCAN_TYPES = {"application/pdf", "image/jpeg", "image/png", "image/webp", "image/heic"}
DEFAULT_MAX_SCAN_BYTES = 20 * 1024 * 1024
numbering.define("contract", gettext_lazy("Contracts"), DEFAULT_NUMBER_PATTERN)


def _audit_fields() -> list[str]:
    return list(CONTRACT_AUDIT)


def _date(errors: list[FieldError], name: str, value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    parsed = parse_date(str(value).strip())
    if parsed is None:
        errors.append(FieldError(name, _("Enter a date (YYYY-MM-DD).")))
    return parsed


def _text(
    errors: list[FieldError], name: str, value: Any, max_len: int | None, *, required: bool = False
) -> str:
    text = str(value or "").strip()
    if required and not text:
        errors.append(FieldError(name, _("This field is required.")))
    elif max_len is not None and len(text) > max_len:
        errors.append(FieldError(name, _("At most %(n)d characters.") % {"n": max_len}))
    return text


def _clean(actor: User, data: dict[str, Any], contract: Contract | None) -> dict[str, Any]:
    """The contract fields present in ``data`` (all required ones on create), checked."""
    errors: list[FieldError] = []
    cleaned: dict[str, Any] = {}
    creating = contract is None
    if "title" in data or creating:
        cleaned["title"] = _text(errors, "title", data.get("title"), 200, required=True)
    if "currency" in data or creating:
        try:
            cleaned["currency"] = money.clean_currency(data.get("currency"))
        except ValueError as exc:
            errors.append(FieldError("currency", str(exc)))
    currency = cleaned.get("currency") or (contract.currency if contract else "CNY")
    if "amount" in data or creating:
        try:
            cleaned["amount"] = money.clean_amount(data.get("amount"), currency)
        except ValueError as exc:
            errors.append(FieldError("amount", str(exc)))
    for name in ("signed_on", "starts_on", "ends_on"):
        if name in data:
            cleaned[name] = _date(errors, name, data[name])
    if "notes" in data:
        cleaned["notes"] = _text(errors, "notes", data["notes"], None)
    if "account_id" in data or creating:
        account_id = data.get("account_id")
        account = None
        if account_id not in (None, ""):
            from guanxi.customers.models import Account

            if permissions.can(actor, "account", "view"):
                account = (
                    permissions.scoped_queryset(actor, "account", base=Account.objects.all())
                    .filter(pk=account_id)
                    .first()
                )
        if account is None:
            errors.append(
                FieldError(
                    "account_id",
                    _("No such account.")
                    if account_id not in (None, "")
                    else _("Choose an account."),
                )
            )
        else:
            cleaned["account"] = account
    if "deal_id" in data:
        deal_id = data["deal_id"]
        if deal_id in (None, ""):
            cleaned["deal"] = None
        else:
            deal = _deal_in_scope(actor, deal_id)
            if deal is None:
                errors.append(FieldError("deal_id", _("No such deal.")))
            else:
                account = cleaned.get("account") or (contract.account if contract else None)
                if account is not None and getattr(deal, "account_id", None) not in (
                    None,
                    account.pk,
                ):
                    errors.append(FieldError("deal_id", _("This deal belongs to another account.")))
                cleaned["deal"] = deal
    starts = cleaned.get("starts_on", contract.starts_on if contract else None)
    ends = cleaned.get("ends_on", contract.ends_on if contract else None)
    if starts and ends and ends < starts:
        errors.append(FieldError("ends_on", _("The end date must not be before the start date.")))
    if "custom" in data or creating:
        try:
            cleaned["custom"] = custom_fields.validate(
                "contract",
                data.get("custom") or {},
                current=getattr(contract, "custom", None),
                partial=not creating,
            )
        except ValidationFailed as exc:
            errors.extend(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def _deal_in_scope(actor: User, deal_id: Any) -> Any:
    """The deal ``deal_id`` within the actor's deal scope, or None (also without deals)."""
    try:
        permissions.entity("deal")
    except KeyError:
        return None
    if not permissions.can(actor, "deal", "view"):
        return None
    return permissions.scoped_queryset(actor, "deal").filter(pk=deal_id).first()


def contract_create(*, actor: User, data: dict[str, Any]) -> Contract:
    """Record a draft contract numbered from the ``contract`` sequence (default owner: the
    actor). ``data``: title, account_id, deal_id, amount, currency, signed_on, starts_on,
    ends_on, notes, owner_id, custom."""
    permissions.require(actor, "contract", "create")
    cleaned = _clean(actor, data, None)
    owner = resolve_owner(actor=actor, entity_key="contract", data=data, current_owner_id=KEEP)
    if owner is None:
        raise ValidationFailed([FieldError("owner_id", _("A contract needs an owner."))])
    with transaction.atomic():
        contract = Contract(**cleaned, owner=owner, created_by=actor)
        contract.number = numbering.next_number(key="contract")
        contract.save()
        audit.record(
            actor=actor,
            action=A.CREATE,
            entity="contract",
            obj=contract,
            changes=audit.diff({}, audit.snapshot(contract, _audit_fields())),
        )
        events.emit(
            CONTRACT_CREATED,
            {
                "id": contract.pk,
                "number": contract.number,
                "account_id": contract.account_id,
                "amount": str(contract.amount),
                "currency": contract.currency,
                "owner_id": contract.owner_id,
            },
            actor_id=actor.pk,
        )
    return contract


def _locked(contract: Contract) -> Contract:
    return Contract.objects.select_for_update().get(pk=contract.pk)


def contract_update(*, actor: User, contract: Contract, data: dict[str, Any]) -> Contract:
    """Change a contract in the actor's edit scope.

    Amount and currency change only on drafts, and only to a value the payment plan (if
    any) still adds up to; terminated and expired contracts accept notes only.
    """
    contract = permissions.get_for_user(actor, "contract", contract.pk, "edit")
    cleaned = _clean(actor, data, contract)
    owner = resolve_owner(
        actor=actor, entity_key="contract", data=data, current_owner_id=contract.owner_id
    )
    if owner is None:
        raise ValidationFailed([FieldError("owner_id", _("A contract needs an owner."))])
    if owner is not KEEP:
        cleaned["owner"] = owner
    changing = {k for k, v in cleaned.items() if getattr(contract, k, None) != v}
    if contract.status in (S.TERMINATED, S.EXPIRED) and changing - {"notes", "custom"}:
        raise Conflict(_("A terminated or expired contract can only take notes."))
    money_change = changing & {"amount", "currency"}
    if money_change and contract.status != S.DRAFT:
        raise ValidationFailed(
            [
                FieldError(
                    sorted(money_change)[0],
                    _("The amount and currency can only change while the contract is a draft."),
                )
            ]
        )
    if "amount" in changing and contract.installments.exists():
        planned = contract.installments.aggregate(s=Sum("amount"))["s"] or Decimal(0)
        raise ValidationFailed(
            [
                FieldError(
                    "amount",
                    _(
                        "The payment plan adds up to %(planned)s; change the plan together with "
                        "the amount (difference %(diff)s)."
                    )
                    % {
                        "planned": money.fmt(planned, contract.currency),
                        "diff": money.fmt(cleaned["amount"] - planned, contract.currency),
                    },
                )
            ]
        )
    fields = _audit_fields()
    with transaction.atomic():
        before = audit.snapshot(contract, fields)
        for name, value in cleaned.items():
            setattr(contract, name, value)
        contract.save()
        changes = audit.diff(before, audit.snapshot(contract, fields))
        if changes:
            action = A.TRANSFER if set(changes) == {"owner"} else A.UPDATE
            audit.record(
                actor=actor, action=action, entity="contract", obj=contract, changes=changes
            )
            events.emit(
                CONTRACT_UPDATED, {"id": contract.pk, "changes": list(changes)}, actor_id=actor.pk
            )
    return contract


def _set_status(
    *,
    actor: User | None,
    contract: Contract,
    status: str,
    event: str,
    extra: dict[str, Any] | None = None,
    reason: str = "",
) -> Contract:
    old = contract.status
    contract.status = status
    now = timezone.now()
    update = ["status", "updated_at"]
    if status == S.ACTIVE and contract.activated_at is None:
        contract.activated_at = now
        update.append("activated_at")
    if status == S.TERMINATED:
        contract.terminated_at = now
        update.append("terminated_at")
    contract.save(update_fields=update)
    changes: dict[str, Any] = {"status": [old, status]}
    if reason:
        changes["reason"] = [None, reason]
    audit.record(actor=actor, action=A.UPDATE, entity="contract", obj=contract, changes=changes)
    events.emit(
        event,
        {"id": contract.pk, "from": old, "to": status, **(extra or {})},
        actor_id=actor.pk if actor else None,
    )
    return contract


def contract_activate(*, actor: User, contract: Contract) -> Contract:
    """Make a draft contract active, or send it for approval when its amount exceeds the
    configured threshold (approver: the owner's department head). Returns the contract
    in its new status (``active`` or ``pending_approval``)."""
    from guanxi.finance import approvals

    contract = permissions.get_for_user(actor, "contract", contract.pk, "edit")
    with transaction.atomic():
        contract = _locked(contract)
        if contract.status != S.DRAFT:
            raise Conflict(
                _("Only a draft contract can be activated (this one is %(status)s).")
                % {"status": contract.get_status_display()}
            )
        threshold = FinanceSettings.current().approval_threshold
        if contract.amount > threshold:
            request_id = approvals.request(actor=actor, contract=contract)
            contract.approval_request_id = request_id
            contract.save(update_fields=["approval_request_id"])
            return _set_status(
                actor=actor,
                contract=contract,
                status=S.PENDING,
                event=CONTRACT_SUBMITTED,
                extra={"approval_request_id": request_id, "threshold": str(threshold)},
            )
        return _set_status(
            actor=actor, contract=contract, status=S.ACTIVE, event=CONTRACT_ACTIVATED
        )


def contract_approval_decided(
    *, contract_id: int, approved: bool, actor: User | None, comment: str = ""
) -> Contract | None:
    """The approval of a pending contract ended: approved → active, refused → draft.

    Called by the approvals engine (see :mod:`guanxi.finance.approvals`); a contract no
    longer pending (withdrawn, changed meanwhile) is left alone.
    """
    with transaction.atomic():
        contract = Contract.objects.select_for_update().filter(pk=contract_id).first()
        if contract is None or contract.status != S.PENDING:
            return None
        if approved:
            return _set_status(
                actor=actor, contract=contract, status=S.ACTIVE, event=CONTRACT_ACTIVATED
            )
        return _set_status(
            actor=actor,
            contract=contract,
            status=S.DRAFT,
            event=CONTRACT_REJECTED,
            reason=comment,
        )


def contract_terminate(*, actor: User, contract: Contract, reason: str) -> Contract:
    """End an active (or pending) contract early; the reason is required and audited."""
    contract = permissions.get_for_user(actor, "contract", contract.pk, "edit")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed([FieldError("reason", _("Give a reason for terminating."))])
    with transaction.atomic():
        contract = _locked(contract)
        if contract.status not in (S.ACTIVE, S.PENDING):
            raise Conflict(_("Only an active or pending contract can be terminated."))
        return _set_status(
            actor=actor,
            contract=contract,
            status=S.TERMINATED,
            event=CONTRACT_TERMINATED,
            reason=reason[:500],
        )


def contract_delete(*, actor: User, contract: Contract) -> None:
    """Delete a draft contract that has no receipts or invoices."""
    contract = permissions.get_for_user(actor, "contract", contract.pk, "delete")
    if contract.status != S.DRAFT:
        raise Conflict(_("Only draft contracts can be deleted; terminate it instead."))
    if contract.receipts.exists() or contract.invoices.exists():
        raise Conflict(_("This contract has receipts or invoices and cannot be deleted."))
    scan = contract.scan.name if contract.scan else ""
    storage = Contract._meta.get_field("scan").storage
    with transaction.atomic():
        audit.record(
            actor=actor,
            action=A.DELETE,
            entity="contract",
            obj=contract,
            changes={"number": [contract.number, None], "title": [contract.title, None]},
        )
        pk = contract.pk
        contract.installments.all().delete()
        contract.delete()
        events.emit(CONTRACT_DELETED, {"id": pk}, actor_id=actor.pk)
        if scan:
            transaction.on_commit(lambda: storage.delete(scan))


def max_scan_bytes() -> int:
    from django.conf import settings

    return int(getattr(settings, "GUANXI_ATTACHMENT_MAX_BYTES", DEFAULT_MAX_SCAN_BYTES))


def contract_attach_scan(*, actor: User, contract: Contract, upload: Any) -> Contract:
    """Store the signed scan (PDF or image) with Django storage, replacing any earlier one."""
    contract = permissions.get_for_user(actor, "contract", contract.pk, "edit")
    if upload is None:
        raise ValidationFailed([FieldError("scan", _("Choose a file."))])
    name = str(getattr(upload, "name", "") or "scan").rsplit("/", 1)[-1][:255]
    size = int(getattr(upload, "size", 0) or 0)
    content_type = (
        getattr(upload, "content_type", None) or mimetypes.guess_type(name)[0] or ""
    ).lower()
    if size == 0:
        raise ValidationFailed([FieldError("scan", _("%(name)s is empty.") % {"name": name})])
    if size > max_scan_bytes():
        raise ValidationFailed(
            [
                FieldError(
                    "scan",
                    _("%(name)s is %(size)s; files may be at most %(limit)s.")
                    % {
                        "name": name,
                        "size": f"{size / (1024 * 1024):.0f} MB",
                        "limit": f"{max_scan_bytes() / (1024 * 1024):.0f} MB",
                    },
                )
            ]
        )
    if content_type not in SCAN_TYPES:
        raise ValidationFailed(
            [FieldError("scan", _("Upload the scan as a PDF or an image (JPEG, PNG, WebP, HEIC)."))]
        )
    storage = Contract._meta.get_field("scan").storage
    old = contract.scan.name if contract.scan else ""
    with transaction.atomic():
        contract.scan.save(name, upload if isinstance(upload, File) else File(upload), save=False)
        contract.scan_name = name
        contract.scan_content_type = content_type[:100]
        contract.save(update_fields=["scan", "scan_name", "scan_content_type", "updated_at"])
        audit.record(
            actor=actor,
            action=A.UPDATE,
            entity="contract",
            obj=contract,
            changes={"scan": [old or None, name]},
        )
        events.emit(CONTRACT_UPDATED, {"id": contract.pk, "changes": ["scan"]}, actor_id=actor.pk)
        if old:
            transaction.on_commit(lambda: storage.delete(old))
    return contract


# --- Payment plan -----------------------------------------------------------------------


def plan_set(
    *, actor: User, contract: Contract, installments: Sequence[dict[str, Any]]
) -> list[Installment]:
    """Replace the payment plan of a contract.

    Each item: ``due_on``, ``amount``, optional ``notes``. The amounts must add up exactly
    to the contract amount (the error names the difference). The plan can change only
    while nothing has been received against it (409 otherwise); an empty list removes it.
    """
    contract = permissions.get_for_user(actor, "contract", contract.pk, "edit")
    if contract.status in (S.TERMINATED, S.EXPIRED):
        raise Conflict(_("The payment plan of a terminated or expired contract cannot change."))
    errors: list[FieldError] = []
    rows: list[tuple[dt.date, Decimal, str]] = []
    for i, item in enumerate(installments):
        due = _date(errors, f"installments.{i}.due_on", item.get("due_on"))
        if due is None and not any(e.field == f"installments.{i}.due_on" for e in errors):
            errors.append(FieldError(f"installments.{i}.due_on", _("This field is required.")))
        try:
            amount = money.clean_amount(item.get("amount"), contract.currency)
        except ValueError as exc:
            errors.append(FieldError(f"installments.{i}.amount", str(exc)))
            amount = Decimal(0)
        notes = _text(errors, f"installments.{i}.notes", item.get("notes"), 200)
        if due is not None:
            rows.append((due, amount, notes))
    if not errors and rows:
        total = sum((r[1] for r in rows), Decimal(0))
        diff = total - contract.amount
        if diff:
            errors.append(
                FieldError(
                    "installments",
                    (
                        _(
                            "The installments add up to %(total)s, %(diff)s more than the "
                            "contract amount %(amount)s."
                        )
                        if diff > 0
                        else _(
                            "The installments add up to %(total)s, %(diff)s less than the "
                            "contract amount %(amount)s."
                        )
                    )
                    % {
                        "total": money.fmt(total, contract.currency),
                        "diff": money.fmt(abs(diff), contract.currency),
                        "amount": money.fmt(contract.amount, contract.currency),
                    },
                )
            )
    if errors:
        raise ValidationFailed(errors)
    rows.sort(key=lambda r: r[0])
    with transaction.atomic():
        contract = _locked(contract)
        existing = list(contract.installments.select_for_update().order_by("position", "id"))
        if any(i.received > 0 for i in existing) or contract.receipts.exists():
            raise Conflict(
                _("Money has been received against this plan; it can no longer be changed.")
            )
        before = [[str(i.due_on), str(i.amount)] for i in existing]
        contract.installments.all().delete()
        created = Installment.objects.bulk_create(
            [
                Installment(contract=contract, position=n, due_on=due, amount=amount, notes=notes)
                for n, (due, amount, notes) in enumerate(rows, start=1)
            ]
        )
        after = [[str(due), str(amount)] for due, amount, _notes in rows]
        Contract.objects.filter(pk=contract.pk).update(updated_at=timezone.now())
        audit.record(
            actor=actor,
            action=A.UPDATE,
            entity="contract",
            obj=contract,
            changes={"payment_plan": [before, after]},
        )
        events.emit(
            PLAN_CHANGED, {"id": contract.pk, "installments": len(created)}, actor_id=actor.pk
        )
    return list(contract.installments.order_by("position"))


def finance_settings_save(
    *, actor: User, approval_threshold: Any, renewal_days: Any
) -> FinanceSettings:
    """Change the approval threshold and the renewal lead time (administrators; audited)."""
    from guanxi.core.errors import NotPermitted

    if not permissions.is_admin(actor):
        raise NotPermitted()
    errors: list[FieldError] = []
    try:
        threshold = money.clean_amount(approval_threshold, "CNY", allow_zero=True)
    except ValueError as exc:
        errors.append(FieldError("approval_threshold", str(exc)))
    try:
        days = int(str(renewal_days).strip())
        if not 1 <= days <= 365:
            raise ValueError
    except (TypeError, ValueError):
        errors.append(FieldError("renewal_days", _("Enter a number of days from 1 to 365.")))
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        conf = FinanceSettings.current()
        before = {"approval_threshold": conf.approval_threshold, "renewal_days": conf.renewal_days}
        conf.approval_threshold = threshold
        conf.renewal_days = days
        conf.save()
        after = {"approval_threshold": conf.approval_threshold, "renewal_days": conf.renewal_days}
        changes = audit.diff(before, after)
        if changes:
            audit.record(
                actor=actor, action=A.UPDATE, entity="finance_settings", obj=conf, changes=changes
            )
    return conf
