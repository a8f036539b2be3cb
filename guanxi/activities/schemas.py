"""API schemas of follow-ups, tasks, notifications, "my day" and the timeline."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema


class UserRef(Schema):
    id: int
    username: str


class AttachmentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    url: str


class ActivityOut(Schema):
    id: int
    kind: str
    content: str
    outcome: str
    occurred_at: dt.datetime
    target_entity: str
    target_id: int
    owner: UserRef
    next_followup_at: dt.datetime | None
    task_id: int | None = None
    attachments: list[AttachmentOut]
    created_at: dt.datetime
    updated_at: dt.datetime


class ActivityList(Schema):
    items: list[ActivityOut]
    count: int
    count_exact: bool
    page: int
    page_size: int


class ActivityIn(Schema):
    target_entity: str
    target_id: int
    kind: str = "call"
    content: str = ""
    outcome: str = ""
    occurred_at: dt.datetime | None = None
    next_followup_at: dt.datetime | None = None


class ActivityPatch(Schema):
    kind: str | None = None
    content: str | None = None
    outcome: str | None = None
    occurred_at: dt.datetime | None = None


class TaskOut(Schema):
    id: int
    title: str
    description: str
    assignee: UserRef
    owner: UserRef
    due_at: dt.datetime | None
    priority: str
    done: bool
    done_at: dt.datetime | None
    target_entity: str
    target_id: int | None
    created_by: UserRef | None
    source_activity_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


class TaskList(Schema):
    items: list[TaskOut]
    count: int
    count_exact: bool
    page: int
    page_size: int


class TaskIn(Schema):
    title: str
    description: str = ""
    assignee_id: int | None = None
    due_at: dt.datetime | None = None
    priority: str = "normal"
    target_entity: str = ""
    target_id: int | None = None


class TaskPatch(Schema):
    title: str | None = None
    description: str | None = None
    assignee_id: int | None = None
    due_at: dt.datetime | None = None
    priority: str | None = None
    done: bool | None = None


class NotificationOut(Schema):
    id: int
    verb: str
    title: str
    body: str
    url: str
    target_entity: str
    target_id: int | None
    created_at: dt.datetime
    read_at: dt.datetime | None


class NotificationList(Schema):
    items: list[NotificationOut]
    count: int
    count_exact: bool
    page: int
    page_size: int


class ReadAllOut(Schema):
    marked: int


class MyDayOut(Schema):
    now: dt.datetime
    today_start: dt.datetime
    today_end: dt.datetime
    overdue: list[TaskOut]
    today: list[TaskOut]
    upcoming: list[TaskOut]
    undated: list[TaskOut]


class TimelineItemOut(Schema):
    kind: str
    sub_kind: str
    at: dt.datetime
    actor: str
    title: str
    body: str
    changes: dict[str, Any]
    url: str
    id: int | None
    done: bool | None


class TimelineOut(Schema):
    items: list[TimelineItemOut]
    count: int
    count_exact: bool
    page: int
    page_size: int
