"""Permission entity of the sales app: deals (visible to their collaborators too)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guanxi.core.permissions import Entity, register
from guanxi.sales.models import Deal

if TYPE_CHECKING:
    from guanxi.identity.models import User


def _collaborating(user: User) -> Q:
    """Deals ``user`` collaborates on (a subquery: no join, no duplicate rows)."""
    through = Deal.collaborators.through
    return Q(pk__in=through.objects.filter(user_id=user.pk).values("deal_id"))


DEAL = register(
    Entity(
        key="deal",
        model=Deal,
        label=_("Deals"),
        # A role may hide what deals are worth (amounts, and the board's totals with them).
        maskable={"amount": "money"},
        extra_visibility=_collaborating,
    )
)


def owned_counts(user: User) -> dict[str, int]:
    """Deals ``user`` owns (deleting the user is refused while any remain)."""
    return {"deal": Deal.objects.filter(owner=user).count()}
