"""Lead, account and contact factories that go through the real services."""

from __future__ import annotations

import itertools
from typing import Any

from guanxi.customers import services as customer_services
from guanxi.customers.models import Account, Contact
from guanxi.identity.models import User
from guanxi.leads import services as lead_services
from guanxi.leads.models import Lead

_seq = itertools.count(1)


def _mobile() -> str:
    return f"137{next(_seq):08d}"


def lead(actor: User, **data: Any) -> Lead:
    n = next(_seq)
    values: dict[str, Any] = {"name": f"线索{n}", "company": f"公司{n}", "mobile": _mobile()}
    values.update(data)
    allow = bool(values.pop("allow_duplicate", False))
    return lead_services.lead_create(actor=actor, data=values, allow_duplicate=allow)


def account(actor: User, **data: Any) -> Account:
    values: dict[str, Any] = {"name": f"客户公司{next(_seq)}"}
    values.update(data)
    return customer_services.account_create(actor=actor, data=values)


def contact(actor: User, **data: Any) -> Contact:
    values: dict[str, Any] = {"name": f"联系人{next(_seq)}", "mobile": _mobile()}
    values.update(data)
    allow = bool(values.pop("allow_duplicate", False))
    return customer_services.contact_create(actor=actor, data=values, allow_duplicate=allow)


def deal(actor: User, **data: Any) -> Any:
    """A deal through the real service (an account of the actor's is made when none given)."""
    from guanxi.sales import services as sales_services

    values: dict[str, Any] = {"name": f"商机{next(_seq)}"}
    values.update(data)
    if "account_id" not in values:
        values["account_id"] = account(actor).pk
    return sales_services.deal_create(actor=actor, data=values)
