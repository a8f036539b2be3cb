"""Sections other apps add to the account page (deals, contracts, tickets …).

An app registers a panel in its ``AppConfig.ready``::

    register_account_panel(AccountPanel("contracts", "finance/_account_panel.html", ctx))

``context(actor, account)`` returns the template's context (read through the app's own
scoped selectors), or None to leave the panel out for this viewer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from guanxi.customers.models import Account
    from guanxi.identity.models import User


@dataclass(frozen=True)
class AccountPanel:
    key: str
    template: str
    context: Callable[[User, Account], dict[str, Any] | None]
    order: int = 100


_panels: dict[str, AccountPanel] = {}


def register_account_panel(panel: AccountPanel) -> AccountPanel:
    _panels[panel.key] = panel
    return panel


def panels_for(actor: User, account: Account) -> list[dict[str, Any]]:
    """The panels ``actor`` gets on ``account``'s page, in order: {key, template, context}."""
    out: list[dict[str, Any]] = []
    for panel in sorted(_panels.values(), key=lambda p: (p.order, p.key)):
        context = panel.context(actor, account)
        if context is not None:
            out.append({"key": panel.key, "template": panel.template, "context": context})
    return out
