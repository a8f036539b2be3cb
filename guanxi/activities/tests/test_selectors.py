from __future__ import annotations

import datetime as dt

import pytest

from guanxi.activities import selectors, services
from guanxi.activities.models import Activity, Task
from guanxi.core import audit
from guanxi.core.errors import OutOfScope, ValidationFailed
from guanxi.core.models import AuditEvent
from guanxi.tests_support import factories

pytestmark = pytest.mark.django_db

UTC = dt.UTC


def _at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def _task(user, due, **kw) -> Task:
    return Task.objects.create(title=kw.pop("title", "t"), assignee=user, due_at=due, **kw)


def test_my_day_buckets_across_shanghai_midnight(o, sales, django_assert_num_queries):
    assert sales.time_zone == "Asia/Shanghai"
    now = _at(2026, 3, 10, 15, 30)  # 23:30 on 10 March in Shanghai
    overdue = _task(sales, _at(2026, 3, 10, 14, 0), title="22:00 local, past")
    overdue_yesterday = _task(sales, _at(2026, 3, 8, 1, 0), title="two days ago")
    today = _task(sales, _at(2026, 3, 10, 15, 50), title="23:50 local")
    tomorrow = _task(sales, _at(2026, 3, 10, 16, 30), title="00:30 local tomorrow")
    in_a_week = _task(sales, _at(2026, 3, 17, 15, 59), title="last minute of the window")
    _task(sales, _at(2026, 3, 17, 16, 0), title="beyond 7 days")
    undated = _task(sales, None, title="someday")
    _task(sales, _at(2026, 3, 10, 15, 40), done_at=now, title="done")
    _task(o.peer, _at(2026, 3, 10, 15, 40), title="a colleague's")
    with django_assert_num_queries(1):
        day = selectors.my_day(actor=sales, now=now)
    assert day.today_start == _at(2026, 3, 9, 16, 0)
    assert day.today_end == _at(2026, 3, 10, 16, 0)
    assert day.overdue == [overdue_yesterday, overdue]
    assert day.today == [today]
    assert day.upcoming == [tomorrow, in_a_week]
    assert day.undated == [undated]

    # The same tasks for someone in UTC: 16:30 UTC is still today for them.
    sales.time_zone = "UTC"
    day = selectors.my_day(actor=sales, now=now)
    assert tomorrow in day.today


def test_activity_list_scope_and_queries(o, sales, contacted, django_assert_max_num_queries):
    for i in range(3):
        services.activity_create(
            actor=sales, target_entity="user", target_id=o.peer.pk, kind="call", content=f"c{i}"
        )
    manager = o.give(o.boss, factories.role("manager"))
    services.activity_create(
        actor=manager, target_entity="user", target_id=o.peer.pk, kind="note", content="boss"
    )
    sales = o.give(sales, factories.role("sales"))
    with django_assert_max_num_queries(5):
        page = selectors.activity_list(actor=sales, page_size=2)
        assert [a.owner_id for a in page.items] == [sales.pk, sales.pk]
        assert [len(a.attachments.all()) for a in page.items] == [0, 0]
    assert page.count == 3  # own scope: not the manager's follow-up
    # On the record's page every follow-up on it shows.
    page = selectors.activity_list(actor=sales, target_entity="user", target_id=o.peer.pk)
    assert page.count == 4
    with pytest.raises(OutOfScope):
        selectors.activity_list(actor=sales, target_entity="user", target_id=o.service.pk)


def test_task_list_scope_filters_and_queries(o, sales, django_assert_max_num_queries):
    manager = o.give(o.boss, factories.role("manager"))
    mine = services.task_create(actor=sales, title="mine", due_at=_at(2026, 3, 10, 2, 0))
    handed = services.task_create(actor=manager, title="from boss", assignee=sales)
    services.task_create(actor=manager, title="boss's own")
    _task(o.peer, None, title="peer's")
    sales = o.give(sales, factories.role("sales"))
    with django_assert_max_num_queries(5):
        page = selectors.task_list(actor=sales)
        titles = sorted(t.title for t in page.items)
        assert [t.assignee.username for t in page.items]
    assert titles == ["from boss", "mine"]
    # The manager sees what they handed out and their subtree.
    page = selectors.task_list(actor=manager, assignee=sales.pk)
    assert {t.pk for t in page.items} == {mine.pk, handed.pk}
    page = selectors.task_list(
        actor=sales, due_from=_at(2026, 3, 10, 0, 0), due_to=_at(2026, 3, 11, 0, 0)
    )
    assert [t.pk for t in page.items] == [mine.pk]
    services.task_complete(actor=sales, task=mine)
    assert [t.pk for t in selectors.task_list(actor=sales, done=False).items] == [handed.pk]
    assert [t.pk for t in selectors.task_list(actor=sales, done=True).items] == [mine.pk]


def test_timeline_merges_followups_tasks_and_audit(
    o, sales, contacted, django_assert_max_num_queries
):
    peer = o.peer
    services.activity_create(
        actor=sales,
        target_entity="user",
        target_id=peer.pk,
        kind="call",
        content="first call",
        occurred_at=_at(2026, 3, 1, 2, 0),
        next_followup_at=_at(2026, 3, 5, 2, 0),
    )
    audit.record(
        actor=o.admin,
        action=AuditEvent.Action.TRANSFER,
        entity="user",
        obj=peer,
        changes={"owner": ["a", "b"]},
    )
    audit.record(
        actor=o.admin,
        action=AuditEvent.Action.UPDATE,
        entity="user",
        obj=peer,
        changes={"mobile": ["1", "2"]},
    )
    audit.record(actor=o.admin, action=AuditEvent.Action.EXPORT, entity="user", obj=peer)
    with django_assert_max_num_queries(5):
        page = selectors.timeline(actor=sales, target_entity="user", target_id=peer.pk)
        items = page.items
    kinds = [i.kind for i in items]
    assert sorted(kinds) == ["change", "followup", "ownership", "task"]
    assert [i.at for i in items] == sorted((i.at for i in items), reverse=True)
    change = next(i for i in items if i.kind == "change")
    # The sales role masks colleagues' mobiles: the change history is masked too.
    assert change.changes == {"mobile": ["****", "****"]} and change.url == f"/users/{peer.pk}/"
    followup = next(i for i in items if i.kind == "followup")
    assert followup.body == "first call" and followup.actor == sales.label

    page = selectors.timeline(
        actor=sales, target_entity="user", target_id=peer.pk, kinds=["followup", "ownership"]
    )
    assert sorted(i.kind for i in page.items) == ["followup", "ownership"]

    page = selectors.timeline(actor=sales, target_entity="user", target_id=peer.pk, page_size=2)
    assert len(page.items) == 2 and page.has_next
    page2 = selectors.timeline(
        actor=sales, target_entity="user", target_id=peer.pk, page=2, page_size=2
    )
    assert len(page2.items) == 2 and not page2.has_next
    assert {i.id for i in page.items}.isdisjoint(
        {i.id for i in page2.items if i.kind == "followup"}
    )

    with pytest.raises(ValidationFailed):
        selectors.timeline(actor=sales, target_entity="user", target_id=peer.pk, kinds=["nope"])


def test_timeline_of_out_of_scope_target_is_out_of_scope(o, sales, contacted):
    Activity.objects.create(
        kind="call", content="secret", target_entity="user", target_id=o.service.pk, owner=o.admin
    )
    with pytest.raises(OutOfScope):
        selectors.timeline(actor=sales, target_entity="user", target_id=o.service.pk)
