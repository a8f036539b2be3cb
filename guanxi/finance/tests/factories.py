"""Finance test data built through the real services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from guanxi.customers.models import Account
from guanxi.finance import payments, services
from guanxi.finance.models import Contract, FinanceSettings
from guanxi.identity.models import User
from guanxi.tests_support import crm_factories


def settings(threshold: str = "100000.00", renewal_days: int = 30) -> FinanceSettings:
    conf = FinanceSettings.current()
    conf.approval_threshold = Decimal(threshold)
    conf.renewal_days = renewal_days
    conf.save()
    return conf


def contract(
    actor: User,
    *,
    account: Account | None = None,
    amount: str = "30000.00",
    activate: bool = True,
    plan: list[tuple[str, str]] | None = None,
    **data: Any,
) -> Contract:
    """A contract of ``actor`` (draft, or active when ``activate``), with an optional plan
    of ``(due_on, amount)`` pairs."""
    account = account or crm_factories.account(actor)
    values: dict[str, Any] = {
        "title": "年度服务合同",
        "account_id": account.pk,
        "amount": amount,
        "signed_on": dt.date(2026, 1, 5),
        "starts_on": dt.date(2026, 1, 5),
        "ends_on": dt.date(2026, 12, 31),
    }
    values.update(data)
    c = services.contract_create(actor=actor, data=values)
    if plan:
        services.plan_set(
            actor=actor,
            contract=c,
            installments=[{"due_on": due, "amount": amt} for due, amt in plan],
        )
    if activate:
        services.contract_activate(actor=actor, contract=c)
    c.refresh_from_db()
    return c


def receipt(actor: User, contract: Contract, amount: str, **data: Any) -> Any:
    values: dict[str, Any] = {"received_on": dt.date(2026, 2, 1), "amount": amount}
    values.update(data)
    return payments.receipt_create(actor=actor, contract=contract, data=values)
