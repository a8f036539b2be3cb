"""Permission entities of finance: contracts, and payments (receipts) that inherit the
scope of their contract."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from guanxi.core.permissions import Entity, register
from guanxi.finance.models import Contract, Receipt

if TYPE_CHECKING:
    from guanxi.identity.models import User

CONTRACT = register(
    Entity(
        key="contract",
        model=Contract,
        label=_("Contracts"),
        # A role may hide contract values (e.g. for service staff) while showing the rest.
        maskable={"amount": "amount"},
    )
)
# Receipts have no owner of their own: they belong to whoever owns the contract. The
# selectors go further and filter on the contract's scoped queryset (see selectors.py).
PAYMENT = register(
    Entity(key="payment", model=Receipt, label=_("Payments"), owner_field="contract__owner")
)


def owned_counts(user: User) -> dict[str, int]:
    """Contracts ``user`` owns (deleting the user is refused while any remain)."""
    return {"contract": Contract.objects.filter(owner=user).count()}
