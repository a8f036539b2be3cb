"""Quote writes: create (numbered), edit header and lines, submit for approval, send,
accept, expire, revise into a new version, delete drafts; quote settings.

Status flow::

    draft ──submit──► pending_approval ──approve──► approved ──send──► sent ──accept──► accepted
      ▲  (no approval needed: submit approves at once)   │                 │
      └──────── edit ◄── rejected ◄──reject──────────────┘                 └─revise─► v2 (draft)

A quote whose largest line discount exceeds the threshold, or whose total exceeds the
amount threshold, cannot be sent before the owner's manager approved it. Editing an
approved or rejected quote returns it to draft (an approval covers what was approved).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.automation import services as approval_services
from guanxi.core import audit, events, money, numbering, permissions
from guanxi.core.errors import Conflict, FieldError, NotPermitted, OutOfScope, ValidationFailed
from guanxi.sales.catalog import selectors as catalog_selectors
from guanxi.sales.catalog.models import Product
from guanxi.sales.catalog.services import clean_amount, clean_currency, clean_percent
from guanxi.sales.models import Deal
from guanxi.sales.quotes.models import DealLine, LineFields, Quote, QuoteLine, QuoteSettings
from guanxi.sales.quotes.totals import compute

if TYPE_CHECKING:
    from guanxi.customers.models import Account
    from guanxi.identity.models import User

QUOTE_CREATED = events.define("quote.created", "A quote was created")
QUOTE_UPDATED = events.define("quote.updated", "A quote or its lines changed")
QUOTE_STATUS = events.define("quote.status_changed", "A quote changed status")
QUOTE_REVISED = events.define("quote.revised", "A new version of a quote was made")
QUOTE_APPROVED = events.define(
    "quote.approved", "A quote was approved (by its approvers or at once)"
)

NUMBER_KEY = "quote"
HEADER_FIELDS = ("title", "account", "deal", "contact", "currency", "valid_until", "terms")
LINE_FIELDS = ("product", "description", "quantity", "unit", "unit_price", "discount", "tax_rate")
AUDIT_FIELDS = (*HEADER_FIELDS, "status", "owner", "total")
MAX_LINES = 200
MAX_QUANTITY = Decimal("9999999999")
S = Quote.Status
EDITABLE = {S.DRAFT, S.APPROVED, S.REJECTED}


# --- Settings ---------------------------------------------------------------------------


def settings_get() -> QuoteSettings:
    obj = QuoteSettings.objects.order_by("pk").first()
    return obj if obj is not None else QuoteSettings.objects.create()


def settings_save(*, actor: User, data: dict[str, Any]) -> QuoteSettings:
    """Change the approval thresholds and defaults (administrators only; audited)."""
    if not permissions.is_admin(actor):
        raise NotPermitted()
    obj = settings_get()
    errors: list[FieldError] = []
    fields = (
        "discount_threshold",
        "amount_threshold",
        "amount_currency",
        "default_terms",
        "default_validity_days",
    )
    values: dict[str, Any] = {}
    if "discount_threshold" in data:
        values["discount_threshold"] = clean_percent(
            errors, "discount_threshold", data["discount_threshold"]
        )
    if "amount_currency" in data:
        code = clean_currency([], data["amount_currency"])
        if code not in money.MINOR_UNITS:
            errors.append(FieldError("amount_currency", _("Unsupported currency.")))
        values["amount_currency"] = code
    if "amount_threshold" in data:
        currency = values.get("amount_currency", obj.amount_currency)
        values["amount_threshold"] = clean_amount(
            errors, "amount_threshold", data["amount_threshold"], currency, required=False
        )
    if "default_terms" in data:
        values["default_terms"] = str(data["default_terms"] or "")
    if "default_validity_days" in data:
        try:
            days = int(data["default_validity_days"])
            if not 0 <= days <= 3650:
                raise ValueError
        except (TypeError, ValueError):
            errors.append(FieldError("default_validity_days", _("Enter 0 to 3650 days.")))
        else:
            values["default_validity_days"] = days
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        before = audit.snapshot(obj, fields)
        for key, value in values.items():
            setattr(obj, key, value)
        obj.save()
        changes = audit.diff(before, audit.snapshot(obj, fields))
        if changes:
            audit.record(
                actor=actor, action="update", entity="quote_settings", obj=obj, changes=changes
            )
    return obj


def approval_reasons(quote: Quote, conf: QuoteSettings | None = None) -> list[str]:
    """Why ``quote`` needs its owner's manager to approve it (empty: it does not)."""
    conf = conf or settings_get()
    reasons = []
    if quote.max_discount > conf.discount_threshold:
        reasons.append(
            _(
                "A line is discounted %(discount)s%%, above the %(limit)s%% allowed without approval."
            )
            % {
                "discount": f"{quote.max_discount.normalize():f}",
                "limit": f"{conf.discount_threshold.normalize():f}",
            }
        )
    if (
        conf.amount_threshold is not None
        and quote.currency == conf.amount_currency
        and quote.total > conf.amount_threshold
    ):
        reasons.append(
            _("The total %(total)s is above %(limit)s.")
            % {
                "total": money.format_money(quote.total, quote.currency),
                "limit": money.format_money(conf.amount_threshold, conf.amount_currency),
            }
        )
    return reasons


# --- Validation helpers -----------------------------------------------------------------


def _account(actor: User, value: Any, errors: list[FieldError]) -> Account | None:
    from guanxi.customers.models import Account

    if value in (None, ""):
        errors.append(FieldError("account_id", _("Choose an account.")))
        return None
    if isinstance(value, Account):
        value = value.pk
    try:
        account: Account = permissions.get_for_user(actor, "account", value)
    except (OutOfScope, NotPermitted):
        errors.append(FieldError("account_id", _("No such account in your scope.")))
        return None
    return account


def _deal(
    actor: User, value: Any, account: Account | None, errors: list[FieldError]
) -> Deal | None:
    if value in (None, ""):
        return None
    if isinstance(value, Deal):
        value = value.pk
    try:
        deal: Deal = permissions.get_for_user(actor, "deal", value)
    except (OutOfScope, NotPermitted):
        errors.append(FieldError("deal_id", _("No such deal in your scope.")))
        return None
    if account is not None and deal.account_id != account.pk:
        errors.append(FieldError("deal_id", _("This deal belongs to another account.")))
    return deal


def _contact(actor: User, value: Any, account: Account | None, errors: list[FieldError]) -> Any:
    from guanxi.customers.models import Contact

    if value in (None, ""):
        return None
    if isinstance(value, Contact):
        value = value.pk
    try:
        contact = permissions.get_for_user(actor, "contact", value)
    except (OutOfScope, NotPermitted):
        errors.append(FieldError("contact_id", _("No such contact in your scope.")))
        return None
    if account is not None and contact.account_id != account.pk:
        errors.append(FieldError("contact_id", _("This contact works for another account.")))
    return contact


def _date(value: Any, field: str, errors: list[FieldError]) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        errors.append(FieldError(field, _("Enter a date as YYYY-MM-DD.")))
        return None


def _header(actor: User, data: dict[str, Any], quote: Quote | None) -> dict[str, Any]:
    allowed = {
        "title",
        "account_id",
        "deal_id",
        "contact_id",
        "currency",
        "valid_until",
        "terms",
        "owner_id",
        "lines",
        "copy_deal_lines",
    }
    errors = [FieldError(k, _("Unknown field.")) for k in sorted(set(data) - allowed)]
    out: dict[str, Any] = {}
    if quote is None or "account_id" in data:
        out["account"] = _account(actor, data.get("account_id"), errors)
        if (
            quote is not None
            and out["account"] is not None
            and out["account"].pk != quote.account_id
        ):
            errors.append(
                FieldError("account_id", _("A quote cannot move to another account; copy it."))
            )
    account = out.get("account") or (quote.account if quote else None)
    if quote is None or "deal_id" in data:
        out["deal"] = _deal(actor, data.get("deal_id"), account, errors)
    if quote is None or "contact_id" in data:
        out["contact"] = _contact(actor, data.get("contact_id"), account, errors)
    if quote is None or "currency" in data:
        out["currency"] = clean_currency(errors, data.get("currency"))
    if quote is None or "title" in data:
        title = str(data.get("title") or "").strip()
        if len(title) > 200:
            errors.append(FieldError("title", _("At most %(n)d characters.") % {"n": 200}))
        out["title"] = title
    if quote is None or "valid_until" in data:
        out["valid_until"] = _date(data.get("valid_until"), "valid_until", errors)
    if quote is None or "terms" in data:
        out["terms"] = str(data.get("terms") or "")
    if errors:
        raise ValidationFailed(errors)
    return out


def _line_values(
    actor: User,
    data: dict[str, Any],
    *,
    quote_currency: str,
    account: Account | None,
    line: LineFields | None,
    prefix: str = "",
) -> dict[str, Any]:
    """Validated line values; the product fills description, unit, price and tax rate."""
    errors = [
        FieldError(f"{prefix}{k}", _("Unknown field."))
        for k in sorted(set(data) - {*LINE_FIELDS, "product_id", "id"})
    ]
    product: Product | None = line.product if line else None
    if "product_id" in data:
        product = None
        if data["product_id"] not in (None, ""):
            try:
                product = catalog_selectors.product_get_for_user(actor=actor, pk=data["product_id"])
            except (OutOfScope, NotPermitted):
                errors.append(FieldError(f"{prefix}product_id", _("No such product.")))
            else:
                if not product.active and (line is None or line.product_id != product.pk):
                    errors.append(
                        FieldError(f"{prefix}product_id", _("This product is no longer sold."))
                    )
    new_product = product is not None and (line is None or line.product_id != product.pk)

    def pick(name: str, default: Any) -> Any:
        if name in data and data[name] not in (None, ""):
            return data[name]
        if line is not None and not new_product:
            return getattr(line, name)
        return default

    description = str(pick("description", product.name if product else "")).strip()
    if not description:
        errors.append(
            FieldError(f"{prefix}description", _("Describe the item or choose a product."))
        )
    elif len(description) > 500:
        errors.append(
            FieldError(f"{prefix}description", _("At most %(n)d characters.") % {"n": 500})
        )
    unit = str(pick("unit", product.unit if product else "")).strip()[:20]
    try:
        quantity = money.to_decimal(pick("quantity", "1"))
    except ValueError:
        errors.append(FieldError(f"{prefix}quantity", _("Enter a quantity, e.g. 2 or 1.5.")))
        quantity = Decimal(0)
    else:
        if quantity <= 0 or quantity > MAX_QUANTITY:
            errors.append(FieldError(f"{prefix}quantity", _("The quantity must be above 0.")))
        elif quantity != quantity.quantize(Decimal("0.0001")):
            errors.append(FieldError(f"{prefix}quantity", _("At most four decimals.")))
    default_price = None
    if product is not None:
        default_price = catalog_selectors.unit_price_for(
            product=product, account=account, currency=quote_currency
        )
    raw_price = pick("unit_price", default_price)
    if raw_price is None:
        errors.append(
            FieldError(
                f"{prefix}unit_price",
                _("This product has no price in %(currency)s; enter one.")
                % {"currency": quote_currency},
            )
        )
        unit_price = None
    else:
        unit_price = clean_amount(errors, f"{prefix}unit_price", raw_price, quote_currency)
    discount = clean_percent(errors, f"{prefix}discount", pick("discount", "0"))
    tax_rate = clean_percent(
        errors, f"{prefix}tax_rate", pick("tax_rate", product.tax_rate if product else "0")
    )
    if errors:
        raise ValidationFailed(errors)
    return {
        "product": product,
        "description": description,
        "unit": unit,
        "quantity": quantity,
        "unit_price": unit_price,
        "discount": discount,
        "tax_rate": tax_rate,
    }


def _line_snapshot(line: LineFields) -> dict[str, Any]:
    return {
        "product": line.product_id,
        "description": line.description,
        "quantity": line.quantity,
        "unit": line.unit,
        "unit_price": line.unit_price,
        "discount": line.discount,
        "tax_rate": line.tax_rate,
    }


def recompute(quote: Quote) -> Quote:
    """Store the totals of ``quote``'s lines on the quote (inside the caller's transaction)."""
    totals = compute(list(quote.lines.all()), quote.currency)
    quote.subtotal = totals.subtotal
    quote.discount_total = totals.discount
    quote.tax_total = totals.tax
    quote.total = totals.total
    quote.max_discount = totals.max_discount
    quote.save(
        update_fields=[
            "subtotal",
            "discount_total",
            "tax_total",
            "total",
            "max_discount",
            "updated_at",
        ]
    )
    return quote


def _lock(quote: Quote) -> Quote:
    return Quote.objects.select_for_update().select_related("account").get(pk=quote.pk)


def _reopen(actor: User, quote: Quote) -> dict[str, Any]:
    """Make an approved or rejected quote a draft again before it changes."""
    if quote.status == S.PENDING_APPROVAL:
        raise Conflict(_("The quote is waiting for approval; withdraw the request to change it."))
    if quote.status not in EDITABLE:
        raise Conflict(
            _("A %(status)s quote cannot change; make a new version instead.")
            % {"status": quote.get_status_display()}
        )
    if quote.status != S.DRAFT:
        old = quote.status
        quote.status = S.DRAFT
        quote.approved_at = None
        quote.save(update_fields=["status", "approved_at", "updated_at"])
        return {"status": [old, S.DRAFT]}
    return {}


# --- Create, edit -----------------------------------------------------------------------


def quote_create(*, actor: User, data: dict[str, Any]) -> Quote:
    """Create a draft quote numbered ``Q-{year}-{seq}`` (gap-free) for an account in scope.

    ``lines`` (a list of line dicts) or ``copy_deal_lines`` (with ``deal_id``) fill it.
    """
    permissions.require(actor, "quote", "create")
    values = _header(actor, data, None)
    conf = settings_get()
    if values["valid_until"] is None and conf.default_validity_days:
        values["valid_until"] = timezone.localdate() + dt.timedelta(days=conf.default_validity_days)
    if not values["terms"]:
        values["terms"] = conf.default_terms
    owner = actor
    if data.get("owner_id") not in (None, "", actor.pk):
        from guanxi.identity.models import User as UserModel

        owner = UserModel.objects.filter(pk=data["owner_id"], is_active=True).first()  # type: ignore[assignment]
        if owner is None or not permissions.can(actor, "quote", "transfer"):
            raise ValidationFailed(
                [FieldError("owner_id", _("You cannot give quotes to this user."))]
            )
    raw_lines = list(data.get("lines") or [])
    if data.get("copy_deal_lines") and values["deal"] is not None and not raw_lines:
        raw_lines = [
            {
                "product_id": dl.product_id,
                "description": dl.description,
                "quantity": dl.quantity,
                "unit": dl.unit,
                "unit_price": dl.unit_price,
                "discount": dl.discount,
                "tax_rate": dl.tax_rate,
            }
            for dl in values["deal"].lines.all()
        ]
    if len(raw_lines) > MAX_LINES:
        raise ValidationFailed([FieldError("lines", _("At most %(n)d lines.") % {"n": MAX_LINES})])
    errors: list[FieldError] = []
    clean_lines = []
    for i, raw in enumerate(raw_lines):
        try:
            clean_lines.append(
                _line_values(
                    actor,
                    dict(raw),
                    quote_currency=values["currency"],
                    account=values["account"],
                    line=None,
                    prefix=f"lines.{i}.",
                )
            )
        except ValidationFailed as exc:
            errors.extend(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        quote = Quote(**values, owner=owner, created_by=actor, status=S.DRAFT)
        quote.number = numbering.next_number(key=NUMBER_KEY)
        quote.save()
        QuoteLine.objects.bulk_create(
            [QuoteLine(quote=quote, position=i, **line) for i, line in enumerate(clean_lines)]
        )
        recompute(quote)
        audit.record(
            actor=actor,
            action="create",
            entity="quote",
            obj=quote,
            changes={
                **audit.diff({}, audit.snapshot(quote, AUDIT_FIELDS)),
                "lines": [None, len(clean_lines)],
            },
        )
        events.emit(QUOTE_CREATED, _payload(quote), actor_id=actor.pk)
    return quote


def _payload(quote: Quote) -> dict[str, Any]:
    return {
        "id": quote.pk,
        "number": quote.number,
        "version": quote.version,
        "status": quote.status,
        "account_id": quote.account_id,
        "deal_id": quote.deal_id,
        "owner_id": quote.owner_id,
        "currency": quote.currency,
        "total": str(quote.total),
    }


def quote_update(*, actor: User, quote: Quote, data: dict[str, Any]) -> Quote:
    """Change the header of an editable quote (the caller loaded it with ``edit``)."""
    permissions.require(actor, "quote", "edit")
    data = {k: v for k, v in data.items() if k not in ("lines", "copy_deal_lines")}
    values = _header(actor, data, quote)
    with transaction.atomic():
        quote = _lock(quote)
        before = audit.snapshot(quote, AUDIT_FIELDS)
        if not any(getattr(quote, k) != v for k, v in values.items() if k != "account"):
            return quote
        extra = _reopen(actor, quote)
        for key, value in values.items():
            setattr(quote, key, value)
        quote.save()
        if "currency" in values:
            recompute(quote)
        changes = {**audit.diff(before, audit.snapshot(quote, AUDIT_FIELDS)), **extra}
        audit.record(actor=actor, action="update", entity="quote", obj=quote, changes=changes)
        events.emit(
            QUOTE_UPDATED, {**_payload(quote), "changes": sorted(changes)}, actor_id=actor.pk
        )
    return quote


def quote_line_add(*, actor: User, quote: Quote, data: dict[str, Any]) -> QuoteLine:
    permissions.require(actor, "quote", "edit")
    with transaction.atomic():
        quote = _lock(quote)
        if quote.lines.count() >= MAX_LINES:
            raise ValidationFailed(
                [FieldError("lines", _("At most %(n)d lines.") % {"n": MAX_LINES})]
            )
        values = _line_values(
            actor, data, quote_currency=quote.currency, account=quote.account, line=None
        )
        extra = _reopen(actor, quote)
        last = quote.lines.order_by("-position").values_list("position", flat=True).first()
        line = QuoteLine.objects.create(quote=quote, position=(last or 0) + 1, **values)
        recompute(quote)
        audit.record(
            actor=actor,
            action="update",
            entity="quote",
            obj=quote,
            changes={f"line.{line.pk}": [None, audit._plain(_line_snapshot(line))], **extra},
        )
        events.emit(QUOTE_UPDATED, _payload(quote), actor_id=actor.pk)
    return line


def quote_line_update(
    *, actor: User, quote: Quote, line_id: Any, data: dict[str, Any]
) -> QuoteLine:
    permissions.require(actor, "quote", "edit")
    with transaction.atomic():
        quote = _lock(quote)
        line = _line_of(quote, line_id)
        values = _line_values(
            actor, data, quote_currency=quote.currency, account=quote.account, line=line
        )
        before = _line_snapshot(line)
        for key, value in values.items():
            setattr(line, key, value)
        after = _line_snapshot(line)
        if before == after:
            return line
        extra = _reopen(actor, quote)
        line.save()
        recompute(quote)
        audit.record(
            actor=actor,
            action="update",
            entity="quote",
            obj=quote,
            changes={
                **{f"line.{line.pk}.{k}": v for k, v in audit.diff(before, after).items()},
                **extra,
            },
        )
        events.emit(QUOTE_UPDATED, _payload(quote), actor_id=actor.pk)
    return line


def _line_of(quote: Quote, line_id: Any) -> QuoteLine:
    try:
        return QuoteLine.objects.select_related("product").get(quote=quote, pk=line_id)
    except (QuoteLine.DoesNotExist, ValueError, TypeError) as exc:
        raise OutOfScope() from exc


def quote_line_delete(*, actor: User, quote: Quote, line_id: Any) -> None:
    permissions.require(actor, "quote", "edit")
    with transaction.atomic():
        quote = _lock(quote)
        line = _line_of(quote, line_id)
        extra = _reopen(actor, quote)
        snapshot = audit._plain(_line_snapshot(line))
        line.delete()
        recompute(quote)
        audit.record(
            actor=actor,
            action="update",
            entity="quote",
            obj=quote,
            changes={f"line.{line_id}": [snapshot, None], **extra},
        )
        events.emit(QUOTE_UPDATED, _payload(quote), actor_id=actor.pk)


def quote_delete(*, actor: User, quote: Quote) -> None:
    """Delete a draft that was never sent (its number stays used: numbers never repeat)."""
    permissions.require(actor, "quote", "delete")
    with transaction.atomic():
        quote = _lock(quote)
        if quote.status not in (S.DRAFT, S.REJECTED) or quote.revisions.exists():
            raise Conflict(_("Only drafts can be deleted."))
        audit.record(
            actor=actor,
            action="delete",
            entity="quote",
            obj=quote,
            changes=audit.diff(audit.snapshot(quote, AUDIT_FIELDS), {}),
        )
        number, was_current = quote.number, quote.is_current
        quote.delete()
        if was_current:
            # The previous version is the current one again.
            previous = Quote.objects.filter(number=number).order_by("-version").first()
            if previous is not None:
                Quote.objects.filter(pk=previous.pk).update(is_current=True)


# --- Approval, sending, versions --------------------------------------------------------


def _set_status(actor: User | None, quote: Quote, status: str, **stamps: Any) -> None:
    old = quote.status
    quote.status = status
    for key, value in stamps.items():
        setattr(quote, key, value)
    quote.save(update_fields=["status", *stamps, "updated_at"])
    audit.record(
        actor=actor,
        action="update",
        entity="quote",
        obj=quote,
        changes={"status": [old, status]},
    )
    events.emit(
        QUOTE_STATUS, {**_payload(quote), "from": old}, actor_id=actor.pk if actor else None
    )
    if status == S.APPROVED and old != S.APPROVED:
        events.emit(QUOTE_APPROVED, _payload(quote), actor_id=actor.pk if actor else None)


def quote_submit(*, actor: User, quote: Quote, reason: str = "") -> Quote:
    """Ask the owner's manager to approve ``quote`` if it needs it; else approve it at once."""
    permissions.require(actor, "quote", "edit")
    with transaction.atomic():
        quote = _lock(quote)
        if quote.status not in (S.DRAFT, S.REJECTED):
            raise Conflict(
                _("Only a draft or rejected quote can be submitted (this one is %(status)s).")
                % {"status": quote.get_status_display()}
            )
        if not quote.lines.exists():
            raise ValidationFailed([FieldError("lines", _("Add at least one line first."))])
        reasons = approval_reasons(quote)
        if not reasons:
            _set_status(actor, quote, S.APPROVED, approved_at=timezone.now())
            return quote
        text = "\n".join([*reasons, reason.strip()]).strip()
        _set_status(actor, quote, S.PENDING_APPROVAL)
        approval_services.approval_request(actor=actor, entity="quote", obj=quote, reason=text)
    return quote


def quote_withdraw(*, actor: User, quote: Quote) -> Quote:
    """Withdraw the pending approval request; the quote becomes a draft again."""
    from guanxi.automation import selectors as approval_selectors

    permissions.require(actor, "quote", "edit")
    pending = approval_selectors.pending_for_object(entity="quote", object_id=quote.pk)
    if pending is None:
        raise Conflict(_("No approval request is pending for this quote."))
    approval_services.approval_cancel(actor=actor, request=pending)
    quote.refresh_from_db()
    return quote


def quote_decide(*, actor: User, quote: Quote, decision: str, comment: str = "") -> Quote:
    """Approve or reject the pending approval of ``quote`` (its approver only)."""
    from guanxi.automation import selectors as approval_selectors

    pending = approval_selectors.pending_for_object(entity="quote", object_id=quote.pk)
    if pending is None:
        raise Conflict(_("No approval request is pending for this quote."))
    approval_services.approval_decide(
        actor=actor, request=pending, decision=decision, comment=comment
    )
    quote.refresh_from_db()
    return quote


def on_approved(quote: Quote, request: Any, actor: User) -> None:
    quote = _lock(quote)
    if quote.status == S.PENDING_APPROVAL:
        _set_status(actor, quote, S.APPROVED, approved_at=timezone.now())


def on_rejected(quote: Quote, request: Any, actor: User, comment: str) -> None:
    quote = _lock(quote)
    if quote.status == S.PENDING_APPROVAL:
        _set_status(actor, quote, S.REJECTED)


def on_cancelled(quote: Quote, request: Any, actor: User) -> None:
    quote = _lock(quote)
    if quote.status == S.PENDING_APPROVAL:
        _set_status(actor, quote, S.DRAFT)


def quote_mark_sent(*, actor: User, quote: Quote) -> Quote:
    """Mark ``quote`` as sent to the customer. Refused while it needs an approval it lacks."""
    permissions.require(actor, "quote", "edit")
    with transaction.atomic():
        quote = _lock(quote)
        if quote.status == S.DRAFT:
            if approval_reasons(quote):
                raise Conflict(
                    _("This quote needs the approval of %(owner)s's manager before it is sent.")
                    % {"owner": quote.owner.label if quote.owner else ""}
                )
            if not quote.lines.exists():
                raise ValidationFailed([FieldError("lines", _("Add at least one line first."))])
        elif quote.status != S.APPROVED:
            raise Conflict(
                _("A %(status)s quote cannot be sent.") % {"status": quote.get_status_display()}
            )
        _set_status(actor, quote, S.SENT, sent_at=timezone.now())
    return quote


def quote_mark_accepted(*, actor: User, quote: Quote) -> Quote:
    permissions.require(actor, "quote", "edit")
    with transaction.atomic():
        quote = _lock(quote)
        if quote.status != S.SENT:
            raise Conflict(_("Only a sent quote can be accepted."))
        _set_status(actor, quote, S.ACCEPTED, accepted_at=timezone.now())
    return quote


def quote_mark_expired(*, actor: User | None, quote: Quote) -> Quote:
    if actor is not None:
        permissions.require(actor, "quote", "edit")
    with transaction.atomic():
        quote = _lock(quote)
        if quote.status in (S.ACCEPTED, S.EXPIRED):
            raise Conflict(_("This quote is already closed."))
        _set_status(actor, quote, S.EXPIRED)
    return quote


def quotes_expire_due(today: dt.date | None = None) -> int:
    """Expire sent or approved quotes whose validity has run out (the daily schedule)."""
    today = today or timezone.localdate()
    due = Quote.objects.filter(
        status__in=[S.SENT, S.APPROVED], valid_until__lt=today, is_current=True
    ).values_list("pk", flat=True)
    count = 0
    for pk in list(due[:1000]):
        try:
            quote_mark_expired(actor=None, quote=Quote(pk=pk))
        except Conflict:
            continue
        count += 1
    return count


def quote_revise(*, actor: User, quote: Quote) -> Quote:
    """Make the next version of a sent (or rejected, expired) quote as a new draft.

    The new version keeps the number, copies header and lines and becomes the current
    one; the old version stays readable, unchanged.
    """
    permissions.require(actor, "quote", "edit")
    with transaction.atomic():
        quote = _lock(quote)
        if quote.status not in (S.SENT, S.REJECTED, S.EXPIRED):
            raise Conflict(
                _("Only a sent, rejected or expired quote is revised; edit a draft directly.")
            )
        if not quote.is_current:
            raise Conflict(_("A newer version of this quote exists already."))
        original = quote.original or quote
        latest = (
            Quote.objects.filter(number=quote.number)
            .order_by("-version")
            .values_list("version", flat=True)
            .first()
        )
        new = Quote.objects.create(
            number=quote.number,
            version=(latest or quote.version) + 1,
            original=original,
            title=quote.title,
            account=quote.account,
            deal=quote.deal,
            contact=quote.contact,
            currency=quote.currency,
            valid_until=quote.valid_until,
            terms=quote.terms,
            owner=quote.owner,
            created_by=actor,
            custom=dict(quote.custom),
            status=S.DRAFT,
        )
        QuoteLine.objects.bulk_create(
            [
                QuoteLine(
                    quote=new,
                    position=line.position,
                    product_id=line.product_id,
                    description=line.description,
                    quantity=line.quantity,
                    unit=line.unit,
                    unit_price=line.unit_price,
                    discount=line.discount,
                    tax_rate=line.tax_rate,
                )
                for line in quote.lines.all()
            ]
        )
        recompute(new)
        Quote.objects.filter(number=quote.number).exclude(pk=new.pk).update(is_current=False)
        audit.record(
            actor=actor,
            action="create",
            entity="quote",
            obj=new,
            changes={"version": [quote.version, new.version], "revised_from": [None, quote.pk]},
        )
        events.emit(QUOTE_REVISED, {**_payload(new), "previous_id": quote.pk}, actor_id=actor.pk)
    return new


def quote_attach_pdf(*, actor: User, quote: Quote) -> Any:
    """Put the quote's PDF on the account's timeline as a note with the file attached."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from guanxi.activities import services as activity_services
    from guanxi.sales.quotes import pdf

    content = pdf.render(quote)
    upload = SimpleUploadedFile(pdf.filename(quote), content, content_type="application/pdf")
    return activity_services.activity_create(
        actor=actor,
        target_entity="account",
        target_id=quote.account_id,
        kind="note",
        content=_("Quote %(number)s, %(total)s (%(status)s)")
        % {
            "number": str(quote),
            "total": money.format_money(quote.total, quote.currency),
            "status": quote.get_status_display(),
        },
        attachments=[upload],
    )


# --- Deal lines -------------------------------------------------------------------------


def deal_line_add(*, actor: User, deal: Deal, data: dict[str, Any]) -> DealLine:
    """Add a product (or free-text item) to a deal the caller may edit."""
    permissions.require(actor, "deal", "edit")
    values = _line_values(
        actor, data, quote_currency=deal.currency, account=deal.account, line=None
    )
    with transaction.atomic():
        last = deal.lines.order_by("-position").values_list("position", flat=True).first()
        line = DealLine.objects.create(deal=deal, position=(last or 0) + 1, **values)
        audit.record(
            actor=actor,
            action="update",
            entity="deal",
            obj=deal,
            changes={f"line.{line.pk}": [None, audit._plain(_line_snapshot(line))]},
        )
    return line


def deal_line_delete(*, actor: User, deal: Deal, line_id: Any) -> None:
    permissions.require(actor, "deal", "edit")
    with transaction.atomic():
        try:
            line = DealLine.objects.get(deal=deal, pk=line_id)
        except (DealLine.DoesNotExist, ValueError, TypeError) as exc:
            raise OutOfScope() from exc
        snapshot = audit._plain(_line_snapshot(line))
        line.delete()
        audit.record(
            actor=actor,
            action="update",
            entity="deal",
            obj=deal,
            changes={f"line.{line_id}": [snapshot, None]},
        )
