"""Wiring of quotes into the rest of Guanxi, called from ``SalesConfig.ready``."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _


def _summary(quote: Any) -> list[tuple[Any, Any]]:
    from guanxi.core.money import format_money
    from guanxi.sales.quotes.services import approval_reasons

    rows: list[tuple[Any, Any]] = [
        (_("Quote"), str(quote)),
        (_("Account"), quote.account.name),
        (_("Owner"), quote.owner.label if quote.owner else ""),
        (_("Subject"), quote.title),
        (_("Subtotal"), format_money(quote.subtotal, quote.currency)),
        (_("Discount"), format_money(quote.discount_total, quote.currency)),
        (_("Tax"), format_money(quote.tax_total, quote.currency)),
        (_("Total"), format_money(quote.total, quote.currency)),
        (_("Largest line discount"), f"{quote.max_discount.normalize():f}%"),
        (_("Valid until"), quote.valid_until.isoformat() if quote.valid_until else ""),
    ]
    for line in quote.lines.all():
        rows.append(
            (
                line.description,
                f"{line.quantity.normalize():f} {line.unit} × "
                f"{format_money(line.unit_price, quote.currency)} − {line.discount.normalize():f}%",
            )
        )
    reasons = approval_reasons(quote)
    if reasons:
        rows.append((_("Needs approval because"), " ".join(reasons)))
    return rows


def _approvers(quote: Any) -> list[Any]:
    from guanxi.automation.approvers import manager_of

    owner = quote.owner or quote.created_by
    manager = manager_of(owner) if owner is not None else None
    return [manager] if manager is not None else []


def _facts(quote: Any) -> dict[str, Any]:
    """What the configurable approval flows test: total, largest line discount, owner."""
    return {
        "amount": quote.total,
        "discount": quote.max_discount,
        "owner": quote.owner or quote.created_by,
    }


def _load(pk: int) -> Any:
    from guanxi.sales.quotes.models import Quote

    return Quote.objects.select_related("account", "owner", "created_by").get(pk=pk)


def ready() -> None:
    from guanxi.activities import targets
    from guanxi.automation import flows
    from guanxi.core import numbering
    from guanxi.sales.quotes import (
        demo,  # noqa: F401  (registers the demo step)
        entities,  # noqa: F401  (registers the quote entity)
        services,
    )
    from guanxi.web.navigation import NavItem, register

    numbering.define(services.NUMBER_KEY, _("Quotes"), "Q-{year}-{seq:04d}")
    register(NavItem("quotes:list", _("Quotes"), entity="quote", order=50))
    register(NavItem("quotes:settings", _("Quote settings"), admin_only=True, order=91))
    targets.register_target(
        "quote", label=str, url=lambda quote: reverse("quotes:detail", args=[quote.pk])
    )
    flows.register(
        flows.ApprovalFlow(
            entity="quote",
            label=_("quote"),
            load=_load,
            approvers=_approvers,
            on_approved=services.on_approved,
            on_rejected=services.on_rejected,
            on_cancelled=services.on_cancelled,
            summary=_summary,
            facts=_facts,
            url=lambda quote: reverse("quotes:detail", args=[quote.pk]),
        )
    )
