"""Every write of follow-ups, tasks and notifications.

Each service checks permission and scope, validates, writes, records the audit event in
the same transaction and emits its domain event (delivered after commit).
"""

from __future__ import annotations

import datetime as dt
import mimetypes
import zoneinfo
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from guanxi.activities import targets
from guanxi.activities.models import Activity, Attachment, Notification, Task
from guanxi.core import audit, events, permissions
from guanxi.core.errors import FieldError, OutOfScope, ValidationFailed
from guanxi.core.models import AuditEvent
from guanxi.identity.models import User

A = AuditEvent.Action

FOLLOWUP_CREATED = events.define("followup.created", "A follow-up was recorded on a record")
FOLLOWUP_UPDATED = events.define("followup.updated", "A follow-up was changed")
FOLLOWUP_DELETED = events.define("followup.deleted", "A follow-up was deleted")
TASK_CREATED = events.define("task.created", "A task was created or assigned")
TASK_UPDATED = events.define("task.updated", "A task was changed (title, due time, assignee …)")
TASK_COMPLETED = events.define("task.completed", "A task was ticked off")
TASK_REOPENED = events.define("task.reopened", "A done task was opened again")
TASK_DELETED = events.define("task.deleted", "A task was deleted")
TASK_DUE = events.define("task.due", "A task fell due and its assignee was reminded")
TASK_OVERDUE = events.define("task.overdue", "An open task is a day or more past its due time")
OVERDUE_AFTER = dt.timedelta(days=1)

DEFAULT_MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
MAX_ATTACHMENTS = 10


def max_attachment_bytes() -> int:
    return int(getattr(settings, "GUANXI_ATTACHMENT_MAX_BYTES", DEFAULT_MAX_ATTACHMENT_BYTES))


def _url(name: str, *args: Any) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:  # the UI is not mounted (API-only deployments, some tests)
        return ""


def user_tz(user: User) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(user.time_zone or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _aware(value: dt.datetime | None, actor: User) -> dt.datetime | None:
    """A naive time (a datetime-local input, an API call without offset) is the actor's."""
    if value is None:
        return None
    if timezone.is_naive(value):
        return value.replace(tzinfo=user_tz(actor))
    return value


def _text(
    errors: list[FieldError], field: str, value: Any, max_len: int | None, required: bool = False
) -> str:
    text = str(value or "").strip()
    if required and not text:
        errors.append(FieldError(field, _("This field is required.")))
    elif max_len is not None and len(text) > max_len:
        errors.append(FieldError(field, _("At most %(n)d characters.") % {"n": max_len}))
    return text


def _choice(errors: list[FieldError], field: str, value: Any, choices: Iterable[str]) -> str:
    text = str(value or "").strip()
    allowed = list(choices)
    if text not in allowed:
        errors.append(FieldError(field, _("Choose one of: %(c)s") % {"c": ", ".join(allowed)}))
    return text


def _size_label(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB"


def _check_files(errors: list[FieldError], files: Sequence[Any]) -> None:
    limit = max_attachment_bytes()
    if len(files) > MAX_ATTACHMENTS:
        errors.append(
            FieldError(
                "attachments", _("At most %(n)d files per follow-up.") % {"n": MAX_ATTACHMENTS}
            )
        )
    for upload in files:
        size = int(getattr(upload, "size", 0) or 0)
        if size > limit:
            errors.append(
                FieldError(
                    "attachments",
                    _("%(name)s is %(size)s; files may be at most %(limit)s.")
                    % {
                        "name": getattr(upload, "name", "?"),
                        "size": _size_label(size),
                        "limit": _size_label(limit),
                    },
                )
            )
        elif size == 0:
            errors.append(
                FieldError(
                    "attachments",
                    _("%(name)s is empty.") % {"name": getattr(upload, "name", "?")},
                )
            )


def _save_files(activity: Activity, files: Sequence[Any]) -> list[Attachment]:
    saved: list[Attachment] = []
    for upload in files:
        name = str(getattr(upload, "name", "") or "file").rsplit("/", 1)[-1][:255]
        content_type = (
            getattr(upload, "content_type", None)
            or mimetypes.guess_type(name)[0]
            or "application/octet-stream"
        )
        att = Attachment(
            activity=activity,
            name=name,
            content_type=str(content_type)[:100],
            size=int(upload.size),
        )
        att.file.save(name, upload if isinstance(upload, File) else File(upload), save=False)
        att.save()
        saved.append(att)
    return saved


# --- Follow-ups -------------------------------------------------------------------------


def activity_create(
    *,
    actor: User,
    target_entity: str,
    target_id: Any,
    kind: str,
    content: str,
    outcome: str = "",
    occurred_at: dt.datetime | None = None,
    next_followup_at: dt.datetime | None = None,
    attachments: Sequence[Any] = (),
) -> Activity:
    """Record a follow-up on a record in the actor's scope.

    Updates the record's last-contacted time through its ``on_contacted`` hook and, when
    ``next_followup_at`` is set, creates a task for the actor due then.
    """
    permissions.require(actor, "activity", "create")
    target, obj = targets.resolve(actor, target_entity, target_id)
    errors: list[FieldError] = []
    kind = _choice(errors, "kind", kind, Activity.Kind.values)
    content = _text(errors, "content", content, None, required=not attachments)
    outcome = _text(errors, "outcome", outcome, 200)
    occurred = _aware(occurred_at, actor) or timezone.now()
    next_at = _aware(next_followup_at, actor)
    if next_at is not None:
        if next_at <= occurred:
            errors.append(
                FieldError("next_followup_at", _("The next follow-up must be later than this one."))
            )
        elif not permissions.can(actor, "task", "create"):
            errors.append(FieldError("next_followup_at", _("You cannot create tasks.")))
    _check_files(errors, attachments)
    if errors:
        raise ValidationFailed(errors)
    label = target.label_of(obj)
    with transaction.atomic():
        activity = Activity.objects.create(
            kind=kind,
            content=content,
            outcome=outcome,
            occurred_at=occurred,
            target_entity=target_entity,
            target_id=obj.pk,
            owner=actor,
            next_followup_at=next_at,
        )
        files = _save_files(activity, attachments)
        audit.record(
            actor=actor,
            action=A.CREATE,
            entity="activity",
            obj=activity,
            changes={
                "kind": [None, kind],
                "target": [None, f"{target_entity}#{obj.pk} {label}"],
                "next_followup_at": [None, next_at],
                "attachments": [None, [f.name for f in files]],
            },
        )
        if target.on_contacted is not None:
            target.on_contacted(obj, occurred)
        task: Task | None = None
        if next_at is not None:
            task = _task_insert(
                actor=actor,
                title=(_("Follow up: %(label)s") % {"label": label})[:200],
                description=content[:1000],
                assignee=actor,
                due_at=next_at,
                priority=Task.Priority.NORMAL,
                target_entity=target_entity,
                target_id=obj.pk,
                source_activity=activity,
            )
        events.emit(
            FOLLOWUP_CREATED,
            {
                "id": activity.pk,
                "kind": kind,
                "target_entity": target_entity,
                "target_id": obj.pk,
                "owner_id": actor.pk,
                "occurred_at": occurred.isoformat(),
                "next_followup_at": next_at.isoformat() if next_at else None,
                "task_id": task.pk if task else None,
            },
            actor_id=actor.pk,
        )
    return activity


def _activity_writable(actor: User, activity: Activity, action: str) -> Activity:
    """The author may change their own follow-up; others need the action in scope."""
    if activity.owner_id == actor.pk and permissions.can(actor, "activity", "view"):
        return activity
    found: Activity = permissions.get_for_user(actor, "activity", activity.pk, action)
    return found


ACTIVITY_FIELDS = ("kind", "content", "outcome", "occurred_at")


def activity_update(*, actor: User, activity: Activity, data: dict[str, Any]) -> Activity:
    """Change the kind, content, outcome or time of a follow-up."""
    activity = _activity_writable(actor, activity, "edit")
    errors: list[FieldError] = []
    clean: dict[str, Any] = {}
    if "kind" in data:
        clean["kind"] = _choice(errors, "kind", data["kind"], Activity.Kind.values)
    if "content" in data:
        clean["content"] = _text(errors, "content", data["content"], None, required=True)
    if "outcome" in data:
        clean["outcome"] = _text(errors, "outcome", data["outcome"], 200)
    if "occurred_at" in data:
        if data["occurred_at"] is None:
            errors.append(FieldError("occurred_at", _("This field is required.")))
        else:
            clean["occurred_at"] = _aware(data["occurred_at"], actor)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        before = audit.snapshot(activity, list(clean))
        for key, value in clean.items():
            setattr(activity, key, value)
        activity.save()
        changes = audit.diff(before, audit.snapshot(activity, list(clean)))
        if changes:
            audit.record(
                actor=actor, action=A.UPDATE, entity="activity", obj=activity, changes=changes
            )
            events.emit(
                FOLLOWUP_UPDATED, {"id": activity.pk, "changes": list(changes)}, actor_id=actor.pk
            )
    return activity


def activity_delete(*, actor: User, activity: Activity) -> None:
    activity = _activity_writable(actor, activity, "delete")
    files = [a.file.name for a in activity.attachments.all()]
    storage = Attachment._meta.get_field("file").storage
    payload = {
        "id": activity.pk,
        "target_entity": activity.target_entity,
        "target_id": activity.target_id,
    }
    with transaction.atomic():
        audit.record(
            actor=actor,
            action=A.DELETE,
            entity="activity",
            obj=activity,
            changes={"content": [activity.content, None], "attachments": [files, None]},
        )
        activity.delete()
        events.emit(FOLLOWUP_DELETED, payload, actor_id=actor.pk)

        def _remove_files() -> None:
            for name in files:
                storage.delete(name)

        transaction.on_commit(_remove_files)


# --- Tasks ------------------------------------------------------------------------------


def _check_assignee(actor: User, assignee: User) -> None:
    if not assignee.is_active:
        raise ValidationFailed([FieldError("assignee", _("This user is deactivated."))])
    if assignee.pk == actor.pk:
        return
    scope = permissions.scope_of(actor, "task") or "own"
    ids = permissions.scope_user_ids(actor, scope)
    if ids is not None and assignee.pk not in ids:
        raise ValidationFailed(
            [FieldError("assignee", _("You can only assign tasks to users in your data scope."))]
        )


def _task_insert(
    *,
    actor: User,
    title: str,
    description: str,
    assignee: User,
    due_at: dt.datetime | None,
    priority: str,
    target_entity: str,
    target_id: int | None,
    source_activity: Activity | None,
) -> Task:
    task = Task.objects.create(
        title=title,
        description=description,
        assignee=assignee,
        due_at=due_at,
        priority=priority,
        target_entity=target_entity,
        target_id=target_id,
        created_by=actor,
        source_activity=source_activity,
    )
    audit.record(
        actor=actor,
        action=A.CREATE,
        entity="task",
        obj=task,
        changes={
            "title": [None, title],
            "assignee": [None, assignee.get_username()],
            "due_at": [None, due_at],
            "target": [None, f"{target_entity}#{target_id}" if target_entity else None],
        },
    )
    if assignee.pk != actor.pk:
        _notify_assigned(task, actor)
    events.emit(
        TASK_CREATED,
        {
            "id": task.pk,
            "assignee_id": assignee.pk,
            "due_at": due_at.isoformat() if due_at else None,
            "target_entity": target_entity,
            "target_id": target_id,
            "source_activity_id": source_activity.pk if source_activity else None,
        },
        actor_id=actor.pk,
    )
    return task


def _notify_assigned(task: Task, actor: User) -> None:
    with translation.override(task.assignee.language or settings.LANGUAGE_CODE):
        notify(
            recipient=task.assignee,
            verb="task.assigned",
            title=_("%(who)s gave you a task: %(title)s")
            % {"who": actor.label, "title": task.title},
            body=task.description[:500],
            url=_url("activities:my_day"),
            target_entity="task",
            target_id=task.pk,
        )


def task_create(
    *,
    actor: User,
    title: str,
    assignee: User | None = None,
    due_at: dt.datetime | None = None,
    priority: str = Task.Priority.NORMAL,
    description: str = "",
    target_entity: str = "",
    target_id: Any = None,
) -> Task:
    permissions.require(actor, "task", "create")
    assignee = assignee or actor
    _check_assignee(actor, assignee)
    errors: list[FieldError] = []
    title = _text(errors, "title", title, 200, required=True)
    description = _text(errors, "description", description, None)
    priority = _choice(errors, "priority", priority, Task.Priority.values)
    if errors:
        raise ValidationFailed(errors)
    obj_pk: int | None = None
    if target_entity:
        _target, obj = targets.resolve(actor, target_entity, target_id)
        obj_pk = obj.pk
    with transaction.atomic():
        return _task_insert(
            actor=actor,
            title=title,
            description=description,
            assignee=assignee,
            due_at=_aware(due_at, actor),
            priority=priority,
            target_entity=target_entity if obj_pk is not None else "",
            target_id=obj_pk,
            source_activity=None,
        )


def _task_writable(actor: User, task: Task, action: str) -> Task:
    """The assignee and the creator may change a task; others need the action in scope."""
    if actor.pk in (task.assignee_id, task.created_by_id) and permissions.can(
        actor, "task", "view"
    ):
        return task
    found: Task = permissions.get_for_user(actor, "task", task.pk, action)
    return found


TASK_FIELDS = ("title", "description", "due_at", "priority", "assignee")


def task_update(*, actor: User, task: Task, data: dict[str, Any]) -> Task:
    """Change title, description, due time, priority or assignee of a task."""
    task = _task_writable(actor, task, "edit")
    errors: list[FieldError] = []
    clean: dict[str, Any] = {}
    if "title" in data:
        clean["title"] = _text(errors, "title", data["title"], 200, required=True)
    if "description" in data:
        clean["description"] = _text(errors, "description", data["description"], None)
    if "priority" in data:
        clean["priority"] = _choice(errors, "priority", data["priority"], Task.Priority.values)
    if "due_at" in data:
        clean["due_at"] = _aware(data["due_at"], actor)
    if errors:
        raise ValidationFailed(errors)
    new_assignee: User | None = data.get("assignee")
    if "assignee" in data:
        if new_assignee is None:
            raise ValidationFailed([FieldError("assignee", _("This field is required."))])
        if new_assignee.pk != task.assignee_id:
            _check_assignee(actor, new_assignee)
            clean["assignee"] = new_assignee
        else:
            new_assignee = None
    with transaction.atomic():
        before = audit.snapshot(task, list(clean))
        for key, value in clean.items():
            setattr(task, key, value)
        if "due_at" in clean and before.get("due_at") != clean["due_at"]:
            task.reminded_at = None  # a new due time earns a new reminder
            task.overdue_at = None
        task.save()
        changes = audit.diff(before, audit.snapshot(task, list(clean)))
        if changes:
            audit.record(actor=actor, action=A.UPDATE, entity="task", obj=task, changes=changes)
            events.emit(TASK_UPDATED, {"id": task.pk, "changes": changes}, actor_id=actor.pk)
        if new_assignee is not None and new_assignee.pk != actor.pk:
            _notify_assigned(task, actor)
    return task


def task_complete(*, actor: User, task: Task, now: dt.datetime | None = None) -> Task:
    """Tick a task off; ticking a done task again changes nothing."""
    task = _task_writable(actor, task, "edit")
    if task.done_at is not None:
        return task
    with transaction.atomic():
        task.done_at = now or timezone.now()
        task.save(update_fields=["done_at", "updated_at"])
        audit.record(
            actor=actor,
            action=A.UPDATE,
            entity="task",
            obj=task,
            changes={"done_at": [None, task.done_at]},
        )
        events.emit(TASK_COMPLETED, {"id": task.pk}, actor_id=actor.pk)
    return task


def task_reopen(*, actor: User, task: Task) -> Task:
    task = _task_writable(actor, task, "edit")
    if task.done_at is None:
        return task
    with transaction.atomic():
        done_at = task.done_at
        task.done_at = None
        task.save(update_fields=["done_at", "updated_at"])
        audit.record(
            actor=actor,
            action=A.UPDATE,
            entity="task",
            obj=task,
            changes={"done_at": [done_at, None]},
        )
        events.emit(TASK_REOPENED, {"id": task.pk}, actor_id=actor.pk)
    return task


def task_delete(*, actor: User, task: Task) -> None:
    task = _task_writable(actor, task, "delete")
    with transaction.atomic():
        audit.record(
            actor=actor,
            action=A.DELETE,
            entity="task",
            obj=task,
            changes={"title": [task.title, None]},
        )
        payload = {"id": task.pk}
        task.delete()
        events.emit(TASK_DELETED, payload, actor_id=actor.pk)


def tasks_transfer(
    *, actor: User, from_user: User, to_user: User, task_ids: Sequence[int] | None = None
) -> int:
    """Hand the open tasks of ``from_user`` (all, or ``task_ids``) to ``to_user``.

    For handover (离职交接): needs the ``transfer`` action on tasks; only tasks in the
    actor's scope move. One audit event per task.
    """
    qs = permissions.scoped_queryset(actor, "task", "transfer").filter(
        assignee=from_user, done_at__isnull=True
    )
    if task_ids is not None:
        qs = qs.filter(pk__in=list(task_ids))
    if not to_user.is_active:
        raise ValidationFailed([FieldError("to_user", _("This user is deactivated."))])
    with transaction.atomic():
        moved = list(qs.select_for_update().values_list("pk", "title"))
        if not moved:
            return 0
        Task.objects.filter(pk__in=[pk for pk, _title in moved]).update(
            assignee=to_user, reminded_at=None, updated_at=timezone.now()
        )
        audit.record_many(
            [
                AuditEvent(
                    actor=actor,
                    actor_label=actor.get_username(),
                    action=A.TRANSFER,
                    entity="task",
                    object_id=str(pk),
                    object_repr=title[:200],
                    changes={"assignee": [from_user.get_username(), to_user.get_username()]},
                )
                for pk, title in moved
            ]
        )
        events.emit(
            TASK_UPDATED,
            {"ids": [pk for pk, _title in moved], "changes": ["assignee"]},
            actor_id=actor.pk,
        )
    return len(moved)


# --- Notifications ----------------------------------------------------------------------


def notification_create(
    *,
    recipient: User,
    verb: str,
    title: str,
    body: str = "",
    url: str = "",
    target_entity: str = "",
    target_id: int | None = None,
    now: dt.datetime | None = None,
) -> Notification:
    return Notification.objects.create(
        recipient=recipient,
        verb=verb[:40],
        title=str(title)[:200],
        body=str(body),
        url=url[:500],
        target_entity=target_entity,
        target_id=target_id,
        created_at=now or timezone.now(),
    )


class Notifier(Protocol):
    def __call__(
        self,
        *,
        recipient: User,
        verb: str,
        title: str,
        body: str,
        url: str,
        target_entity: str,
        target_id: int | None,
        now: dt.datetime | None,
    ) -> None: ...


_notifier: Notifier | None = None


def set_notifier(notifier: Notifier | None) -> None:
    """Route :func:`notify` through the notification centre (set by the automation app,
    which applies each user's preferences); without one, notify is in-app only."""
    global _notifier
    _notifier = notifier


def notify(
    *,
    recipient: User,
    verb: str,
    title: str,
    body: str = "",
    url: str = "",
    target_entity: str = "",
    target_id: int | None = None,
    now: dt.datetime | None = None,
) -> None:
    """Tell ``recipient`` something (reminders, assignments …) on their chosen channels."""
    if _notifier is not None:
        _notifier(
            recipient=recipient,
            verb=verb,
            title=str(title),
            body=str(body),
            url=url,
            target_entity=target_entity,
            target_id=target_id,
            now=now,
        )
    else:
        notification_create(
            recipient=recipient,
            verb=verb,
            title=title,
            body=body,
            url=url,
            target_entity=target_entity,
            target_id=target_id,
            now=now,
        )


def notification_mark_read(*, actor: User, notification_id: Any) -> Notification:
    try:
        note = Notification.objects.get(pk=notification_id, recipient=actor)
    except (Notification.DoesNotExist, ValueError, TypeError) as exc:
        raise OutOfScope() from exc
    if note.read_at is None:
        note.read_at = timezone.now()
        note.save(update_fields=["read_at"])
    return note


def notification_mark_all_read(*, actor: User) -> int:
    return Notification.objects.filter(recipient=actor, read_at__isnull=True).update(
        read_at=timezone.now()
    )


# --- Reminders --------------------------------------------------------------------------


def tasks_send_due_reminders(now: dt.datetime | None = None, *, limit: int = 1000) -> int:
    """One in-app notification per open task that has fallen due, exactly once.

    A task is claimed by a conditional UPDATE of ``reminded_at``, so two workers running
    at the same time never remind twice. Changing the due time re-arms the reminder.
    """
    now = now or timezone.now()
    due = list(
        Task.objects.filter(done_at__isnull=True, reminded_at__isnull=True, due_at__lte=now)
        .select_related("assignee")
        .order_by("due_at", "id")[:limit]
    )
    sent = 0
    for task in due:
        with transaction.atomic():
            claimed = Task.objects.filter(
                pk=task.pk, reminded_at__isnull=True, done_at__isnull=True
            ).update(reminded_at=now)
            if not claimed:
                continue
            if task.assignee.is_active:
                with translation.override(task.assignee.language or settings.LANGUAGE_CODE):
                    notify(
                        recipient=task.assignee,
                        verb="task.due",
                        title=_("Due: %(title)s") % {"title": task.title},
                        body=task.description[:500],
                        url=_url("activities:my_day"),
                        target_entity="task",
                        target_id=task.pk,
                        now=now,
                    )
                sent += 1
                events.emit(TASK_DUE, {"id": task.pk, "assignee_id": task.assignee_id})
    return sent


def tasks_report_overdue(now: dt.datetime | None = None, *, limit: int = 1000) -> int:
    """Emit ``task.overdue`` once for each open task a day or more past due.

    Claimed by a conditional UPDATE of ``overdue_at`` (safe when two workers run at once);
    a new due time re-arms it.
    """
    now = now or timezone.now()
    late = list(
        Task.objects.filter(
            done_at__isnull=True, overdue_at__isnull=True, due_at__lte=now - OVERDUE_AFTER
        )
        .order_by("due_at", "id")
        .values_list("pk", "assignee_id")[:limit]
    )
    sent = 0
    for pk, assignee_id in late:
        with transaction.atomic():
            claimed = Task.objects.filter(
                pk=pk, overdue_at__isnull=True, done_at__isnull=True
            ).update(overdue_at=now)
            if claimed:
                sent += 1
                events.emit(TASK_OVERDUE, {"id": pk, "assignee_id": assignee_id})
    return sent


# --- Organisation hooks -----------------------------------------------------------------


def owned_counts(user: User) -> dict[str, int]:
    """Follow-ups a user wrote and open tasks they hold (user deletion, handover preview)."""
    return {
        "activity": Activity.objects.filter(owner=user).count(),
        "task": Task.objects.filter(assignee=user, done_at__isnull=True).count(),
    }


def activity_attach(*, actor: User, activity: Activity, files: Sequence[Any]) -> list[Attachment]:
    """Add files (photos from a phone) to an existing follow-up."""
    activity = _activity_writable(actor, activity, "edit")
    errors: list[FieldError] = []
    if not files:
        errors.append(FieldError("attachments", _("Choose a file.")))
    _check_files(errors, files)
    if activity.attachments.count() + len(files) > MAX_ATTACHMENTS:
        errors.append(
            FieldError(
                "attachments", _("At most %(n)d files per follow-up.") % {"n": MAX_ATTACHMENTS}
            )
        )
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        saved = _save_files(activity, files)
        audit.record(
            actor=actor,
            action=A.UPDATE,
            entity="activity",
            obj=activity,
            changes={"attachments": [None, [f.name for f in saved]]},
        )
    return saved
