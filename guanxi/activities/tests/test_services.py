from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from guanxi.activities import services
from guanxi.activities.models import Activity, Task
from guanxi.core import events
from guanxi.core.errors import NotPermitted, OutOfScope, ValidationFailed
from guanxi.core.models import AuditEvent
from guanxi.tests_support import factories

pytestmark = pytest.mark.django_db

UTC = dt.UTC


def _at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def test_followup_in_scope_records_audit_and_calls_hook(o, sales, contacted):
    when = _at(2026, 3, 10, 2, 0)
    activity = services.activity_create(
        actor=sales,
        target_entity="user",
        target_id=o.peer.pk,
        kind="visit",
        content="拜访了客户，谈了报价",
        outcome="有意向",
        occurred_at=when,
    )
    assert activity.owner == sales
    assert (activity.target_entity, activity.target_id) == ("user", o.peer.pk)
    assert contacted.calls == [(o.peer.pk, when)]
    event = AuditEvent.objects.get(entity="activity", object_id=str(activity.pk))
    assert event.action == "create" and event.actor == sales
    assert not Task.objects.exists()


def test_followup_on_out_of_scope_target_is_refused(o, sales, contacted):
    # 客服部's user lies outside a salesperson's department scope.
    with pytest.raises(OutOfScope):
        services.activity_create(
            actor=sales, target_entity="user", target_id=o.service.pk, kind="call", content="x"
        )
    with pytest.raises(OutOfScope):
        services.activity_create(
            actor=sales, target_entity="user", target_id=999999, kind="call", content="x"
        )
    assert not Activity.objects.exists()
    assert contacted.calls == []


def test_unknown_target_entity_and_bad_fields_are_422(o, sales, contacted):
    with pytest.raises(ValidationFailed) as exc:
        services.activity_create(
            actor=sales, target_entity="planet", target_id=1, kind="call", content="x"
        )
    assert exc.value.errors[0].field == "target_entity"
    with pytest.raises(ValidationFailed) as exc:
        services.activity_create(
            actor=sales, target_entity="user", target_id=o.peer.pk, kind="fax", content=""
        )
    assert {e.field for e in exc.value.errors} == {"kind", "content"}


def test_role_without_activity_create_is_not_permitted(o, contacted):
    readonly = o.give(o.actor, factories.role("readonly"))
    with pytest.raises(NotPermitted):
        services.activity_create(
            actor=readonly, target_entity="user", target_id=o.peer.pk, kind="call", content="x"
        )


def test_next_followup_creates_linked_task_and_emits_events(
    o, sales, contacted, django_capture_on_commit_callbacks
):
    seen: list[events.Event] = []
    events.subscribe("*", seen.append)
    try:
        occurred = _at(2026, 3, 10, 2, 0)
        next_at = _at(2026, 3, 12, 1, 30)
        with django_capture_on_commit_callbacks(execute=True):
            activity = services.activity_create(
                actor=sales,
                target_entity="user",
                target_id=o.peer.pk,
                kind="call",
                content="约了下周演示",
                occurred_at=occurred,
                next_followup_at=next_at,
            )
    finally:
        events.unsubscribe("*", seen.append)
    task = Task.objects.get()
    assert task.assignee == sales and task.created_by == sales
    assert task.due_at == next_at
    assert task.source_activity == activity
    assert (task.target_entity, task.target_id) == ("user", o.peer.pk)
    assert o.peer.label in task.title
    names = [e.name for e in seen]
    assert "followup.created" in names and "task.created" in names
    created = next(e for e in seen if e.name == "followup.created")
    assert created.payload["task_id"] == task.pk


def test_next_followup_must_be_later(o, sales, contacted):
    with pytest.raises(ValidationFailed) as exc:
        services.activity_create(
            actor=sales,
            target_entity="user",
            target_id=o.peer.pk,
            kind="call",
            content="x",
            occurred_at=_at(2026, 3, 10, 2, 0),
            next_followup_at=_at(2026, 3, 10, 1, 0),
        )
    assert exc.value.errors[0].field == "next_followup_at"


def test_naive_times_are_the_actors_local_time(o, sales, contacted):
    activity = services.activity_create(
        actor=sales,
        target_entity="user",
        target_id=o.peer.pk,
        kind="call",
        content="x",
        occurred_at=dt.datetime(2026, 3, 10, 9, 0),  # 09:00 in Shanghai
    )
    assert activity.occurred_at == _at(2026, 3, 10, 1, 0)


def test_photo_attachment_is_stored_and_size_limited(o, sales, contacted, settings):
    photo = SimpleUploadedFile("IMG_0001.JPG", b"\xff\xd8\xff" + b"0" * 100, "image/jpeg")
    activity = services.activity_create(
        actor=sales,
        target_entity="user",
        target_id=o.peer.pk,
        kind="visit",
        content="",
        attachments=[photo],
    )
    att = activity.attachments.get()
    assert att.name == "IMG_0001.JPG" and att.content_type == "image/jpeg" and att.size == 103
    assert att.file.name.startswith("activities/") and att.file.name.endswith(".jpg")
    assert att.is_image

    settings.GUANXI_ATTACHMENT_MAX_BYTES = 50
    big = SimpleUploadedFile("big.jpg", b"0" * 51, "image/jpeg")
    with pytest.raises(ValidationFailed) as exc:
        services.activity_create(
            actor=sales,
            target_entity="user",
            target_id=o.peer.pk,
            kind="visit",
            content="x",
            attachments=[big],
        )
    assert exc.value.errors[0].field == "attachments"
    assert "big.jpg" in exc.value.errors[0].message
    assert Activity.objects.count() == 1


def test_activity_update_and_delete_by_author_only(o, sales, contacted):
    activity = services.activity_create(
        actor=sales, target_entity="user", target_id=o.peer.pk, kind="call", content="a"
    )
    services.activity_update(actor=sales, activity=activity, data={"content": "b"})
    activity.refresh_from_db()
    assert activity.content == "b"
    assert AuditEvent.objects.filter(entity="activity", action="update").exists()
    peer = o.give(o.peer, factories.role("sales"))
    with pytest.raises(OutOfScope):
        services.activity_update(actor=peer, activity=activity, data={"content": "c"})
    with pytest.raises(NotPermitted):  # salespeople cannot delete others' follow-ups
        services.activity_delete(actor=peer, activity=activity)
    services.activity_delete(actor=sales, activity=activity)
    assert not Activity.objects.exists()


# --- Tasks ------------------------------------------------------------------------------


def test_task_assignment_is_limited_to_scope(o, sales):
    with pytest.raises(ValidationFailed) as exc:
        services.task_create(actor=sales, title="打电话", assignee=o.peer)
    assert exc.value.errors[0].field == "assignee"
    manager = o.give(o.boss, factories.role("manager"))  # root department, subtree scope
    task = services.task_create(
        actor=manager, title="回访", assignee=sales, due_at=_at(2026, 3, 10, 2, 0)
    )
    assert task.assignee == sales and task.created_by == manager
    # The assignee is told.
    note = sales.notifications.get()
    assert note.verb == "task.assigned" and note.target_id == task.pk


def test_task_complete_reopen_and_scope(o, sales):
    task = services.task_create(actor=sales, title="发报价", priority="high")
    peer = o.give(o.peer, factories.role("sales"))
    with pytest.raises(OutOfScope):
        services.task_complete(actor=peer, task=task)
    services.task_complete(actor=sales, task=task)
    task.refresh_from_db()
    assert task.done_at is not None
    services.task_complete(actor=sales, task=task)  # idempotent
    services.task_reopen(actor=sales, task=task)
    task.refresh_from_db()
    assert task.done_at is None
    with pytest.raises(ValidationFailed):
        services.task_update(actor=sales, task=task, data={"priority": "whenever"})
    services.task_delete(actor=sales, task=task)
    assert not Task.objects.exists()


def test_task_with_out_of_scope_target_is_refused(o, sales, contacted):
    with pytest.raises(OutOfScope):
        services.task_create(actor=sales, title="x", target_entity="user", target_id=o.service.pk)


# --- Reminders --------------------------------------------------------------------------


def _task(user: Any, due: dt.datetime | None, **kw: Any) -> Task:
    return Task.objects.create(title=kw.pop("title", "t"), assignee=user, due_at=due, **kw)


def test_reminders_are_sent_once(o, sales):
    now = _at(2026, 3, 10, 8, 0)
    due = _task(sales, now - dt.timedelta(minutes=1), title="到期了")
    _task(sales, now + dt.timedelta(minutes=5), title="还没到")
    _task(sales, now - dt.timedelta(hours=1), done_at=now, title="已完成")
    _task(sales, None, title="无期限")
    assert services.tasks_send_due_reminders(now) == 1
    assert services.tasks_send_due_reminders(now) == 0
    assert services.tasks_send_due_reminders(now + dt.timedelta(minutes=1)) == 0
    note = sales.notifications.get()
    assert note.verb == "task.due" and "到期了" in note.title and note.target_id == due.pk
    # Moving the due time re-arms the reminder.
    services.task_update(actor=sales, task=due, data={"due_at": now + dt.timedelta(minutes=2)})
    assert services.tasks_send_due_reminders(now + dt.timedelta(minutes=3)) == 1
    assert sales.notifications.count() == 2


def test_periodic_task_runs_reminders(o, sales):
    from django.utils import timezone

    from guanxi.schedule import activities_send_due_reminders as send_due_reminders

    _task(sales, timezone.now() - dt.timedelta(minutes=1))
    send_due_reminders()  # enqueued; huey runs it at once in tests (immediate mode)
    assert sales.notifications.count() == 1
    assert send_due_reminders.call_local() == 0
    assert sales.notifications.count() == 1


def test_notifications_mark_read(o, sales):
    a = services.notification_create(recipient=sales, verb="x", title="一")
    services.notification_create(recipient=sales, verb="x", title="二")
    other = services.notification_create(recipient=o.peer, verb="x", title="三")
    services.notification_mark_read(actor=sales, notification_id=a.pk)
    a.refresh_from_db()
    assert a.read_at is not None
    with pytest.raises(OutOfScope):
        services.notification_mark_read(actor=sales, notification_id=other.pk)
    assert services.notification_mark_all_read(actor=sales) == 1
    other.refresh_from_db()
    assert other.read_at is None


def test_tasks_transfer_for_handover(o, sales):
    manager = o.give(o.boss, factories.role("manager"))
    open_task = services.task_create(actor=sales, title="open")
    done = services.task_create(actor=sales, title="done")
    services.task_complete(actor=sales, task=done)
    with pytest.raises(NotPermitted):
        services.tasks_transfer(
            actor=o.give(o.service, factories.role("readonly")), from_user=sales, to_user=o.peer
        )
    assert services.tasks_transfer(actor=manager, from_user=sales, to_user=o.peer) == 1
    open_task.refresh_from_db()
    done.refresh_from_db()
    assert open_task.assignee == o.peer and done.assignee == sales
    assert AuditEvent.objects.filter(entity="task", action="transfer").count() == 1
