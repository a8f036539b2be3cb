"""The rules engine: each trigger kind, condition operator and action; idempotency of
time-based rules under a double run; loop protection; retry of a failing action."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone, translation

from guanxi.activities import services as activity_services
from guanxi.activities.models import Notification, Task
from guanxi.automation.models import ApprovalRequest
from guanxi.automation.rules import conditions, engine, services
from guanxi.automation.rules.models import Rule, RuleFiring, RuleRun
from guanxi.core.errors import NotPermitted, ValidationFailed
from guanxi.core.models import CustomField
from guanxi.customers.models import Account, Contact
from guanxi.identity.models import User
from guanxi.leads import assignment
from guanxi.leads.models import Lead
from guanxi.sales.models import Stage
from guanxi.sales.services import deal_move_stage
from guanxi.tests_support import crm_factories, factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def org() -> dict[str, Any]:
    admin = factories.admin(username="admin")
    dept = factories.department("销售部")
    boss = factories.user("sales", department=dept, username="boss")
    dept.head = boss
    dept.save()
    sales = factories.user("sales", department=dept, username="sales")
    other = factories.user("sales", department=dept, username="other")
    return {"admin": admin, "dept": dept, "boss": boss, "sales": sales, "other": other}


def _rule(admin: User, **data: Any) -> Rule:
    values: dict[str, Any] = {
        "name": "rule",
        "entity": "lead",
        "trigger": "event",
        "event": "lead.created",
        "enabled": True,
        "actions": [{"type": "create_task", "title": "首次联系：{name}", "due_hours": 24}],
    }
    values.update(data)
    return services.rule_create(actor=admin, data=values)


def _row(field: str, op: str, value: Any = "") -> dict[str, Any]:
    return {"match": "all", "items": [{"field": field, "op": op, "value": value}]}


# --- triggers ---------------------------------------------------------------------------


def test_event_trigger_creates_the_task_for_the_owner_and_logs_the_run(
    org: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    rule = _rule(org["admin"])
    with django_capture_on_commit_callbacks(execute=True):
        lead = crm_factories.lead(org["sales"], name="张伟")
    task = Task.objects.get(target_entity="lead", target_id=lead.pk)
    assert task.title == "首次联系：张伟"
    assert task.assignee == org["sales"]
    assert task.due_at is not None
    assert dt.timedelta(hours=23) < task.due_at - timezone.now() <= dt.timedelta(hours=24)
    run = RuleRun.objects.get(rule=rule)
    assert (run.status, run.record_id, run.event, run.depth) == ("ok", lead.pk, "lead.created", 0)
    assert run.results[0]["status"] == "ok"
    # the owner was notified of the task given by the rule's author
    assert Notification.objects.filter(recipient=org["sales"], verb="task.assigned").exists()


def test_disabled_rule_and_other_events_do_nothing(
    org: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    _rule(org["admin"], enabled=False)
    _rule(org["admin"], event="lead.updated")
    with django_capture_on_commit_callbacks(execute=True):
        crm_factories.lead(org["sales"])
    assert not Task.objects.exists()
    assert not RuleRun.objects.exists()


def test_same_event_handled_twice_fires_once(org: dict[str, Any]) -> None:
    rule = _rule(org["admin"])
    lead = crm_factories.lead(org["sales"])
    assert engine.handle_event("lead.created", {"id": lead.pk}, None, 0, "evt-1") == 1
    assert engine.handle_event("lead.created", {"id": lead.pk}, None, 0, "evt-1") == 0
    assert Task.objects.count() == 1
    assert RuleFiring.objects.filter(rule=rule).count() == 1


def test_date_trigger_fires_once_even_when_run_twice(org: dict[str, Any]) -> None:
    now = timezone.now()
    due = crm_factories.lead(org["sales"], next_followup_at=now - dt.timedelta(days=1, hours=1))
    later = crm_factories.lead(org["sales"], next_followup_at=now + dt.timedelta(days=2))
    ancient = crm_factories.lead(org["sales"], next_followup_at=now - dt.timedelta(days=40))
    rule = _rule(
        org["admin"], trigger="date", event="", date_field="next_followup_at", offset_days=1
    )
    assert engine.scan_time_rules(now) == 1
    assert engine.scan_time_rules(now) == 0  # a second worker run: nothing new
    assert Task.objects.filter(target_id=due.pk).count() == 1
    assert not Task.objects.filter(target_id__in=[later.pk, ancient.pk]).exists()
    assert RuleRun.objects.filter(rule=rule).count() == 1
    # two days on, the later lead is due (and the first one is not fired again)
    assert engine.scan_time_rules(now + dt.timedelta(days=3, hours=1)) == 1
    assert Task.objects.filter(target_id=later.pk).count() == 1


def test_date_trigger_before_a_date(org: dict[str, Any]) -> None:
    now = timezone.now()
    deal = crm_factories.deal(
        org["sales"], expected_close_date=(now + dt.timedelta(days=30)).date()
    )
    _rule(
        org["admin"],
        entity="deal",
        trigger="date",
        event="",
        date_field="expected_close_date",
        offset_days=-30,
    )
    assert engine.scan_time_rules(now) == 1
    assert Task.objects.filter(target_entity="deal", target_id=deal.pk).count() == 1


def test_annual_birthday_trigger(org: dict[str, Any]) -> None:
    now = timezone.now()
    today = timezone.localdate(now)
    born = today.replace(year=1990) if not (today.month == 2 and today.day == 29) else today
    contact = crm_factories.contact(org["sales"], birthday=born.isoformat())
    crm_factories.contact(org["sales"], birthday=(today + dt.timedelta(days=10)).replace(year=1985))
    _rule(org["admin"], entity="contact", trigger="date", event="", date_field="birthday")
    assert engine.scan_time_rules(now) == 1
    assert engine.scan_time_rules(now) == 0
    assert Task.objects.get().target_id == contact.pk
    # next year it fires again
    assert engine.scan_time_rules(now + dt.timedelta(days=365 + (born.year % 4 == 0))) == 1


def test_inactivity_trigger_once_per_quiet_stretch(org: dict[str, Any]) -> None:
    now = timezone.now()
    quiet = crm_factories.account(org["sales"], name="安静客户", lifecycle_stage="customer")
    prospect = crm_factories.account(org["sales"], name="潜在客户")
    Account.objects.filter(pk__in=[quiet.pk, prospect.pk]).update(
        created_at=now - dt.timedelta(days=30)
    )
    care = Rule.objects.get(template_key="account_care_10_days")
    assert not care.enabled and care.created_by is None
    care = services.rule_update(actor=org["admin"], rule=care, data={"enabled": True})
    assert care.created_by == org["admin"]
    assert engine.scan_time_rules(now) == 1
    assert engine.scan_time_rules(now) == 0
    task = Task.objects.get()
    assert (task.target_id, task.title, task.assignee) == (
        quiet.pk,
        "客户关怀：安静客户",
        org["sales"],
    )
    # a follow-up starts a new stretch: nothing now, a new care task 10 days later
    activity_services.activity_create(
        actor=org["sales"],
        target_entity="account",
        target_id=quiet.pk,
        kind="call",
        content="回访",
        occurred_at=now,
    )
    assert engine.scan_time_rules(now + dt.timedelta(days=5)) == 0
    assert engine.scan_time_rules(now + dt.timedelta(days=11)) == 1
    assert Task.objects.count() == 2


# --- conditions -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (("city", "eq", "上海"), True),
        (("city", "eq", "北京"), False),
        (("city", "ne", "北京"), True),
        (("score", "gt", "50"), True),
        (("score", "gt", "80"), False),
        (("score", "lt", "80"), True),
        (("next_followup_at", "lt", "2030-01-01"), True),
        (("next_followup_at", "gt", "2030-01-01"), False),
        (("company", "contains", "科技"), True),
        (("tags", "contains", "vip"), True),
        (("tags", "contains", "cold"), False),
        (("city", "in", ["北京", "上海"]), True),
        (("tags", "in", ["x", "VIP"]), True),
        (("notes", "empty", ""), True),
        (("notes", "not_empty", ""), False),
        (("custom.budget", "gt", "1000"), True),
        (("owner_department", "eq", "7"), True),
        (("status", "changed", ""), True),
        (("city", "changed", ""), False),
        (("status", "changed_to", "contacted"), True),
        (("status", "changed_to", "new"), False),
    ],
)
def test_each_operator(row: tuple[str, str, Any], expected: bool) -> None:
    values = {
        "city": "上海",
        "score": 60,
        "next_followup_at": "2026-05-01T10:00:00+08:00",
        "company": "上海某某科技",
        "tags": ["vip", "hot"],
        "notes": "",
        "custom": {"budget": "5000"},
        "owner_department": 7,
    }
    changes = {"status": ["new", "contacted"]}
    field, op, value = row
    verdict = conditions.evaluate(_row(field, op, value), values, changes)
    assert verdict.passed is expected
    assert verdict.reasons[0]["passed"] is expected


def test_and_or_groups_with_reasons() -> None:
    spec = {
        "match": "all",
        "items": [
            {"field": "city", "op": "eq", "value": "上海"},
            {
                "match": "any",
                "items": [
                    {"field": "score", "op": "gt", "value": "90"},
                    {"field": "tags", "op": "contains", "value": "vip"},
                ],
            },
        ],
    }
    ok = conditions.evaluate(spec, {"city": "上海", "score": 10, "tags": ["vip"]})
    assert ok.passed
    assert [r["passed"] for r in ok.reasons] == [True, False, True]
    assert [r["level"] for r in ok.reasons] == [0, 1, 1]
    assert not conditions.evaluate(spec, {"city": "上海", "score": 10, "tags": []}).passed
    assert not conditions.evaluate(spec, {"city": "北京", "score": 99, "tags": []}).passed


def test_conditions_on_custom_field_tier_and_department_through_events(
    org: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    CustomField.objects.create(entity="contact", key="level", label_zh="级别", kind="text")
    vip = crm_factories.account(org["sales"], tier="A")
    plain = crm_factories.account(org["sales"], tier="C")
    _rule(
        org["admin"],
        entity="contact",
        event="contact.created",
        conditions={
            "match": "all",
            "items": [
                {"field": "tier", "op": "eq", "value": "A"},
                {"field": "owner_department", "op": "eq", "value": str(org["dept"].pk)},
                {"field": "custom.level", "op": "eq", "value": "gold"},
            ],
        },
        actions=[{"type": "notify", "recipient": "manager", "message": "VIP 联系人 {name}"}],
    )
    with django_capture_on_commit_callbacks(execute=True):
        hit = crm_factories.contact(
            org["sales"], name="王总", account_id=vip.pk, custom={"level": "gold"}
        )
        crm_factories.contact(org["sales"], account_id=plain.pk, custom={"level": "gold"})
        crm_factories.contact(org["sales"], account_id=vip.pk, custom={"level": "silver"})
    note = Notification.objects.get(verb="rule")
    assert (note.recipient, note.title, note.target_id) == (org["boss"], "VIP 联系人 王总", hit.pk)


def test_changed_to_stage_with_the_shipped_template(
    org: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    template = Rule.objects.get(template_key="deal_proposal_prepare")
    services.rule_set_enabled(actor=org["admin"], rule=template, enabled=True)
    deal = crm_factories.deal(
        org["sales"], amount="1000", expected_close_date=dt.date(2030, 1, 1).isoformat()
    )
    proposal = Stage.objects.get(pipeline=deal.pipeline, name="方案/报价")
    with django_capture_on_commit_callbacks(execute=True):
        deal_move_stage(actor=org["sales"], deal=deal, stage=proposal)
    task = Task.objects.get(target_entity="deal", target_id=deal.pk)
    assert task.title == f"准备方案：{deal.name}"


def test_rule_validation_names_the_field(org: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed) as exc:
        _rule(
            org["admin"],
            event="deal.created",
            conditions=_row("nope", "eq", "x"),
            actions=[{"type": "create_task", "title": ""}, {"type": "explode"}],
        )
    fields = {e.field for e in exc.value.errors}
    assert {
        "event",
        "conditions.items[1].field",
        "actions[1].title",
        "actions[2].type",
    } <= fields
    with pytest.raises(ValidationFailed) as exc:
        _rule(org["admin"], conditions=_row("score", "gt", "abc"), actions=[])
    assert {e.field for e in exc.value.errors} == {"conditions.items[1].value", "actions"}
    with pytest.raises(NotPermitted):
        _rule(org["sales"])


# --- actions ----------------------------------------------------------------------------


def _fire(rule: Rule, entity: str, obj: Any) -> RuleRun:
    from guanxi.automation.rules import entities

    spec = entities.get(entity)
    fresh = spec.load(obj.pk)
    assert engine.fire(
        rule=engine._compiled(rule),
        spec=spec,
        obj=fresh,
        values=spec.values(fresh),
        occasion=f"test-{rule.pk}",
    )
    return RuleRun.objects.filter(rule=rule).latest("id")


def test_task_for_the_manager_and_for_a_named_user(org: dict[str, Any]) -> None:
    lead = crm_factories.lead(org["sales"])
    rule = _rule(
        org["admin"],
        actions=[
            {"type": "create_task", "title": "A", "assignee": "manager", "due_hours": 2},
            {"type": "create_task", "title": "B", "assignee": "user", "user_id": org["other"].pk},
        ],
    )
    run = _fire(rule, "lead", lead)
    assert run.status == "ok"
    assert Task.objects.get(title="A").assignee == org["boss"]
    assert Task.objects.get(title="B").assignee == org["other"]


def test_assign_by_the_assignment_rules(org: dict[str, Any]) -> None:
    lead = crm_factories.lead(org["sales"], city="杭州")
    assignment.rule_create(
        actor=org["admin"],
        data={
            "name": "杭州",
            "method": "user",
            "user_ids": [org["other"].pk],
            "conditions": {"city": ["杭州"]},
        },
    )
    rule = _rule(org["admin"], actions=[{"type": "assign"}])
    run = _fire(rule, "lead", lead)
    assert run.status == "ok", run.results
    lead.refresh_from_db()
    assert lead.owner == org["other"]
    assert "杭州" in lead.assigned_reason


def test_update_field_and_tags(org: dict[str, Any]) -> None:
    lead = crm_factories.lead(org["sales"], tags=["old"])
    rule = _rule(
        org["admin"],
        actions=[
            {"type": "update_field", "field": "industry", "value": "制造业"},
            {"type": "add_tag", "tag": "自动"},
            {"type": "remove_tag", "tag": "old"},
        ],
    )
    run = _fire(rule, "lead", lead)
    assert run.status == "ok", run.results
    lead.refresh_from_db()
    assert lead.industry == "制造业"
    assert lead.tags == ["自动"]


def test_request_approval_of_a_deal(org: dict[str, Any]) -> None:
    deal = crm_factories.deal(org["sales"], amount="500000")
    rule = _rule(
        org["admin"],
        entity="deal",
        event="deal.created",
        actions=[{"type": "request_approval", "reason": "大单 {amount}"}],
    )
    run = _fire(rule, "deal", deal)
    assert run.status == "ok", run.results
    req = ApprovalRequest.objects.get(entity="deal", object_id=deal.pk)
    assert req.steps.get().approver == org["boss"]


def test_notify_and_merge_fields(org: dict[str, Any]) -> None:
    lead = crm_factories.lead(org["sales"], name="李雷", company="韩梅梅公司")
    rule = _rule(
        org["admin"],
        actions=[{"type": "notify", "recipient": "owner", "message": "{name} @ {company}"}],
    )
    _fire(rule, "lead", lead)
    note = Notification.objects.get(verb="rule")
    assert (note.recipient, note.title) == (org["sales"], "李雷 @ 韩梅梅公司")
    assert note.url.endswith(f"/leads/{lead.pk}/")


# --- failures, retries, loops -----------------------------------------------------------


def test_failing_action_does_not_stop_the_others_and_is_retried(org: dict[str, Any]) -> None:
    from huey.contrib.djhuey import HUEY

    lead = crm_factories.lead(org["sales"])
    helper = org["other"]
    rule = _rule(
        org["admin"],
        actions=[
            {"type": "create_task", "title": "协助", "assignee": "user", "user_id": helper.pk},
            {"type": "add_tag", "tag": "ok"},
        ],
    )
    User.objects.filter(pk=helper.pk).update(is_active=False)
    before = len(HUEY.scheduled())
    with pytest.MonkeyPatch.context():
        run = _fire(rule, "lead", lead)
    assert run.status == "partial"
    assert [r["status"] for r in run.results] == ["retrying", "ok"]
    assert "inactive" in run.results[0]["message"]
    lead.refresh_from_db()
    assert lead.tags == ["ok"]
    # still failing: the next try is scheduled later (back-off)
    assert engine.retry_action(run.pk, 0, 2) is False
    run.refresh_from_db()
    assert run.results[0]["attempts"] == 2 and run.results[0]["status"] == "retrying"
    # fixed: the retry succeeds and the run is whole
    User.objects.filter(pk=helper.pk).update(is_active=True)
    assert engine.retry_action(run.pk, 0, 3) is True
    run.refresh_from_db()
    assert run.status == "ok"
    assert Task.objects.get(title="协助").assignee == helper
    # a finished action is not retried again
    assert engine.retry_action(run.pk, 0, 4) is False
    assert len(HUEY.scheduled()) >= before


def test_retries_give_up_after_the_last_attempt(org: dict[str, Any]) -> None:
    lead = crm_factories.lead(org["sales"])
    rule = _rule(
        org["admin"],
        actions=[
            {"type": "create_task", "title": "x", "assignee": "user", "user_id": org["other"].pk}
        ],
    )
    User.objects.filter(pk=org["other"].pk).update(is_active=False)
    run = _fire(rule, "lead", lead)
    assert engine.retry_action(run.pk, 0, engine.MAX_ATTEMPTS) is False
    run.refresh_from_db()
    assert (run.status, run.results[0]["status"]) == ("error", "error")


def test_loop_protection_stops_a_chain_at_depth_three(
    org: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    lead = crm_factories.lead(org["sales"], notes="")
    rule = _rule(
        org["admin"],
        event="lead.updated",
        actions=[{"type": "update_field", "field": "notes", "value": "{notes}+"}],
    )
    from guanxi.leads.services import lead_update

    with django_capture_on_commit_callbacks(execute=True):
        lead_update(actor=org["sales"], lead=lead, data={"notes": "x"})
    lead.refresh_from_db()
    assert lead.notes == "x++++"  # depths 0, 1, 2, 3 fired
    runs = list(RuleRun.objects.filter(rule=rule).order_by("id"))
    assert [r.depth for r in runs] == [0, 1, 2, 3, 4]
    assert [r.status for r in runs] == ["ok", "ok", "ok", "ok", "stopped"]
    assert "more than 3" in runs[-1].message


def test_dry_run_explains_without_doing(org: dict[str, Any]) -> None:
    lead = crm_factories.lead(org["sales"], city="上海")
    rule = _rule(
        org["admin"],
        enabled=False,
        conditions={
            "match": "all",
            "items": [
                {"field": "city", "op": "eq", "value": "上海"},
                {"field": "score", "op": "gt", "value": "1000"},
            ],
        },
    )
    result = engine.dry_run(rule, lead.pk)
    assert result["would_fire"] is False
    assert [r["passed"] for r in result["conditions"]["reasons"]] == [True, False]
    assert result["actions"][0]["summary"].startswith("Create the task")
    assert not Task.objects.exists() and not RuleRun.objects.exists()
    with pytest.raises(ValidationFailed):
        engine.dry_run(rule, 999999)


def test_dry_run_of_a_time_rule_tells_whether_it_is_due(org: dict[str, Any]) -> None:
    now = timezone.now()
    lead = crm_factories.lead(org["sales"], next_followup_at=now - dt.timedelta(hours=1))
    rule = _rule(org["admin"], trigger="date", event="", date_field="next_followup_at")
    assert engine.dry_run(rule, lead.pk)["would_fire"] is True
    engine.scan_time_rules(now)
    result = engine.dry_run(rule, lead.pk)
    assert result["would_fire"] is False
    assert "already fired" in result["trigger"]["note"]


def test_rule_of_an_inactive_author_logs_an_error(org: dict[str, Any]) -> None:
    second_admin = factories.admin(username="admin2")
    rule = _rule(second_admin)
    User.objects.filter(pk=second_admin.pk).update(is_active=False)
    lead = crm_factories.lead(org["sales"])
    engine.handle_event("lead.created", {"id": lead.pk}, None, 0, "e")
    run = RuleRun.objects.get(rule=rule)
    assert run.status == "error" and "author" in run.message
    assert not Task.objects.exists()
    assert Lead.objects.filter(pk=lead.pk).exists()
    assert Contact.objects.count() == 0


# --- events -----------------------------------------------------------------------------


def test_envelope_has_record_changes_and_actor(
    org: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    from guanxi.core import events
    from guanxi.leads.services import lead_update

    seen: list[events.Event] = []
    events.subscribe("lead.updated", seen.append)
    try:
        lead = crm_factories.lead(org["sales"], city="北京")
        with django_capture_on_commit_callbacks(execute=True):
            lead_update(actor=org["sales"], lead=lead, data={"city": "上海"})
    finally:
        events.unsubscribe("lead.updated", seen.append)
    env = events.envelope(seen[0])
    assert env["event"] == "lead.updated" and env["entity"] == "lead" and env["id"] == lead.pk
    assert env["record"]["city"] == "上海" and env["record"]["owner"]["id"] == org["sales"].pk
    assert env["changes"]["city"] == ["北京", "上海"]
    assert env["actor"] == {"id": org["sales"].pk, "username": "sales"}


def test_task_overdue_is_emitted_once(
    org: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    from guanxi.core import events

    now = timezone.now()
    task = activity_services.task_create(
        actor=org["sales"], title="回电", due_at=now - dt.timedelta(days=2)
    )
    activity_services.task_create(actor=org["sales"], title="不急", due_at=now)
    seen: list[events.Event] = []
    events.subscribe("task.overdue", seen.append)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            assert activity_services.tasks_report_overdue(now) == 1
            assert activity_services.tasks_report_overdue(now) == 0
    finally:
        events.unsubscribe("task.overdue", seen.append)
    assert [e.payload["id"] for e in seen] == [task.pk]


# --- e-mail, robot channel and webhook actions (sent by the notification centre) -------


@pytest.fixture
def allow_private(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUANXI_WEBHOOK_ALLOW_PRIVATE", "1")


def test_send_email_action_to_the_record_and_to_the_owner(
    org: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    from django.core import mail

    from guanxi.automation.models import EmailTemplate, MailLog

    EmailTemplate.objects.create(
        key="hello",
        name="问候",
        subject_zh="您好 {{ lead.name }}",
        body_zh="{{ rule }}",
        subject_en="Hello {{ lead.name }}",
        body_en="{{ rule }}",
    )
    User.objects.filter(pk=org["sales"].pk).update(email="sales@example.com")
    lead = crm_factories.lead(org["sales"], name="张三", email="zs@example.com")
    rule = _rule(
        org["admin"],
        name="问候规则",
        actions=[
            {"type": "send_email", "template_key": "hello", "to": "record"},
            {"type": "send_email", "template_key": "hello", "to": "owner"},
        ],
    )
    with django_capture_on_commit_callbacks(execute=True):
        run = _fire(rule, "lead", lead)
    assert run.status == "ok", run.results
    assert sorted(m.to[0] for m in mail.outbox) == ["sales@example.com", "zs@example.com"]
    assert mail.outbox[0].subject == "Hello 张三" and mail.outbox[0].body == "问候规则"
    assert MailLog.objects.filter(entity="lead", object_id=lead.pk).count() == 2
    with pytest.raises(ValidationFailed) as exc:
        _rule(
            org["admin"],
            entity="deal",
            event="deal.created",
            actions=[{"type": "send_email", "template_key": "nope", "to": "record"}],
        )
    assert {e.field for e in exc.value.errors} == {"actions[1].template_key", "actions[1].to"}


def test_robot_action_posts_a_card(
    org: dict[str, Any], allow_private: None, django_capture_on_commit_callbacks: Any
) -> None:
    import json

    from guanxi.automation.models import RobotChannel
    from guanxi.automation.tests.fakeserver import receiver

    lead = crm_factories.lead(org["sales"], name="王五")
    with receiver() as rx:
        channel = RobotChannel.objects.create(
            name="销售群", kind="wecom", webhook_url=rx.url + "/cgi-bin/webhook/send?key=k"
        )
        rule = _rule(
            org["admin"],
            actions=[{"type": "robot_post", "channel_id": channel.pk, "title": "新线索 {name}"}],
        )
        with django_capture_on_commit_callbacks(execute=True):
            run = _fire(rule, "lead", lead)
        assert run.status == "ok", run.results
        assert len(rx.requests) == 1
        body = json.loads(rx.requests[0].body)
    assert "新线索 王五" in json.dumps(body, ensure_ascii=False)
    assert f"/leads/{lead.pk}/" in json.dumps(body)


def test_webhook_action_posts_the_record_signed(
    org: dict[str, Any], allow_private: None, django_capture_on_commit_callbacks: Any
) -> None:
    import hashlib
    import hmac
    import json

    from guanxi.automation.tests.fakeserver import receiver

    lead = crm_factories.lead(org["sales"], name="赵六")
    with receiver() as rx:
        rule = _rule(
            org["admin"], actions=[{"type": "webhook", "url": rx.url + "/in", "secret": "k"}]
        )
        with django_capture_on_commit_callbacks(execute=True):
            run = _fire(rule, "lead", lead)
        assert run.status == "ok", run.results
        got = rx.requests[0]
    body = json.loads(got.body)
    assert body["data"]["record"]["name"] == "赵六" and body["data"]["rule"]["id"] == rule.pk
    digest = hmac.new(b"k", got.body, hashlib.sha256).hexdigest()
    assert got.headers["x-guanxi-signature"] == f"sha256={digest}"
    with pytest.raises(ValidationFailed) as exc:
        _rule(org["admin"], actions=[{"type": "webhook", "url": "ftp://x"}])
    assert {e.field for e in exc.value.errors} == {"actions[1].url"}


def test_webhook_deliveries_carry_the_standard_payload(
    org: dict[str, Any], allow_private: None, django_capture_on_commit_callbacks: Any
) -> None:
    import json

    from guanxi.automation.models import Webhook
    from guanxi.automation.tests.fakeserver import receiver
    from guanxi.leads.services import lead_update

    lead = crm_factories.lead(org["sales"], city="北京")
    with receiver() as rx:
        Webhook.objects.create(url=rx.url + "/in", events=["lead.updated"])
        with django_capture_on_commit_callbacks(execute=True):
            lead_update(actor=org["sales"], lead=lead, data={"city": "上海"})
        body = json.loads(rx.requests[0].body)
    data = body["data"]
    assert data["event"] == "lead.updated" and data["id"] == lead.pk
    assert data["record"]["city"] == "上海"
    assert data["changes"]["city"] == ["北京", "上海"]
    assert data["actor"]["username"] == "sales"
