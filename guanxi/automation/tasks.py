"""Huey tasks of the notification centre (e-mail, robot channels, webhooks)."""

from __future__ import annotations

from huey.contrib.djhuey import db_task


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
