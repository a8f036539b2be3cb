"""Contracts in the generic approvals engine (``guanxi.automation``).

A contract above the configured threshold is approved by its owner's department head
(walking up when the owner heads the department). Approval activates it; rejection
sends it back to draft with the approver's comment in its history.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from guanxi.finance import money
from guanxi.finance.models import Contract

if TYPE_CHECKING:
    from guanxi.identity.models import User

ENTITY = "contract"


def approvers_of(contract: Contract) -> list[User]:
    from guanxi.automation.approvers import manager_of

    if contract.owner is None:
        return []
    head = manager_of(contract.owner)
    return [head] if head is not None else []


def request(*, actor: User, contract: Contract) -> int:
    """Open the approval request of ``contract``; returns its id (Conflict when nobody
    can approve or one is already pending)."""
    from guanxi.automation.services import approval_request

    threshold = _threshold()
    req = approval_request(
        actor=actor,
        entity=ENTITY,
        obj=contract,
        reason=str(
            _("Contract amount %(amount)s is above the approval threshold %(threshold)s.")
            % {
                "amount": money.fmt(contract.amount, contract.currency),
                "threshold": money.fmt(threshold, contract.currency),
            }
        ),
    )
    return int(req.pk)


def _threshold() -> Any:
    from guanxi.finance.models import FinanceSettings

    return FinanceSettings.current().approval_threshold


def _approved(contract: Contract, req: Any, actor: User) -> None:
    from guanxi.finance.services import contract_approval_decided

    contract_approval_decided(contract_id=contract.pk, approved=True, actor=actor)


def _rejected(contract: Contract, req: Any, actor: User, comment: str) -> None:
    from guanxi.finance.services import contract_approval_decided

    contract_approval_decided(contract_id=contract.pk, approved=False, actor=actor, comment=comment)


def _cancelled(contract: Contract, req: Any, actor: User) -> None:
    from guanxi.finance.services import contract_approval_decided

    contract_approval_decided(
        contract_id=contract.pk, approved=False, actor=actor, comment=str(_("Request withdrawn."))
    )


def _summary(contract: Contract) -> list[tuple[Any, Any]]:
    return [
        (_("Contract number"), contract.number),
        (_("Title"), contract.title),
        (_("Account"), contract.account.name),
        (_("Amount"), money.fmt(contract.amount, contract.currency)),
        (_("Term"), f"{contract.starts_on or '—'} – {contract.ends_on or '—'}"),
        (_("Owner"), contract.owner.label if contract.owner else "—"),
    ]


def install() -> None:
    from guanxi.automation import flows

    flows.register(
        flows.ApprovalFlow(
            entity=ENTITY,
            label=_("contract"),
            load=lambda pk: Contract.objects.select_related("owner", "account").get(pk=pk),
            approvers=approvers_of,
            on_approved=_approved,
            on_rejected=_rejected,
            on_cancelled=_cancelled,
            summary=_summary,
            url=lambda contract: reverse("finance:contract_detail", args=[contract.pk]),
        )
    )
