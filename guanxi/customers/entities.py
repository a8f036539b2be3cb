"""Permission entities of customers: accounts (visible to collaborators too) and contacts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guanxi.core.permissions import Entity, register
from guanxi.customers.models import Account, Contact

if TYPE_CHECKING:
    from guanxi.identity.models import User

MASKABLE = {"mobile": "phone", "phone": "phone", "email": "email"}


def _collaborating(user: User) -> Q:
    """Accounts ``user`` collaborates on (a subquery: no join, no duplicate rows)."""
    through = Account.collaborators.through
    return Q(pk__in=through.objects.filter(user_id=user.pk).values("account_id"))


ACCOUNT = register(
    Entity(
        key="account",
        model=Account,
        label=_("Accounts"),
        maskable=dict(MASKABLE),
        extra_visibility=_collaborating,
    )
)
CONTACT = register(
    Entity(key="contact", model=Contact, label=_("Contacts"), maskable=dict(MASKABLE))
)


def owned_counts(user: User) -> dict[str, int]:
    """Records ``user`` owns (deleting the user is refused while any remain)."""
    return {
        "account": Account.objects.filter(owner=user).count(),
        "contact": Contact.objects.filter(owner=user).count(),
    }
