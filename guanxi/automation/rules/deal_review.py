"""A deal review approval flow, so a rule can ask the owner's manager to look at a deal
("request approval"). Registered unless another app already registered a deal flow."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from guanxi.automation import flows
from guanxi.automation.approvers import manager_of
from guanxi.core import audit
from guanxi.core.models import AuditEvent


def _load(pk: int) -> Any:
    from guanxi.sales.models import Deal

    return Deal.objects.select_related("owner", "account", "stage").get(pk=pk)


def _approvers(deal: Any) -> list[Any]:
    manager = manager_of(deal.owner) if deal.owner_id else None
    return [manager] if manager is not None else []


def _outcome(decision: str) -> Any:
    def record(deal: Any, request: Any, actor: Any, *comment: str) -> None:
        changes: dict[str, Any] = {"review": [None, decision], "approval_id": request.pk}
        if comment and comment[0]:
            changes["comment"] = comment[0]
        audit.record(
            actor=actor, action=AuditEvent.Action.UPDATE, entity="deal", obj=deal, changes=changes
        )

    return record


def _summary(deal: Any) -> list[tuple[Any, Any]]:
    return [
        (_("Deal"), deal.name),
        (_("Account"), deal.account.name),
        (_("Stage"), deal.stage.name),
        (_("Amount"), f"{deal.amount or 0} {deal.currency}"),
    ]


def register() -> None:
    if flows.has_flow("deal"):
        return
    flows.register(
        flows.ApprovalFlow(
            entity="deal",
            label=_("deal review"),
            load=_load,
            approvers=_approvers,
            on_approved=_outcome("approved"),
            on_rejected=_outcome("rejected"),
            summary=_summary,
            url=lambda deal: reverse("sales:deal_detail", args=[deal.pk]),
        )
    )
