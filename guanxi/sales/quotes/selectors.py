"""Quote reads through the permission layer (entity ``quote``), with their totals."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet

from guanxi.core import permissions
from guanxi.core.errors import FieldError, ValidationFailed
from guanxi.core.pagination import Page, paginate
from guanxi.sales.quotes.models import DealLine, Quote, QuoteLine
from guanxi.sales.quotes.totals import Totals, compute

if TYPE_CHECKING:
    from guanxi.identity.models import User
    from guanxi.sales.models import Deal

SORTS = {
    "-created_at": ("-created_at", "-id"),
    "number": ("number", "version"),
    "-total": ("-total", "-id"),
}


def _quotes() -> QuerySet[Quote]:
    return Quote.objects.select_related("account", "owner", "deal", "contact")


def quote_list(
    *,
    actor: User,
    q: str = "",
    status: str = "",
    account_id: Any = None,
    deal_id: Any = None,
    owner: str = "",
    all_versions: bool = False,
    sort: str = "-created_at",
    page: Any = 1,
    page_size: Any = 50,
) -> Page:
    """Quotes ``actor`` may view; only the current version of each unless ``all_versions``."""
    qs: QuerySet[Quote] = permissions.scoped_queryset(actor, "quote", base=_quotes())
    errors: list[FieldError] = []
    if not all_versions:
        qs = qs.filter(is_current=True)
    q = (q or "").strip()
    if q:
        qs = qs.filter(
            Q(number__icontains=q) | Q(title__icontains=q) | Q(account__name__icontains=q)
        )
    if status:
        if status not in Quote.Status.values:
            errors.append(
                FieldError("status", f"status must be one of {', '.join(Quote.Status.values)}")
            )
        qs = qs.filter(status=status)
    for name, value in (("account_id", account_id), ("deal_id", deal_id)):
        if value in (None, ""):
            continue
        try:
            qs = qs.filter(**{name: int(value)})
        except (TypeError, ValueError):
            errors.append(FieldError(name, f"{name} must be a whole number"))
    if owner == "me":
        qs = qs.filter(owner=actor)
    elif owner:
        try:
            qs = qs.filter(owner_id=int(owner))
        except (TypeError, ValueError):
            errors.append(FieldError("owner", "owner must be a user id or 'me'"))
    if sort not in SORTS:
        errors.append(FieldError("sort", f"sort must be one of {', '.join(SORTS)}"))
    if errors:
        raise ValidationFailed(errors)
    return paginate(qs.order_by(*SORTS[sort]), page, page_size)


def quote_get_for_user(*, actor: User, pk: Any, action: str = "view") -> Quote:
    quote: Quote = permissions.get_for_user(actor, "quote", pk, action, base=_quotes())
    return quote


def quote_lines(quote: Quote) -> list[QuoteLine]:
    return list(quote.lines.select_related("product").order_by("position", "id"))


def quote_totals(quote: Quote, lines: list[QuoteLine] | None = None) -> Totals:
    return compute(lines if lines is not None else quote_lines(quote), quote.currency)


def quote_versions(*, actor: User, quote: Quote) -> list[Quote]:
    """Every version of ``quote``'s number that ``actor`` may view, newest first."""
    qs = permissions.scoped_queryset(actor, "quote").filter(number=quote.number)
    return list(qs.order_by("-version"))


def deal_lines(deal: Deal) -> list[DealLine]:
    return list(deal.lines.select_related("product").order_by("position", "id"))


def _user(user: Any) -> dict[str, Any] | None:
    return {"id": user.pk, "username": user.username} if user is not None else None


def line_as_dict(line: QuoteLine | DealLine, amounts: Any = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": line.pk,
        "position": line.position,
        "product_id": line.product_id,
        "sku": line.product.sku if line.product_id and line.product else "",
        "description": line.description,
        "quantity": line.quantity,
        "unit": line.unit,
        "unit_price": line.unit_price,
        "discount": line.discount,
        "tax_rate": line.tax_rate,
    }
    if amounts is not None:
        out.update(
            {
                "gross": amounts.gross,
                "discount_amount": amounts.discount,
                "net": amounts.net,
                "tax": amounts.tax,
                "total": amounts.total,
            }
        )
    return out


def quote_as_dict(*, actor: User, quote: Quote, with_lines: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": quote.pk,
        "number": quote.number,
        "version": quote.version,
        "original_id": quote.original_id,
        "is_current": quote.is_current,
        "title": quote.title,
        "account": {"id": quote.account_id, "name": quote.account.name},
        "deal_id": quote.deal_id,
        "contact_id": quote.contact_id,
        "owner": _user(quote.owner),
        "currency": quote.currency,
        "valid_until": quote.valid_until,
        "terms": quote.terms,
        "status": quote.status,
        "subtotal": quote.subtotal,
        "discount_total": quote.discount_total,
        "tax_total": quote.tax_total,
        "total": quote.total,
        "max_discount": quote.max_discount,
        "approved_at": quote.approved_at,
        "sent_at": quote.sent_at,
        "accepted_at": quote.accepted_at,
        "custom": quote.custom,
        "created_at": quote.created_at,
        "updated_at": quote.updated_at,
    }
    if with_lines:
        lines = quote_lines(quote)
        totals = quote_totals(quote, lines)
        out["lines"] = [line_as_dict(line, a) for line, a in zip(lines, totals.lines, strict=True)]
        out["tax_breakdown"] = [
            {"rate": g.rate, "net": g.net, "tax": g.tax} for g in totals.by_rate
        ]
    return out
