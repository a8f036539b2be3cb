from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from icalendar import Calendar

from guanxi.activities import services
from guanxi.activities.models import Activity, Task
from guanxi.identity.services import calendar_token_rotate

pytestmark = [pytest.mark.django_db, pytest.mark.urls("guanxi.activities.tests.urls")]


def test_ics_feed_lists_open_tasks_and_rotation_revokes(o, sales):
    due = dt.datetime(2030, 1, 2, 2, 0, tzinfo=dt.UTC)
    task = Task.objects.create(
        title="拜访张总", description="带合同", assignee=sales, due_at=due, priority="high"
    )
    Task.objects.create(title="done", assignee=sales, due_at=due, done_at=due)
    Task.objects.create(title="no time", assignee=sales)
    Task.objects.create(title="someone else's", assignee=o.peer, due_at=due)
    token = calendar_token_rotate(actor=sales)

    r = Client().get(f"/calendar/{token}.ics")  # no login
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/calendar")
    cal = Calendar.from_ical(r.content)
    events = cal.walk("VEVENT")
    assert len(events) == 1
    ev = events[0]
    assert str(ev["UID"]) == f"task-{task.pk}@testserver"
    assert str(ev["SUMMARY"]) == "拜访张总" and str(ev["DESCRIPTION"]) == "带合同"
    assert ev.decoded("DTSTART") == due and ev.decoded("DTSTART").utcoffset() == dt.timedelta(0)
    assert "DTSTAMP" in ev and str(ev["URL"]).startswith("http://testserver/")
    assert b"DTSTART:20300102T020000Z" in r.content
    assert str(cal["VERSION"]) == "2.0" and "PRODID" in cal

    new_token = calendar_token_rotate(actor=sales)
    assert Client().get(f"/calendar/{token}.ics").status_code == 404
    assert Client().get(f"/calendar/{new_token}.ics").status_code == 200
    assert Client().get("/calendar/not-a-real-token-but-long-enough.ics").status_code == 404
    sales.calendar_token = ""
    sales.save()
    assert Client().get("/calendar/.ics").status_code == 404


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_my_day_page_and_htmx_tick(o, sales):
    now = dt.datetime.now(dt.UTC)
    task = Task.objects.create(title="回电话", assignee=sales, due_at=now - dt.timedelta(hours=1))
    c = _client(sales)
    r = c.get("/my-day/")
    assert r.status_code == 200
    assert "回电话" in r.text and 'hx-post="/tasks/' in r.text
    r = c.post(f"/tasks/{task.pk}/complete/", headers={"HX-Request": "true"})
    assert r.status_code == 200 and 'class="task priority-normal done"' in r.text
    task.refresh_from_db()
    assert task.done_at is not None
    r = c.post(f"/tasks/{task.pk}/reopen/")
    assert r.status_code == 302
    other = Task.objects.create(title="x", assignee=o.peer)
    assert c.post(f"/tasks/{other.pk}/complete/").status_code == 404
    assert Client().get("/my-day/").status_code == 302  # login required


def test_followup_quick_add_with_photo(o, sales, contacted):
    c = _client(sales)
    r = c.get("/followups/new/", {"target_entity": "user", "target_id": o.peer.pk})
    assert r.status_code == 200
    assert (
        'accept="image/*"' in r.text and "capture" in r.text and 'type="datetime-local"' in r.text
    )
    r = c.post(
        "/followups/new/",
        {
            "target_entity": "user",
            "target_id": o.peer.pk,
            "kind": "visit",
            "content": "现场拜访",
            "next_followup_at": "2030-01-02T10:00",
            "attachments": SimpleUploadedFile("p.jpg", b"\xff\xd8\xffdata", "image/jpeg"),
        },
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200 and r["HX-Trigger"] == "followupCreated"
    activity = Activity.objects.get()
    assert activity.attachments.count() == 1
    task = Task.objects.get()
    assert task.due_at == dt.datetime(2030, 1, 2, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai
    att = activity.attachments.get()
    r = c.get(f"/followups/attachments/{att.pk}/")
    assert r.status_code == 200 and r["Content-Type"] == "image/jpeg"
    # 华东区 salesperson: not their follow-up, and the record is outside their scope.
    assert _client(o.east).get(f"/followups/attachments/{att.pk}/").status_code == 404

    # Errors come back on the form.
    r = c.post(
        "/followups/new/",
        {"target_entity": "user", "target_id": o.peer.pk, "kind": "visit", "content": ""},
    )
    assert r.status_code == 422 and "field-error" in r.text
    # Out of scope: 404, nothing written.
    r = c.post(
        "/followups/new/",
        {"target_entity": "user", "target_id": o.service.pk, "kind": "call", "content": "x"},
    )
    assert r.status_code == 404
    assert Activity.objects.count() == 1


def test_timeline_partial(o, sales, contacted):
    services.activity_create(
        actor=sales, target_entity="user", target_id=o.peer.pk, kind="call", content="电话沟通"
    )
    c = _client(sales)
    r = c.get("/timeline/", {"entity": "user", "id": o.peer.pk}, headers={"HX-Request": "true"})
    assert r.status_code == 200 and "电话沟通" in r.text and "<html" not in r.text
    r = c.get("/timeline/", {"entity": "user", "id": o.peer.pk, "kind": "change"})
    assert r.status_code == 200 and "电话沟通" not in r.text and "<html" in r.text
    assert c.get("/timeline/", {"entity": "user", "id": o.service.pk}).status_code == 404
    assert c.get("/timeline/", {"entity": "planet", "id": 1}).status_code == 404


def test_notification_pages(o, sales):
    note = services.notification_create(recipient=sales, verb="x", title="新任务", url="/my-day/")
    c = _client(sales)
    r = c.get("/notifications/")
    assert r.status_code == 200 and "新任务" in r.text
    r = c.get("/notifications/dropdown/")
    assert r.status_code == 200 and "新任务" in r.text
    r = c.post(f"/notifications/{note.pk}/read/")
    assert r.status_code == 302 and r["Location"] == "/my-day/"
    services.notification_create(recipient=sales, verb="x", title="二")
    r = c.post("/notifications/read-all/")
    assert r.status_code == 302
    assert not sales.notifications.filter(read_at__isnull=True).exists()


def test_calendar_page_and_rotate(o, sales):
    c = _client(sales)
    r = c.get("/calendar/")
    assert r.status_code == 200 and ".ics" not in r.text
    assert c.post("/calendar/rotate/").status_code == 302
    sales.refresh_from_db()
    first = sales.calendar_token
    r = c.get("/calendar/")
    assert f"/calendar/{first}.ics" in r.text
    c.post("/calendar/rotate/")
    sales.refresh_from_db()
    assert sales.calendar_token != first


def test_record_page_drop_ins_render(o, sales, contacted, rf):
    from django.template import Context, Template

    request = rf.get("/")
    request.user = sales
    html = Template(
        '{% load activities_tags %}{% followup_form "user" peer_id %}{% timeline "user" peer_id %}'
    ).render(Context({"peer_id": o.peer.pk, "request": request, "csrf_token": "tok"}))
    assert 'name="target_entity" value="user"' in html
    assert f'name="target_id" value="{o.peer.pk}"' in html
    assert 'value="wechat"' in html and 'accept="image/*"' in html
    assert f"/timeline/?entity=user&amp;id={o.peer.pk}" in html
    assert "followupCreated from:body" in html


def test_api_list_query_count(o, sales, contacted, api_client, django_assert_max_num_queries):
    for i in range(5):
        services.activity_create(
            actor=sales, target_entity="user", target_id=o.peer.pk, kind="call", content=str(i)
        )
    api = api_client.login(sales)
    api.get("activities")  # warm up
    # DESIGN §3: at most 5 queries per list request, token authentication included.
    with django_assert_max_num_queries(5):
        r = api.get("activities", page_size=2)
    assert r.status_code == 200 and r.json()["count"] == 5
