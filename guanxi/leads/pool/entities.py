"""What the public pool needs to know about each kind of record it holds.

The pool mechanism (claims, releases, locks, reclaim rules, department pools) is written
once over :class:`PoolEntity`; leads and accounts are the two registered kinds. A kind's
messages are its own so each reads naturally in Chinese (线索 / 客户).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from guanxi.core import events
from guanxi.customers.models import Account
from guanxi.leads.models import Lead, PoolSettings

# Kinds of reclaim condition a rule may set (PoolRule field names).
NO_FOLLOWUP = "no_followup_days"
NOT_CONVERTED = "not_converted_days"
NO_DEAL = "no_deal_days"
NOT_WON = "not_won_days"


@dataclass(frozen=True)
class PoolEntity:
    """One kind of pooled record.

    ``open_q`` selects the records that can be in the pool at all (a converted lead
    cannot); ``event_field`` is the PoolEvent foreign key naming the record; ``conditions``
    are the rule fields that apply to this kind.
    """

    key: str
    model: type[models.Model]
    event_field: str
    detail_url: str
    owned_cap: str
    locked_cap: str
    conditions: tuple[str, ...]
    messages: dict[str, Promise]
    claimed: str
    released: str
    reclaimed: str
    open_q: Callable[[], Q] = Q
    tiered: bool = False
    # The Deal foreign key that links a deal to a record of this kind.
    deal_field: str = ""
    # A text field that says why the record has its owner (leads: ``assigned_reason``);
    # every pool move rewrites it.
    reason_field: str = ""

    def message(self, key: str, **params: Any) -> str:
        text = str(self.messages[key])
        return text % params if params else text

    def max_owned(self, conf: PoolSettings) -> int:
        return int(getattr(conf, self.owned_cap))

    def max_locked(self, conf: PoolSettings) -> int:
        return int(getattr(conf, self.locked_cap))

    def why(self, text: str) -> dict[str, str]:
        """The update that records why the record now has its owner (or none)."""
        return {self.reason_field: text} if self.reason_field else {}

    def records(self) -> models.QuerySet[Any]:
        return self.model._default_manager.filter(self.open_q())


LEAD = PoolEntity(
    key="lead",
    model=Lead,
    event_field="lead",
    detail_url="leads:detail",
    owned_cap="max_owned",
    locked_cap="max_locked",
    conditions=(NO_FOLLOWUP, NOT_CONVERTED, NO_DEAL),
    deal_field="lead",
    reason_field="assigned_reason",
    open_q=lambda: ~Q(status=Lead.Status.CONVERTED),
    claimed=events.define("lead.claimed", "A lead was claimed from the public pool"),
    released=events.define("lead.released", "A lead was released to the public pool"),
    reclaimed=events.define("lead.reclaimed", "A lead was reclaimed to the public pool"),
    messages={
        "already_own": _("You already own this lead."),
        "not_in_pool": _("This lead is not in the public pool (already claimed)."),
        "closed": _("This lead has been converted."),
        "cap": _(
            "You already own %(count)s leads, the most allowed (%(max)s); release some first."
        ),
        "cooldown": _("You gave this lead up recently; you can claim it again after %(date)s."),
        "race": _("Someone else has just claimed this lead."),
        "already_pooled": _("This lead is already in the public pool."),
        "changed": _("This lead has just changed owner; reload and try again."),
        "lock_unowned": _("Only an owned lead can be locked."),
        "lock_cap": _("The owner already has %(count)s locked leads, the most allowed."),
        "warn_title": _("Lead %(name)s goes back to the public pool in %(days)s days"),
    },
)

ACCOUNT = PoolEntity(
    key="account",
    model=Account,
    event_field="account",
    detail_url="customers:account_detail",
    owned_cap="max_owned_accounts",
    locked_cap="max_locked_accounts",
    conditions=(NO_FOLLOWUP, NO_DEAL, NOT_WON),
    tiered=True,
    deal_field="account",
    claimed=events.define("account.claimed", "An account was claimed from the public pool"),
    released=events.define("account.released", "An account was released to the public pool"),
    reclaimed=events.define("account.reclaimed", "An account was reclaimed to the public pool"),
    messages={
        "already_own": _("You already own this account."),
        "not_in_pool": _("This account is not in the public pool (already claimed)."),
        "closed": _("This account cannot be claimed."),
        "cap": _(
            "You already own %(count)s accounts, the most allowed (%(max)s); release some first."
        ),
        "cooldown": _("You gave this account up recently; you can claim it again after %(date)s."),
        "race": _("Someone else has just claimed this account."),
        "already_pooled": _("This account is already in the public pool."),
        "changed": _("This account has just changed owner; reload and try again."),
        "lock_unowned": _("Only an owned account can be locked."),
        "lock_cap": _("The owner already has %(count)s locked accounts, the most allowed."),
        "warn_title": _("Account %(name)s goes back to the public pool in %(days)s days"),
    },
)

_KINDS = {k.key: k for k in (LEAD, ACCOUNT)}


def pool_entity(key: str) -> PoolEntity:
    """The pooled kind ``key`` ("lead" or "account"); KeyError for any other."""
    return _KINDS[key]


def pool_entities() -> list[PoolEntity]:
    return list(_KINDS.values())
