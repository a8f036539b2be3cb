"""Background work of the activities app.

``guanxi.activities.tasks.send_due_reminders`` runs every minute; ``guanxi.schedule`` lists it with the
other periodic tasks.
"""

from __future__ import annotations

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from guanxi.activities import services


@db_periodic_task(crontab(minute="*"), name="send_due_reminders")
def send_due_reminders() -> int:
    """Notify assignees of tasks that have fallen due (each task once)."""
    return services.tasks_send_due_reminders(timezone.now())
