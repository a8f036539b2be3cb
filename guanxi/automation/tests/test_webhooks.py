"""Outbound webhooks: API, signature, retries with back-off, give-up, redelivery, refusal."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from typing import Any

import pytest
from django.utils import timezone

from guanxi.automation import netguard, webhooks
from guanxi.automation.models import Webhook, WebhookDelivery
from guanxi.automation.tests.fakeserver import receiver
from guanxi.core import events
from guanxi.tests_support import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def allow_private(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUANXI_WEBHOOK_ALLOW_PRIVATE", "1")


def test_backoff_schedule_doubles_and_caps() -> None:
    delays = [webhooks.backoff(n).total_seconds() for n in range(1, 11)]
    assert delays[:6] == [30, 60, 120, 240, 480, 960]
    assert max(delays) == 7200 and delays[-1] == 7200


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://localhost:8000/x",
        "http://10.1.2.3/x",
        "http://192.168.0.5/x",
        "http://172.16.0.1/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/x",
        "http://[fe80::1]/x",
        "http://0.0.0.0/x",
        "http://[::ffff:10.0.0.1]/x",
        "http://240.0.0.1/x",
        "ftp://example.com/x",
        "http://user:pw@8.8.8.8/x",
    ],
)
def test_private_and_odd_targets_are_refused(url: str) -> None:
    with pytest.raises(netguard.TargetRefused):
        netguard.check_url(url)


def test_public_address_is_accepted() -> None:
    assert netguard.check_url("https://8.8.8.8/hook").address == "8.8.8.8"


def test_delivery_time_check_catches_rebinding(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    """Accepted when saved (public answer), refused at delivery (the name now resolves to
    127.0.0.1): the request never leaves, the delivery is retried later."""
    answers = {"hook.example": "93.184.216.34"}

    def fake_getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        return [(2, 1, 6, "", (answers[host], port))]

    monkeypatch.setattr(netguard.socket, "getaddrinfo", fake_getaddrinfo)
    netguard.check_url("http://hook.example/x")
    answers["hook.example"] = "127.0.0.1"
    with django_capture_on_commit_callbacks(execute=True):
        d = webhooks.queue_delivery(url="http://hook.example/x", event="manual", data={})
    d.refresh_from_db()
    assert d.status == "pending" and d.attempts == 1 and "GUANXI_WEBHOOK_ALLOW_PRIVATE" in d.error


def test_api_crud_and_validation(api_client: Any) -> None:
    admin = factories.admin()
    api_client.login(admin)
    bad = api_client.post("webhooks", {"url": "http://10.0.0.1/x", "events": ["lead.created"]})
    assert bad.status_code == 422 and "url" in bad.content.decode()
    bad = api_client.post("webhooks", {"url": "https://8.8.8.8/x", "events": ["no.such"]})
    assert bad.status_code == 422 and "events" in bad.content.decode()
    created = api_client.post(
        "webhooks", {"url": "https://8.8.8.8/x", "events": ["lead.created"], "secret": "k"}
    )
    assert created.status_code == 201, created.content
    hid = created.json()["id"]
    assert created.json()["has_secret"] is True and "secret" not in created.json()
    assert [h["id"] for h in api_client.get("webhooks").json()] == [hid]
    patched = api_client.patch(f"webhooks/{hid}", {"events": ["*"], "active": False})
    assert patched.json()["events"] == ["*"] and patched.json()["active"] is False
    assert api_client.get(f"webhooks/{hid}").status_code == 200
    assert api_client.delete(f"webhooks/{hid}").status_code == 204
    assert api_client.get(f"webhooks/{hid}").status_code == 404
    assert any(e["name"] == "lead.created" for e in api_client.get("events").json())


def test_api_needs_the_webhook_permission(api_client: Any) -> None:
    api_client.login(factories.user("sales"))
    assert api_client.get("webhooks").status_code == 403
    denied = api_client.post("webhooks", {"url": "https://8.8.8.8/x", "events": ["*"]})
    assert denied.status_code == 403


def test_event_is_delivered_signed_to_subscribers(
    allow_private: None, django_capture_on_commit_callbacks: Any
) -> None:
    with receiver() as rx:
        hook = Webhook.objects.create(url=rx.url + "/in", events=["user.updated"], secret="k")
        Webhook.objects.create(url=rx.url + "/other", events=["lead.created"])
        with django_capture_on_commit_callbacks(execute=True):
            events.emit("user.updated", {"id": 5, "changes": ["active"]}, actor_id=None)
        assert len(rx.requests) == 1
        got = rx.requests[0]
    assert got.path == "/in"
    assert got.headers["x-guanxi-event"] == "user.updated"
    assert got.headers["x-guanxi-signature"] == (
        "sha256=" + hmac.new(b"k", got.body, hashlib.sha256).hexdigest()
    )
    body = json.loads(got.body)
    assert set(body) == {"event", "delivery_id", "occurred_at", "data"}
    assert body["data"]["id"] == 5
    d = WebhookDelivery.objects.get(webhook=hook)
    assert d.delivery_id == got.headers["x-guanxi-delivery"] == body["delivery_id"]
    assert (d.status, d.response_code, d.attempts) == ("delivered", 200, 1)
    assert d.duration_ms is not None and d.response_snippet.startswith("{")


def test_failures_are_retried_with_backoff_then_delivered(allow_private: None) -> None:
    start = timezone.now()
    with receiver() as rx:
        rx.status = 500
        d = webhooks.queue_delivery(url=rx.url, event="manual", data={"n": 1}, now=start)
        assert webhooks.attempt(d.pk, now=start) == "pending"
        d.refresh_from_db()
        assert (d.status, d.attempts, d.response_code) == ("pending", 1, 500)
        assert d.next_attempt_at == start + dt.timedelta(seconds=30)
        # Not yet due: the scanner leaves it alone.
        assert webhooks.retry_due(now=start + dt.timedelta(seconds=29)) == 0
        assert webhooks.retry_due(now=start + dt.timedelta(seconds=30)) == 1
        d.refresh_from_db()
        assert d.attempts == 2
        assert d.next_attempt_at == start + dt.timedelta(seconds=30 + 60)
        rx.status = 204
        assert webhooks.retry_due(now=start + dt.timedelta(seconds=90)) == 1
        assert len(rx.requests) == 3
        # The same delivery id on every attempt.
        assert len({r.headers["x-guanxi-delivery"] for r in rx.requests}) == 1
    d.refresh_from_db()
    assert (d.status, d.attempts, d.next_attempt_at) == ("delivered", 3, None)


def test_connection_errors_and_timeouts_are_retried(
    allow_private: None, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    monkeypatch.setattr(netguard, "TIMEOUT_SECONDS", 0.3)
    with receiver() as rx:
        rx.delay = 1.0
        with django_capture_on_commit_callbacks(execute=True):
            d = webhooks.queue_delivery(url=rx.url, event="manual", data={})
    d.refresh_from_db()
    assert d.status == "pending" and "timed out" in d.error.lower()
    with django_capture_on_commit_callbacks(execute=True):
        d2 = webhooks.queue_delivery(url="http://127.0.0.1:1/none", event="manual", data={})
    d2.refresh_from_db()
    assert d2.status == "pending" and d2.attempts == 1 and "Connection" in d2.error


def test_gives_up_after_24_hours(allow_private: None) -> None:
    start = timezone.now() - dt.timedelta(hours=30)
    with receiver() as rx:
        rx.status = 503
        d = webhooks.queue_delivery(url=rx.url, event="manual", data={}, now=start)
        now = start
        while True:
            d.refresh_from_db()
            if d.status != "pending":
                break
            now = d.next_attempt_at
            assert webhooks.attempt(d.pk, now=now) in {"pending", "failed"}
    d.refresh_from_db()
    assert d.status == "failed" and d.next_attempt_at is None
    assert now - start <= dt.timedelta(hours=24)
    assert d.last_attempt_at is not None
    assert d.attempts == len(rx.requests)
    # 30 s … 2 h: 8 doubling waits (30 s → 1 h 4 min) then 2-hourly up to 24 h.
    assert 15 <= d.attempts <= 20
    assert webhooks.retry_due(now=now + dt.timedelta(days=1)) == 0


def test_redeliver_by_hand(
    allow_private: None, api_client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    api_client.login(factories.admin())
    with receiver() as rx:
        hook = Webhook.objects.create(url=rx.url, events=["*"], secret="k")
        rx.status = 500
        with django_capture_on_commit_callbacks(execute=True):
            old = webhooks.queue_delivery(
                url=hook.url, event="user.updated", data={"id": 1}, secret="k", webhook=hook
            )
        rx.status = 200
        with django_capture_on_commit_callbacks(execute=True):
            resp = api_client.post(f"webhook-deliveries/{old.pk}/redeliver")
        assert resp.status_code == 202, resp.content
        assert len(rx.requests) == 2
        first, second = rx.requests
    assert first.headers["x-guanxi-delivery"] != second.headers["x-guanxi-delivery"]
    assert json.loads(second.body)["data"] == {"id": 1}
    new = WebhookDelivery.objects.get(delivery_id=second.headers["x-guanxi-delivery"])
    assert new.status == "delivered"
    listed = api_client.get(f"webhooks/{hook.pk}/deliveries").json()
    assert {d["delivery_id"] for d in listed} == {old.delivery_id, new.delivery_id}


def test_two_scanners_do_not_send_twice(allow_private: None) -> None:
    start = timezone.now()
    with receiver() as rx:
        d = webhooks.queue_delivery(url=rx.url, event="manual", data={}, now=start)
        WebhookDelivery.objects.filter(pk=d.pk).update(next_attempt_at=start)
        webhooks.attempt(d.pk, now=start)
        # A second worker with the same (stale) view of time finds it claimed/delivered.
        assert webhooks.attempt(d.pk, now=start) == "delivered"
        assert len(rx.requests) == 1
