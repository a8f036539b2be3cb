"""The three calls the rules engine makes: e-mail template, robot channel, webhook."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from django.core import mail

from guanxi.automation.channels import channel_post
from guanxi.automation.models import EmailTemplate, MailLog, RobotChannel, WebhookDelivery
from guanxi.automation.notify import send_email_template
from guanxi.automation.tests.fakeserver import receiver
from guanxi.automation.webhooks import webhook_call
from guanxi.core.errors import ValidationFailed

pytestmark = pytest.mark.django_db


@pytest.fixture
def commit(django_capture_on_commit_callbacks: Any) -> Any:
    return django_capture_on_commit_callbacks


@pytest.fixture
def allow_private(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUANXI_WEBHOOK_ALLOW_PRIVATE", "1")


def test_send_email_template_renders_and_logs(commit: Any) -> None:
    EmailTemplate.objects.create(
        key="welcome",
        name="Welcome",
        subject_zh="您好 {{ lead.name }}",
        body_zh="负责人：{{ owner.display_name }}",
        subject_en="Hello {{ lead.name }}",
        body_en="Owner: {{ owner.display_name }}",
    )
    with commit(execute=True):
        send_email_template(
            template_key="welcome",
            to=["a@example.com"],
            context={"lead": {"name": "张三"}, "owner": {"display_name": "王经理"}},
            record=("lead", 7),
            language="en",
        )
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "Hello 张三"
    assert mail.outbox[0].body == "Owner: 王经理"
    log = MailLog.objects.get()
    assert (log.status, log.entity, log.object_id, log.to) == ("sent", "lead", 7, ["a@example.com"])


def test_send_email_template_rejects_bad_input() -> None:
    with pytest.raises(ValidationFailed) as exc:
        send_email_template(template_key="nope", to=["a@example.com"], context={}, record=None)
    assert "template_key" in exc.value.as_dict()
    EmailTemplate.objects.create(key="t", name="t", subject_zh="s", body_zh="b")
    with pytest.raises(ValidationFailed) as exc:
        send_email_template(template_key="t", to=["not-an-address"], context={}, record=None)
    assert "to" in exc.value.as_dict()


def test_webhook_call_posts_signed_json(allow_private: None, commit: Any) -> None:
    with receiver() as rx:
        with commit(execute=True):
            webhook_call(url=rx.url + "/hook", payload={"lead": 1}, secret="s3cret")
        assert len(rx.requests) == 1
        got = rx.requests[0]
    body = json.loads(got.body)
    assert body["data"] == {"lead": 1} and body["event"] == "manual"
    expected = hmac.new(b"s3cret", got.body, hashlib.sha256).hexdigest()
    assert got.headers["x-guanxi-signature"] == f"sha256={expected}"
    assert got.headers["x-guanxi-delivery"] == body["delivery_id"]
    assert WebhookDelivery.objects.get().status == "delivered"


def test_webhook_call_refuses_loopback_without_the_setting() -> None:
    with pytest.raises(ValidationFailed) as exc:
        webhook_call(url="http://127.0.0.1:9/x", payload={}, secret=None)
    assert "url" in exc.value.as_dict()


def _channel(kind: str, url: str, secret: str = "sec") -> RobotChannel:
    return RobotChannel.objects.create(name=kind, kind=kind, webhook_url=url, secret=secret)


def test_dingtalk_signature(allow_private: None, commit: Any) -> None:
    with receiver() as rx:
        ch = _channel("dingtalk", rx.url + "/robot/send?access_token=abc")
        with commit(execute=True):
            channel_post(channel_id=ch.pk, title="新线索", text="张三", url="/leads/3/")
        got = rx.requests[0]
    query = parse_qs(urlsplit(got.path).query)
    ts = query["timestamp"][0]
    expected = base64.b64encode(
        hmac.new(b"sec", f"{ts}\nsec".encode(), hashlib.sha256).digest()
    ).decode()
    assert query["sign"][0] == expected  # parse_qs undoes the url-encoding
    assert query["access_token"] == ["abc"]
    raw_sign = urlsplit(got.path).query.split("sign=")[1]
    assert unquote(raw_sign) == expected and "+" not in raw_sign.replace("%2B", "")
    msg = json.loads(got.body)
    assert msg["msgtype"] == "actionCard"
    assert msg["actionCard"]["singleURL"].endswith("/leads/3/")


def test_feishu_signature(allow_private: None, commit: Any) -> None:
    with receiver() as rx:
        ch = _channel("feishu", rx.url + "/open-apis/bot/v2/hook/x")
        with commit(execute=True):
            channel_post(channel_id=ch.pk, title="新线索", text="张三", url="/leads/3/")
        got = rx.requests[0]
    msg = json.loads(got.body)
    ts = msg["timestamp"]
    expected = base64.b64encode(
        hmac.new(f"{ts}\nsec".encode(), b"", hashlib.sha256).digest()
    ).decode()
    assert msg["sign"] == expected
    assert msg["msg_type"] == "interactive"
    button = msg["card"]["elements"][1]["actions"][0]
    assert button["url"].endswith("/leads/3/")


def test_wecom_markdown(allow_private: None, commit: Any) -> None:
    with receiver() as rx:
        ch = _channel("wecom", rx.url + "/cgi-bin/webhook/send?key=k1", secret="")
        with commit(execute=True):
            channel_post(channel_id=ch.pk, title="新线索", text="张三", url="/leads/3/")
        got = rx.requests[0]
    assert "key=k1" in got.path
    msg = json.loads(got.body)
    assert msg["msgtype"] == "markdown"
    assert "**新线索**" in msg["markdown"]["content"] and "/leads/3/)" in msg["markdown"]["content"]


def test_robot_error_code_is_recorded(allow_private: None, commit: Any) -> None:
    with receiver() as rx:
        rx.reply = b'{"errcode":310000,"errmsg":"sign not match"}'
        ch = _channel("dingtalk", rx.url + "/robot/send")
        with commit(execute=True):
            channel_post(channel_id=ch.pk, title="t", text="x", url=None)
    ch.refresh_from_db()
    assert "310000" in ch.last_status


def test_channel_post_unknown_channel() -> None:
    with pytest.raises(ValidationFailed):
        channel_post(channel_id=999, title="t", text="x", url=None)
