"""Queue tasks of the automation app: the rules engine, e-mail, robot channels and
webhooks (periodic ones live in ``guanxi.schedule``)."""

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


@db_task(retries=3, retry_delay=60)
def automation_send_mail(log_pk: int) -> str:
    from guanxi.automation.notify import deliver

    return deliver(log_pk)


@db_task(retries=3, retry_delay=60)
def automation_channel_post(channel_pk: int, title: str, text: str, url: str) -> None:
    from guanxi.automation.channels import send_now
    from guanxi.automation.models import RobotChannel

    channel = RobotChannel.objects.filter(pk=channel_pk, active=True).first()
    if channel is not None:
        send_now(channel, title=title, text=text, url=url)


@db_task()
def automation_webhook_deliver(delivery_pk: int) -> str:
    """First attempt right after the event; later ones come from the retry scanner."""
    from guanxi.automation.webhooks import attempt

    return attempt(delivery_pk)
