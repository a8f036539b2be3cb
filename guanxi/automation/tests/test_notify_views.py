"""Pages: notification list with filters and mark-read, preferences, admin pages."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from guanxi.activities.models import Notification
from guanxi.activities.services import notification_create
from guanxi.automation.models import (
    EmailTemplate,
    NotificationPreference,
    RobotChannel,
    Webhook,
    WebhookDelivery,
)
from guanxi.automation.tests.fakeserver import receiver
from guanxi.tests_support import factories

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_bell_count_filters_and_mark_read() -> None:
    user = factories.user("sales")
    notification_create(recipient=user, verb="mention", title="Mentioned A", url="/leads/1/")
    notification_create(recipient=user, verb="approval_requested", title="Approve B")
    other = factories.user("sales")
    notification_create(recipient=other, verb="mention", title="Not mine")
    c = _client(user)
    home = c.get("/")
    assert '<span class="badge">2</span>' in home.content.decode()
    page = c.get(reverse("activities:notifications"), {"kind": "approval"}).content.decode()
    assert "Approve B" in page and "Mentioned A" not in page and "Not mine" not in page
    note = Notification.objects.get(title="Mentioned A")
    resp = c.post(reverse("activities:notification_read", args=[note.pk]))
    assert resp.status_code == 302 and resp["Location"] == "/leads/1/"
    assert '<span class="badge">1</span>' in c.get("/").content.decode()
    # Someone else's notification cannot be marked.
    theirs = Notification.objects.get(title="Not mine")
    assert c.post(reverse("activities:notification_read", args=[theirs.pk])).status_code == 404
    c.post(reverse("activities:notifications_read_all"))
    assert not Notification.objects.filter(recipient=user, read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=other, read_at__isnull=True).exists()


def test_preferences_page_saves_choices() -> None:
    user = factories.user("sales")
    c = _client(user)
    page = c.get(reverse("automation:notification_preferences"))
    assert page.status_code == 200 and 'name="mention:email"' in page.content.decode()
    c.post(reverse("automation:notification_preferences"), {"mention:in_app": "on"})
    stored = {
        (p.kind, p.channel): p.enabled for p in NotificationPreference.objects.filter(user=user)
    }
    assert stored[("mention", "in_app")] is True and stored[("mention", "email")] is False


def test_admin_pages_are_admin_only() -> None:
    c = _client(factories.user("sales"))
    for name in ("channels", "email_templates", "mail_log", "webhooks"):
        assert c.get(reverse(f"automation:{name}")).status_code == 404


def test_webhook_ui_create_and_redeliver(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    c = _client(factories.admin())
    bad = c.post(reverse("automation:webhooks"), {"url": "http://10.0.0.1/", "events": ["*"]})
    assert bad.status_code == 400 and "GUANXI_WEBHOOK_ALLOW_PRIVATE" in bad.content.decode()
    monkeypatch.setenv("GUANXI_WEBHOOK_ALLOW_PRIVATE", "1")
    with receiver() as rx:
        resp = c.post(
            reverse("automation:webhooks"),
            {"url": rx.url + "/h", "events": ["*"], "secret": "k", "active": "on"},
        )
        assert resp.status_code == 302
        hook = Webhook.objects.get()
        assert hook.secret == "k" and hook.events == ["*"]
        from guanxi.automation import webhooks

        with django_capture_on_commit_callbacks(execute=True):
            d = webhooks.queue_delivery(url=hook.url, event="manual", data={}, webhook=hook)
        with django_capture_on_commit_callbacks(execute=True):
            c.post(reverse("automation:delivery_redeliver", args=[d.pk]))
        assert len(rx.requests) == 2
        with django_capture_on_commit_callbacks(execute=True):
            webhooks.webhook_call(url=rx.url + "/rule", payload={"x": 1}, secret=None)
    listing = c.get(reverse("automation:webhooks")).content.decode()
    assert rx.url + "/rule" in listing  # a rule's call shows under "calls from rules"
    detail = c.get(reverse("automation:webhook_detail", args=[hook.pk])).content.decode()
    assert detail.count("Redeliver") >= 2 or detail.count("重新发送") >= 2
    assert WebhookDelivery.objects.filter(status="delivered").count() == 3


def test_channel_ui_and_test_button(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUANXI_WEBHOOK_ALLOW_PRIVATE", "1")
    c = _client(factories.admin())
    with receiver() as rx:
        resp = c.post(
            reverse("automation:channels"),
            {
                "name": "销售群",
                "kind": "feishu",
                "webhook_url": rx.url + "/hook",
                "secret": "s",
                "active": "on",
            },
        )
        assert resp.status_code == 302
        ch = RobotChannel.objects.get()
        c.post(reverse("automation:channel_test", args=[ch.pk]))
        assert len(rx.requests) == 1
        rx.status = 500
        failed = c.post(reverse("automation:channel_test", args=[ch.pk]), follow=True)
    assert "500" in failed.content.decode()


def test_template_ui_validates_and_saves() -> None:
    c = _client(factories.admin())
    bad = c.post(
        reverse("automation:email_template_new"),
        {"key": "k", "name": "n", "subject_zh": "{% if %}", "body_zh": "b"},
    )
    assert bad.status_code == 400
    ok = c.post(
        reverse("automation:email_template_new"),
        {"key": "welcome", "name": "Welcome", "subject_zh": "您好 {{ lead.name }}", "body_zh": "b"},
    )
    assert ok.status_code == 302 and EmailTemplate.objects.get().key == "welcome"
    assert c.get(reverse("automation:mail_log")).status_code == 200
    assert c.get(reverse("automation:email_templates")).status_code == 200
