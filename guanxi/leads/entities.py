"""Permission entity of leads."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from guanxi.core.permissions import Entity, register
from guanxi.leads.models import Lead

if TYPE_CHECKING:
    from guanxi.identity.models import User

LEAD = register(
    Entity(
        key="lead",
        model=Lead,
        label=_("Leads"),
        maskable={"mobile": "phone", "phone": "phone", "email": "email"},
    )
)


def owned_counts(user: User) -> dict[str, int]:
    """Leads ``user`` owns (deleting the user is refused while any remain)."""
    return {"lead": Lead.objects.filter(owner=user).count()}
