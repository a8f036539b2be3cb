"""Background work of the leads app (djhuey imports this module in the worker)."""

from __future__ import annotations

from huey.contrib.djhuey import db_task


@db_task()
def leads_rescore_all() -> int:
    """Recompute every lead's score after the scoring rules changed."""
    from guanxi.leads.scoring import leads_rescore

    return leads_rescore()
