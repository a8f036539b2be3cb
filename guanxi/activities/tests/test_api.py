from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from guanxi.activities import services
from guanxi.activities.models import Activity, Task
from guanxi.tests_support import factories

pytestmark = pytest.mark.django_db


def test_no_token_is_401():
    assert Client().get("/api/v1/tasks").status_code == 401
    assert Client().post("/api/v1/activities", {}).status_code == 401


def test_activity_create_and_list(o, sales, contacted, api_client):
    api = api_client.login(sales)
    r = api.post(
        "activities",
        {
            "target_entity": "user",
            "target_id": o.peer.pk,
            "kind": "wechat",
            "content": "微信沟通了需求",
            "next_followup_at": "2030-01-02T10:00:00+08:00",
        },
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["kind"] == "wechat" and body["owner"]["id"] == sales.pk
    assert body["task_id"] == Task.objects.get().pk
    assert contacted.calls and contacted.calls[0][0] == o.peer.pk

    r = api.get("activities", target_entity="user", target_id=o.peer.pk)
    assert r.status_code == 200
    data = r.json()
    assert data["count"] == 1 and data["count_exact"] is True and data["page_size"] == 50
    assert data["items"][0]["content"] == "微信沟通了需求"

    aid = body["id"]
    r = api.patch(f"activities/{aid}", {"outcome": "报价中"})
    assert r.status_code == 200 and r.json()["outcome"] == "报价中"
    assert api.get(f"activities/{aid}").status_code == 200


def test_activity_errors(o, sales, contacted, api_client):
    api = api_client.login(sales)
    r = api.post("activities", {"target_entity": "user", "target_id": o.service.pk, "content": "x"})
    assert r.status_code == 404
    r = api.get("activities", target_entity="user", target_id=o.service.pk)
    assert r.status_code == 404
    r = api.post(
        "activities",
        {"target_entity": "user", "target_id": o.peer.pk, "kind": "fax", "content": "x"},
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "kind"
    r = api.get("activities", page_size=500)
    assert r.status_code == 422
    readonly = o.give(o.east, factories.role("readonly"))
    r = api_client.login(readonly).post(
        "activities", {"target_entity": "user", "target_id": o.peer.pk, "content": "x"}
    )
    assert r.status_code == 403


def test_attachment_upload_endpoint(o, sales, contacted, api_client):
    activity = services.activity_create(
        actor=sales, target_entity="user", target_id=o.peer.pk, kind="visit", content="x"
    )
    from django.core.files.uploadedfile import SimpleUploadedFile

    api = api_client.login(sales)
    r = api.client.post(
        f"/api/v1/activities/{activity.pk}/attachments",
        {"files": [SimpleUploadedFile("a.png", b"\x89PNG....", "image/png")]},
        headers=api.headers,
    )
    assert r.status_code == 201, r.content
    assert r.json()[0]["name"] == "a.png"
    assert activity.attachments.count() == 1


def test_tasks_endpoints(o, sales, api_client):
    api = api_client.login(sales)
    r = api.post("tasks", {"title": "发合同", "due_at": "2030-01-02T10:00:00+08:00"})
    assert r.status_code == 201, r.content
    task = r.json()
    assert task["assignee"]["id"] == sales.pk and task["done"] is False
    r = api.post("tasks", {"title": "x", "assignee_id": o.peer.pk})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "assignee"
    r = api.post("tasks", {"title": ""})
    assert r.status_code == 422

    tid = task["id"]
    r = api.patch(f"tasks/{tid}", {"priority": "urgent", "title": "发合同!"})
    assert r.status_code == 200 and r.json()["priority"] == "urgent"
    r = api.post(f"tasks/{tid}/complete")
    assert r.status_code == 200 and r.json()["done"] is True
    r = api.get("tasks", done="false")
    assert r.json()["count"] == 0
    r = api.get(
        "tasks", done="true", due_from="2030-01-01T00:00:00Z", due_to="2030-01-03T00:00:00Z"
    )
    assert [t["id"] for t in r.json()["items"]] == [tid]
    r = api.patch(f"tasks/{tid}", {"done": False})
    assert r.json()["done"] is False

    other = Task.objects.create(title="peer's", assignee=o.peer)
    assert api.get(f"tasks/{other.pk}").status_code == 404
    assert api.post(f"tasks/{other.pk}/complete").status_code == 404
    assert api.patch(f"tasks/{other.pk}", {"title": "x"}).status_code == 404
    assert api.delete(f"tasks/{tid}").status_code == 204


def test_my_day_and_notifications(o, sales, api_client):
    now = dt.datetime.now(dt.UTC)
    Task.objects.create(title="late", assignee=sales, due_at=now - dt.timedelta(hours=1))
    Task.objects.create(title="later", assignee=sales, due_at=now + dt.timedelta(days=3))
    api = api_client.login(sales)
    r = api.get("my-day")
    assert r.status_code == 200
    body = r.json()
    assert [t["title"] for t in body["overdue"]] == ["late"]
    assert [t["title"] for t in body["upcoming"]] == ["later"]

    services.tasks_send_due_reminders()
    r = api.get("notifications")
    assert r.status_code == 200 and r.json()["count"] == 1
    nid = r.json()["items"][0]["id"]
    assert api.post(f"notifications/{nid}/read").status_code == 200
    assert api.get("notifications").json()["count"] == 0
    assert api.get("notifications", unread="false").json()["count"] == 1
    services.notification_create(recipient=sales, verb="x", title="y")
    r = api.post("notifications/read-all")
    assert r.status_code == 200 and r.json() == {"marked": 1}
    other = services.notification_create(recipient=o.peer, verb="x", title="y")
    assert api.post(f"notifications/{other.pk}/read").status_code == 404


def test_timeline_endpoint(o, sales, contacted, api_client):
    services.activity_create(
        actor=sales, target_entity="user", target_id=o.peer.pk, kind="call", content="hello"
    )
    api = api_client.login(sales)
    r = api.get("timeline", entity="user", id=o.peer.pk)
    assert r.status_code == 200, r.content
    items = r.json()["items"]
    assert items[0]["kind"] == "followup" and items[0]["body"] == "hello"
    r = api.get("timeline", entity="user", id=o.peer.pk, kind="change,ownership")
    assert r.json()["items"] == []
    assert api.get("timeline", entity="user", id=o.service.pk).status_code == 404
    assert api.get("timeline", entity="user", id=o.peer.pk, kind="bogus").status_code == 422
    assert api.get("timeline", entity="planet", id=1).status_code == 422
    assert Activity.objects.count() == 1
