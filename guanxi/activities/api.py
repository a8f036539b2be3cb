"""/activities, /tasks, /notifications, /my-day and /timeline."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import File, Router
from ninja.files import UploadedFile
from ninja.responses import Status

from guanxi.activities import selectors, services
from guanxi.activities.models import Activity, Attachment, Notification, Task
from guanxi.activities.schemas import (
    ActivityIn,
    ActivityList,
    ActivityOut,
    ActivityPatch,
    AttachmentOut,
    MyDayOut,
    NotificationList,
    NotificationOut,
    ReadAllOut,
    TaskIn,
    TaskList,
    TaskOut,
    TaskPatch,
    TimelineOut,
)
from guanxi.api.auth import actor
from guanxi.core.errors import FieldError, ValidationFailed
from guanxi.identity.models import User

router = Router(tags=["follow-ups and tasks"])


def _user_ref(user: User | None) -> dict[str, Any] | None:
    return {"id": user.pk, "username": user.username} if user is not None else None


def attachment_as_dict(att: Attachment) -> dict[str, Any]:
    return {
        "id": att.pk,
        "name": att.name,
        "content_type": att.content_type,
        "size": att.size,
        "url": services._url("activities:attachment", att.pk),
    }


def activity_as_dict(activity: Activity, task_id: int | None = None) -> dict[str, Any]:
    return {
        "id": activity.pk,
        "kind": activity.kind,
        "content": activity.content,
        "outcome": activity.outcome,
        "occurred_at": activity.occurred_at,
        "target_entity": activity.target_entity,
        "target_id": activity.target_id,
        "owner": _user_ref(activity.owner),
        "next_followup_at": activity.next_followup_at,
        "task_id": task_id,
        "attachments": [attachment_as_dict(a) for a in activity.attachments.all()],
        "created_at": activity.created_at,
        "updated_at": activity.updated_at,
    }


def task_as_dict(task: Task) -> dict[str, Any]:
    return {
        "id": task.pk,
        "title": task.title,
        "description": task.description,
        "assignee": _user_ref(task.assignee),
        "owner": _user_ref(task.assignee),
        "due_at": task.due_at,
        "priority": task.priority,
        "done": task.done_at is not None,
        "done_at": task.done_at,
        "target_entity": task.target_entity,
        "target_id": task.target_id,
        "created_by": _user_ref(task.created_by),
        "source_activity_id": task.source_activity_id,
        "created_at": task.created_at,
        "updated_at": task.updated_at,
    }


def _user(user_id: int | None, field: str) -> User | None:
    if user_id is None:
        return None
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise ValidationFailed([FieldError(field, "No such active user.")])
    return user


# --- Follow-ups -------------------------------------------------------------------------


@router.get("/activities", response=ActivityList, summary="Follow-ups")
def activity_list(
    request: HttpRequest,
    target_entity: str = "",
    target_id: int | None = None,
    owner: int | None = None,
    kind: str = "",
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    """Follow-ups in the caller's scope, newest first; with `target_entity` and
    `target_id`, every follow-up on that record (404 when the record is out of scope)."""
    result = selectors.activity_list(
        actor=actor(request),
        target_entity=target_entity,
        target_id=target_id,
        owner=owner,
        kind=kind,
        page=page,
        page_size=page_size,
    )
    return result.as_api([activity_as_dict(a) for a in result.items])


@router.post("/activities", response={201: ActivityOut}, summary="Record a follow-up")
def activity_create(request: HttpRequest, payload: ActivityIn) -> Status[dict[str, Any]]:
    """Setting `next_followup_at` also creates a task for the caller due then (`task_id`)."""
    activity = services.activity_create(
        actor=actor(request),
        target_entity=payload.target_entity,
        target_id=payload.target_id,
        kind=payload.kind,
        content=payload.content,
        outcome=payload.outcome,
        occurred_at=payload.occurred_at,
        next_followup_at=payload.next_followup_at,
    )
    task = activity.tasks.order_by("id").first() if activity.next_followup_at else None
    return Status(201, activity_as_dict(activity, task.pk if task else None))


@router.get("/activities/{activity_id}", response=ActivityOut)
def activity_detail(request: HttpRequest, activity_id: int) -> dict[str, Any]:
    return activity_as_dict(selectors.activity_get(actor=actor(request), pk=activity_id))


@router.patch("/activities/{activity_id}", response=ActivityOut)
def activity_update(
    request: HttpRequest, activity_id: int, payload: ActivityPatch
) -> dict[str, Any]:
    caller = actor(request)
    activity = selectors.activity_get(actor=caller, pk=activity_id)
    services.activity_update(actor=caller, activity=activity, data=payload.dict(exclude_unset=True))
    return activity_as_dict(selectors.activity_get(actor=caller, pk=activity_id))


@router.delete("/activities/{activity_id}", response={204: None})
def activity_delete(request: HttpRequest, activity_id: int) -> Status[None]:
    caller = actor(request)
    services.activity_delete(
        actor=caller, activity=selectors.activity_get(actor=caller, pk=activity_id)
    )
    return Status(204, None)


@router.post(
    "/activities/{activity_id}/attachments",
    response={201: list[AttachmentOut]},
    summary="Attach files (multipart, field `files`)",
)
def activity_attach(
    request: HttpRequest, activity_id: int, files: File[list[UploadedFile]]
) -> Status[list[dict[str, Any]]]:
    caller = actor(request)
    activity = selectors.activity_get(actor=caller, pk=activity_id)
    saved = services.activity_attach(actor=caller, activity=activity, files=files)
    return Status(201, [attachment_as_dict(a) for a in saved])


# --- Tasks ------------------------------------------------------------------------------


@router.get("/tasks", response=TaskList, summary="Tasks")
def task_list(
    request: HttpRequest,
    assignee: int | None = None,
    done: bool | None = None,
    due_from: dt.datetime | None = None,
    due_to: dt.datetime | None = None,
    target_entity: str = "",
    target_id: int | None = None,
    q: str = "",
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    """Tasks assigned within the caller's scope or handed out by the caller;
    `due_from` inclusive, `due_to` exclusive."""
    result = selectors.task_list(
        actor=actor(request),
        assignee=assignee,
        done=done,
        due_from=due_from,
        due_to=due_to,
        target_entity=target_entity,
        target_id=target_id,
        q=q,
        page=page,
        page_size=page_size,
    )
    return result.as_api([task_as_dict(t) for t in result.items])


@router.post("/tasks", response={201: TaskOut}, summary="Create a task")
def task_create(request: HttpRequest, payload: TaskIn) -> Status[dict[str, Any]]:
    caller = actor(request)
    task = services.task_create(
        actor=caller,
        title=payload.title,
        description=payload.description,
        assignee=_user(payload.assignee_id, "assignee_id"),
        due_at=payload.due_at,
        priority=payload.priority,
        target_entity=payload.target_entity,
        target_id=payload.target_id,
    )
    return Status(201, task_as_dict(selectors.task_get(actor=caller, pk=task.pk)))


@router.get("/tasks/{task_id}", response=TaskOut)
def task_detail(request: HttpRequest, task_id: int) -> dict[str, Any]:
    return task_as_dict(selectors.task_get(actor=actor(request), pk=task_id))


@router.patch("/tasks/{task_id}", response=TaskOut)
def task_update(request: HttpRequest, task_id: int, payload: TaskPatch) -> dict[str, Any]:
    caller = actor(request)
    task = selectors.task_get(actor=caller, pk=task_id)
    data = payload.dict(exclude_unset=True)
    done = data.pop("done", None)
    if "assignee_id" in data:
        data["assignee"] = _user(data.pop("assignee_id"), "assignee_id")
    if data:
        task = services.task_update(actor=caller, task=task, data=data)
    if done is True:
        services.task_complete(actor=caller, task=task)
    elif done is False:
        services.task_reopen(actor=caller, task=task)
    return task_as_dict(selectors.task_get(actor=caller, pk=task_id))


@router.post("/tasks/{task_id}/complete", response=TaskOut, summary="Tick a task off")
def task_complete(request: HttpRequest, task_id: int) -> dict[str, Any]:
    caller = actor(request)
    services.task_complete(actor=caller, task=selectors.task_get(actor=caller, pk=task_id))
    return task_as_dict(selectors.task_get(actor=caller, pk=task_id))


@router.post("/tasks/{task_id}/reopen", response=TaskOut, summary="Open a done task again")
def task_reopen(request: HttpRequest, task_id: int) -> dict[str, Any]:
    caller = actor(request)
    services.task_reopen(actor=caller, task=selectors.task_get(actor=caller, pk=task_id))
    return task_as_dict(selectors.task_get(actor=caller, pk=task_id))


@router.delete("/tasks/{task_id}", response={204: None})
def task_delete(request: HttpRequest, task_id: int) -> Status[None]:
    caller = actor(request)
    services.task_delete(actor=caller, task=selectors.task_get(actor=caller, pk=task_id))
    return Status(204, None)


@router.get(
    "/my-day", response=MyDayOut, summary="The caller's overdue, today's and upcoming tasks"
)
def my_day(request: HttpRequest) -> dict[str, Any]:
    day = selectors.my_day(actor=actor(request))
    return {
        "now": day.now,
        "today_start": day.today_start,
        "today_end": day.today_end,
        "overdue": [task_as_dict(t) for t in day.overdue],
        "today": [task_as_dict(t) for t in day.today],
        "upcoming": [task_as_dict(t) for t in day.upcoming],
        "undated": [task_as_dict(t) for t in day.undated],
    }


# --- Notifications ----------------------------------------------------------------------


@router.get("/notifications", response=NotificationList, tags=["notifications"])
def notification_list(
    request: HttpRequest, unread: bool = True, page: int = 1, page_size: int = 50
) -> dict[str, Any]:
    """The caller's notifications, newest first (unread only unless `unread=false`)."""
    result = selectors.notification_list(
        actor=actor(request), unread_only=unread, page=page, page_size=page_size
    )
    return result.as_api(list(result.items))


@router.post("/notifications/read-all", response=ReadAllOut, tags=["notifications"])
def notification_read_all(request: HttpRequest) -> dict[str, int]:
    return {"marked": services.notification_mark_all_read(actor=actor(request))}


@router.post(
    "/notifications/{notification_id}/read", response=NotificationOut, tags=["notifications"]
)
def notification_read(request: HttpRequest, notification_id: int) -> Notification:
    return services.notification_mark_read(actor=actor(request), notification_id=notification_id)


# --- Timeline ---------------------------------------------------------------------------


@router.get("/timeline", response=TimelineOut, summary="The 360° timeline of a record")
def timeline(
    request: HttpRequest, entity: str, id: int, page: int = 1, page_size: int = 50
) -> dict[str, Any]:
    """Follow-ups, tasks, field changes, conversions and ownership moves of one record,
    newest first. Filter with `kind` (repeat it or separate with commas): followup, task,
    created, change, conversion, ownership, other. 404 when the record is out of scope."""
    kinds = [k for raw in request.GET.getlist("kind") for k in raw.split(",") if k.strip()]
    result = selectors.timeline(
        actor=actor(request),
        target_entity=entity,
        target_id=id,
        kinds=kinds,
        page=page,
        page_size=page_size,
    )
    return result.as_api([item.as_dict() for item in result.items])
