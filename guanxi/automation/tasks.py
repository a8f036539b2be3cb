"""Queue tasks of the automation app (periodic ones live in ``guanxi.schedule``)."""

from __future__ import annotations

from typing import Any

from huey.contrib.djhuey import db_task


@db_task()
def automation_handle_event(
    name: str, payload: dict[str, Any], actor_id: int | None, depth: int, event_key: str
) -> int:
    """Run the rules listening to one event (one task per event)."""
    from guanxi.automation.rules.engine import handle_event

    return handle_event(name, payload, actor_id, depth, event_key)


@db_task()
def automation_retry_action(run_id: int, index: int, attempt: int) -> bool:
    """Try a failed rule action again (scheduled with a growing delay)."""
    from guanxi.automation.rules.engine import retry_action

    return retry_action(run_id, index, attempt)
