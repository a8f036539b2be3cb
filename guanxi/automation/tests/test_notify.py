"""The notification centre: preferences routing, @mentions, assignments, e-mail templates."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.utils import translation

from guanxi.activities import services as activity_services
from guanxi.activities.models import Notification
from guanxi.automation import feeds, notify
from guanxi.automation.models import EmailTemplate, MailLog, RobotChannel
from guanxi.automation.tests.fakeserver import receiver
from guanxi.identity.models import User
from guanxi.leads import services as lead_services
from guanxi.tests_support import crm_factories, factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def team() -> dict[str, User]:
    sales = factories.department("销售部")
    east = factories.department("华东区", sales)
    return {
        "rep": factories.user("sales", department=east, username="rep", display_name="张伟"),
        "peer": factories.user("sales", department=east, username="peer", display_name="刘洋"),
        "head": factories.user(
            "manager",
            department=east,
            username="head",
            display_name="赵磊",
            email="head@example.com",
        ),
    }


def test_defaults_and_preferences_route_each_channel(
    team: dict[str, User], django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    head = team["head"]
    with django_capture_on_commit_callbacks(execute=True):
        used = notify.notify_user(user=head, kind=notify.MENTION, title="hi", url="/leads/1/")
    assert used == ["in_app", "email"]  # defaults of the mention kind
    assert Notification.objects.filter(recipient=head, verb="mention").count() == 1
    assert mail.outbox[-1].to == ["head@example.com"]
    assert mail.outbox[-1].body.endswith("/leads/1/")
    notify.preferences_save(
        actor=head,
        values={"mention": {"in_app": False, "email": False, "robot": True}},
    )
    monkeypatch.setenv("GUANXI_WEBHOOK_ALLOW_PRIVATE", "1")
    with receiver() as rx:
        RobotChannel.objects.create(name="g", kind="wecom", webhook_url=rx.url + "/r")
        with django_capture_on_commit_callbacks(execute=True):
            used = notify.notify_user(user=head, kind=notify.MENTION, title="again")
        assert len(rx.requests) == 1
    assert used == ["robot"]
    assert Notification.objects.filter(recipient=head).count() == 1
    assert len(mail.outbox) == 1
    assert notify.preferences(head)["mention"] == {"in_app": False, "email": False, "robot": True}
    assert notify.preferences(team["rep"])["mention"]["in_app"] is True


def test_preferences_reject_unknown_kind(team: dict[str, User]) -> None:
    from guanxi.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        notify.preferences_save(actor=team["rep"], values={"bogus": {"in_app": True}})


def test_mentioned_users_by_username_and_display_name(team: dict[str, User]) -> None:
    found = feeds.mentioned_users("请 @赵磊看一下，也抄送 @peer。邮件 a@b.com 不算")
    assert [u.username for u in found] == ["head", "peer"]
    assert feeds.mentioned_users("@赵磊请看") == [team["head"]]  # longest name, no space
    assert feeds.mentioned_users("no mentions here") == []


def test_mention_notifies_only_those_who_can_see_the_record(
    team: dict[str, User], django_capture_on_commit_callbacks: Any
) -> None:
    rep = team["rep"]
    with django_capture_on_commit_callbacks(execute=True):
        lead = crm_factories.lead(rep, name="华为线索")
    with django_capture_on_commit_callbacks(execute=True):
        activity_services.activity_create(
            actor=rep,
            target_entity="lead",
            target_id=lead.pk,
            kind="call",
            content="@赵磊 @peer @rep 客户想要报价",
        )
    head_notes = Notification.objects.filter(recipient=team["head"], verb="mention")
    assert head_notes.count() == 1
    note = head_notes.get()
    assert note.target_entity == "lead" and note.target_id == lead.pk
    assert note.url == f"/leads/{lead.pk}/" and "华为线索" in note.title
    # The peer (own scope) cannot see rep's lead; the author is not told about himself.
    assert not Notification.objects.filter(recipient=team["peer"], verb="mention").exists()
    assert not Notification.objects.filter(recipient=rep, verb="mention").exists()


def test_transfer_notifies_the_new_owner(
    team: dict[str, User], django_capture_on_commit_callbacks: Any
) -> None:
    head, peer = team["head"], team["peer"]
    with django_capture_on_commit_callbacks(execute=True):
        lead = crm_factories.lead(head, name="转交线索")
    with django_capture_on_commit_callbacks(execute=True), translation.override("en"):
        lead_services.lead_transfer(actor=head, records=[lead], to_user=peer)
    note = Notification.objects.get(recipient=peer, verb="assigned")
    assert "转交线索" in note.title and note.url == f"/leads/{lead.pk}/"


def test_email_template_zh_and_en(team: dict[str, User]) -> None:
    tpl = EmailTemplate.objects.create(
        key="followup",
        name="Follow-up",
        subject_zh="{{ lead.name }}：请跟进",
        body_zh="{{ owner.display_name }}，您好。{% if lead.vip %}VIP{% endif %}",
        subject_en="Please follow up {{ lead.name }}",
        body_en="Hello {{ owner.display_name }}",
    )
    ctx = {"lead": {"name": "张三", "vip": True}, "owner": {"display_name": "赵磊"}}
    assert notify.render_template(tpl, ctx, "zh-hans") == ("张三：请跟进", "赵磊，您好。VIP")
    assert notify.render_template(tpl, ctx, "en") == ("Please follow up 张三", "Hello 赵磊")


def test_template_rendering_is_sandboxed(team: dict[str, User]) -> None:
    from guanxi.core.errors import ValidationFailed

    rep = team["rep"]
    # A model instance is reduced to its text: no attribute, method or private access.
    ctx: dict[str, Any] = {"user": rep, "d": {"_secret": "x", "ok": "y"}}
    assert notify.render("{{ user.password }}|{{ user.pk }}", ctx) == "|"
    assert notify.render("{{ d.ok }}", ctx) == "y"
    with pytest.raises(ValidationFailed):
        notify.render("{{ d._secret }}", ctx)
    with pytest.raises(ValidationFailed):
        notify.render("{% load static %}{% static 'x' %}", {})
    with pytest.raises(ValidationFailed):
        notify.render("{% include 'web/base.html' %}", {})


def test_sent_mail_is_on_the_record_timeline(
    team: dict[str, User], django_capture_on_commit_callbacks: Any
) -> None:
    from guanxi.activities import selectors as activity_selectors

    rep = team["rep"]
    with django_capture_on_commit_callbacks(execute=True):
        lead = crm_factories.lead(rep, name="邮件线索")
    EmailTemplate.objects.create(
        key="hello", name="Hello", subject_zh="你好 {{ n }}", body_zh="正文"
    )
    with django_capture_on_commit_callbacks(execute=True):
        notify.send_email_template(
            template_key="hello",
            to=["c@example.com"],
            context={"n": "张三"},
            record=("lead", lead.pk),
        )
    assert MailLog.objects.get().status == "sent"
    page = activity_selectors.timeline(actor=rep, target_entity="lead", target_id=lead.pk)
    mails = [i for i in page.items if i.sub_kind == "email"]
    assert len(mails) == 1 and "你好 张三" in mails[0].title and "c@example.com" in mails[0].body
    # Someone who cannot see the lead cannot read its timeline at all.
    from guanxi.core.errors import OutOfScope

    with pytest.raises(OutOfScope):
        activity_selectors.timeline(actor=team["peer"], target_entity="lead", target_id=lead.pk)
