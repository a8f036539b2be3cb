"""The public pool (公海) of leads and accounts: department pools, claim, release, lock,
reclaim rules with warnings and a preview, and the pool settings.

One mechanism serves every pooled kind (see :mod:`guanxi.leads.pool.entities`); the
``lead_*`` / ``account_*`` functions are its typed doors for each kind.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

from guanxi.leads.pool.claims import claim, lock, pool_get_for_user, release
from guanxi.leads.pool.entities import ACCOUNT, LEAD, PoolEntity, pool_entities, pool_entity
from guanxi.leads.pool.pools import (
    owner_change_fields,
    pool_create,
    pool_delete,
    pool_label,
    pool_rename,
    route_owners,
    visible_pools,
    visible_q,
)
from guanxi.leads.pool.reclaim import (
    Preview,
    active_rules,
    reclaim_due,
    reclaim_preview,
    rule_queryset,
    rule_save,
)
from guanxi.leads.pool.settings import settings_save

if TYPE_CHECKING:
    from guanxi.customers.models import Account
    from guanxi.identity.models import User
    from guanxi.leads.models import Lead

__all__ = [
    "ACCOUNT",
    "LEAD",
    "PoolEntity",
    "Preview",
    "account_claim",
    "account_lock",
    "account_release",
    "accounts_reclaim_due",
    "active_rules",
    "claim",
    "lead_claim",
    "lead_lock",
    "lead_release",
    "leads_reclaim_due",
    "lock",
    "owner_change_fields",
    "pool_create",
    "pool_delete",
    "pool_entities",
    "pool_entity",
    "pool_get_for_user",
    "pool_label",
    "pool_queryset",
    "pool_rename",
    "reclaim_due",
    "reclaim_preview",
    "release",
    "route_owners",
    "rule_queryset",
    "rule_save",
    "settings_save",
    "visible_pools",
    "visible_q",
]


def pool_queryset(entity: str = "lead") -> QuerySet[Any]:
    """Every record of ``entity`` in any pool (unscoped: callers add :func:`visible_q`)."""
    return pool_entity(entity).records().filter(owner__isnull=True)


def lead_claim(*, actor: User, lead: Lead | int, now: dt.datetime | None = None) -> Lead:
    return claim(actor=actor, entity="lead", record=lead, now=now)


def lead_release(
    *, actor: User, lead: Lead | int, reason: str, now: dt.datetime | None = None
) -> Lead:
    return release(actor=actor, entity="lead", record=lead, reason=reason, now=now)


def lead_lock(*, actor: User, lead: Lead | int, locked: bool = True) -> Lead:
    return lock(actor=actor, entity="lead", record=lead, locked=locked)


def account_claim(
    *, actor: User, account: Account | int, now: dt.datetime | None = None
) -> Account:
    return claim(actor=actor, entity="account", record=account, now=now)


def account_release(
    *, actor: User, account: Account | int, reason: str, now: dt.datetime | None = None
) -> Account:
    return release(actor=actor, entity="account", record=account, reason=reason, now=now)


def account_lock(*, actor: User, account: Account | int, locked: bool = True) -> Account:
    return lock(actor=actor, entity="account", record=account, locked=locked)


def leads_reclaim_due(now: dt.datetime | None = None) -> int:
    """Apply the lead rules (warnings, then reclaims); returns leads reclaimed."""
    return reclaim_due(now, entity="lead")


def accounts_reclaim_due(now: dt.datetime | None = None) -> int:
    """Apply the account rules (warnings, then reclaims); returns accounts reclaimed."""
    return reclaim_due(now, entity="account")
