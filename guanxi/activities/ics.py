"""The personal calendar feed (RFC 5545) that Google Calendar and Outlook subscribe to."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.conf import settings
from icalendar import Calendar, Event

from guanxi.activities.models import Task
from guanxi.identity.models import User

EVENT_LENGTH = dt.timedelta(minutes=30)


def _utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC)


def calendar_for(
    user: User,
    tasks: list[Task],
    *,
    now: dt.datetime,
    absolute: Callable[[str], str],
    task_url: str,
    host: str,
) -> bytes:
    """One VEVENT per open task with a due time; times in UTC, stable UIDs."""
    cal = Calendar()
    cal.add("prodid", "-//Guanxi CRM//Tasks//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"{settings.GUANXI_NAME} · {user.label}")
    cal.add("x-wr-timezone", user.time_zone or settings.TIME_ZONE)
    # Ask clients to refresh hourly (Outlook honours this, Google decides itself).
    cal.add("x-published-ttl", "PT1H")
    for task in tasks:
        if task.due_at is None:
            continue
        event = Event()
        event.add("uid", f"task-{task.pk}@{host}")
        event.add("dtstamp", _utc(now))
        event.add("last-modified", _utc(task.updated_at))
        event.add("dtstart", _utc(task.due_at))
        event.add("dtend", _utc(task.due_at + EVENT_LENGTH))
        event.add("summary", task.title)
        if task.description:
            event.add("description", task.description)
        if task_url:
            event.add("url", absolute(task_url))
        event.add("priority", {"urgent": 1, "high": 3, "normal": 5, "low": 9}[task.priority])
        event.add("status", "CONFIRMED")
        cal.add_component(event)
    return bytes(cal.to_ical())
