"""Writes of the analytics: refreshing the stored customer scores on demand."""

from __future__ import annotations

import datetime as dt

from guanxi.core import audit, permissions
from guanxi.identity.models import User
from guanxi.reports.analytics import scores


def scores_refresh(*, actor: User | None, now: dt.datetime | None = None) -> dict[str, int]:
    """Recompute RFM and churn scores (anyone who may see accounts may ask; the periodic
    task passes no actor)."""
    if actor is not None:
        permissions.require(actor, "account", "view")
    result = scores.refresh(now=now)
    audit.record(
        actor=actor,
        action="refresh",
        entity="customer_score",
        object_repr="RFM / churn",
        changes={k: [None, v] for k, v in result.items()},
    )
    return result
