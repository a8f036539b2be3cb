"""Contracts, receipts and invoices on the account's 360° timeline.

Three bounded queries per page (contract history from the audit trail, receipts,
invoices), each limited to contracts in the viewer's scope.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from guanxi.core import permissions
from guanxi.core.models import AuditEvent
from guanxi.finance import money
from guanxi.finance.models import Contract, Invoice, Receipt

if TYPE_CHECKING:
    from guanxi.activities.selectors import TimelineItem
    from guanxi.identity.models import User

KIND = "finance"


def _url(contract_id: int) -> str:
    try:
        return reverse("finance:contract_detail", args=[contract_id])
    except NoReverseMatch:
        return ""


def account_items(*, actor: User, obj: Any, kinds: set[str], need: int) -> Iterator[TimelineItem]:
    """Contract history, receipts and issued invoices of the account ``obj``, newest first
    (a related stream of ``guanxi.activities.selectors``; kind ``finance``)."""
    from guanxi.activities.selectors import TimelineItem

    account = obj
    if KIND not in kinds or not permissions.can(actor, "contract", "view"):
        return iter(())
    contracts = {
        c.pk: c
        for c in permissions.scoped_queryset(actor, "contract", base=Contract.objects.all())
        .filter(account_id=account.pk)
        .only("pk", "number", "title", "currency")
    }
    if not contracts:
        return iter(())
    mask = permissions.masked_fields(actor, "contract")
    items: list[TimelineItem] = []
    events = AuditEvent.objects.filter(
        entity="contract", object_id__in=[str(pk) for pk in contracts]
    ).order_by("-created_at", "-id")[:need]
    for e in events:
        contract = contracts[int(e.object_id)]
        items.append(
            TimelineItem(
                kind=KIND,
                sub_kind=f"contract_{e.action}",
                at=e.created_at,
                actor=e.actor_label,
                title=_("Contract %(number)s: %(action)s")
                % {"number": contract.number, "action": e.get_action_display()},
                body=contract.title,
                changes=permissions.mask_changes(actor, "contract", e.changes, mask),
                url=_url(contract.pk),
                id=e.pk,
            )
        )
    if permissions.can(actor, "payment", "view"):
        for r in (
            Receipt.objects.filter(contract_id__in=list(contracts))
            .select_related("recorded_by")
            .order_by("-created_at", "-id")[:need]
        ):
            contract = contracts[r.contract_id]
            items.append(
                TimelineItem(
                    kind=KIND,
                    sub_kind="payment_received",
                    at=r.created_at,
                    actor=r.recorded_by.label if r.recorded_by else "",
                    title=_("Payment received: %(amount)s on %(number)s")
                    % {"amount": money.fmt(r.amount, contract.currency), "number": contract.number},
                    body=f"{r.received_on} · {r.get_method_display()}"
                    + (f" · {r.reference}" if r.reference else ""),
                    url=_url(contract.pk),
                    id=r.pk,
                )
            )
        for inv in (
            Invoice.objects.filter(contract_id__in=list(contracts))
            .exclude(status=Invoice.Status.DRAFT)
            .order_by("-updated_at", "-id")[:need]
        ):
            contract = contracts[inv.contract_id]
            items.append(
                TimelineItem(
                    kind=KIND,
                    sub_kind=f"invoice_{inv.status}",
                    at=inv.updated_at,
                    actor="",
                    title=_("Invoice %(number)s %(status)s: %(amount)s")
                    % {
                        "number": inv.number,
                        "status": inv.get_status_display(),
                        "amount": money.fmt(inv.amount, contract.currency),
                    },
                    body=f"{contract.number} · {inv.get_kind_display()}",
                    url=_url(contract.pk),
                    id=inv.pk,
                )
            )
    items.sort(key=lambda item: item.at, reverse=True)
    return iter(items[:need])


def install() -> None:
    from guanxi.activities.selectors import register_related_stream

    register_related_stream("account", account_items)


def account_panel(actor: User, account: Any) -> dict[str, Any] | None:
    """The contracts section of the account page (None when the viewer has no contracts)."""
    from guanxi.finance import receivables, selectors

    if not permissions.can(actor, "contract", "view"):
        return None
    page = selectors.contract_list(actor=actor, filters={"account": account.pk}, page_size=10)
    mask = permissions.masked_fields(actor, "contract")
    see_payments = permissions.can(actor, "payment", "view")
    return {
        "account_id": account.pk,
        "rows": [
            (c, selectors.contract_as_dict(actor=actor, contract=c, mask=mask)) for c in page.items
        ],
        "more": page.has_next,
        "see_payments": see_payments,
        "outstanding": (
            receivables.outstanding_for_account(actor=actor, account_id=account.pk)
            if see_payments and "amount" not in mask
            else []
        ),
        "can_create": permissions.can(actor, "contract", "create"),
    }
