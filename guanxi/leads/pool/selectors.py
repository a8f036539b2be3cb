"""Reads of the public pool: the records in the pools a user sees, one page at a time."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Q
from django.utils.translation import gettext as _

from guanxi.core import permissions
from guanxi.core.errors import FieldError, ValidationFailed
from guanxi.core.pagination import Page, paginate
from guanxi.leads.pool.entities import pool_entity
from guanxi.leads.pool.pools import visible_pools, visible_q

if TYPE_CHECKING:
    from guanxi.identity.models import User

COMPANY = "company"
# Pools are browsed, not counted: beyond this the page says "1,000+" (count_exact false),
# which keeps the bounded count cheap however full the pools get.
POOL_COUNT_LIMIT = 1000


def pool_list(
    *,
    actor: User,
    entity: str,
    q: str = "",
    pool: str | int | None = None,
    tier: str = "",
    page: Any = 1,
    page_size: Any = 50,
) -> Page:
    """Records of ``entity`` in the pools ``actor`` sees (needs ``view``), newest first.

    ``pool``: ``"company"`` for the company pool, a department id for that department's
    pool (it must be one the actor sees: 422 otherwise), empty for all visible pools.
    ``tier`` (accounts): A, B or C.
    """
    kind = pool_entity(entity)
    permissions.require(actor, kind.key, "view")
    qs = kind.records().filter(visible_q(actor, kind.key))
    errors: list[FieldError] = []
    if pool not in (None, ""):
        if str(pool) == COMPANY:
            qs = qs.filter(pool_department__isnull=True)
        else:
            seen = {str(dept_id) for dept_id, _name in visible_pools(actor, kind.key) if dept_id}
            if str(pool) not in seen:
                errors.append(FieldError("pool", _("No such pool.")))
            else:
                qs = qs.filter(pool_department_id=int(str(pool)))
    if tier:
        if not kind.tiered or tier not in ("A", "B", "C"):
            errors.append(FieldError("tier", _("Tiers are A, B and C.")))
        else:
            qs = qs.filter(tier=tier)
    if errors:
        raise ValidationFailed(errors)
    q = (q or "").strip()
    if q:
        cond = Q(name__icontains=q)
        if kind.key == "lead":
            cond |= Q(company__icontains=q)
        qs = qs.filter(cond)
    if kind.key == "lead":
        qs = qs.select_related("source")
    qs = qs.select_related("pool_department").order_by("-created_at", "-id")
    return paginate(qs, page, page_size, count_limit=POOL_COUNT_LIMIT)
