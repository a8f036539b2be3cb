"""Lead scoring rules: every condition, reasons, recompute on change / follow-up / rule
change, due refresh, validation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone, translation

from guanxi.activities import services as activity_services
from guanxi.core.errors import NotPermitted, ValidationFailed
from guanxi.core.models import AuditEvent
from guanxi.core.services import customfield_save
from guanxi.leads import scoring
from guanxi.leads import services as lead_services
from guanxi.leads.models import Lead, ScoringRule
from guanxi.schedule import leads_refresh_due_scores
from guanxi.tests_support import crm_factories, factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def _rule(admin: Any, points: int, kind: str = "field", **data: Any) -> ScoringRule:
    return scoring.rule_create(
        actor=admin,
        data={"name": data.pop("name", f"{kind}{points}"), "kind": kind, "points": points, **data},
    )


def _score(lead: Lead) -> tuple[int, list[str]]:
    fresh = Lead.objects.get(pk=lead.pk)
    return fresh.score, [r["rule"] for r in fresh.score_reasons]


@pytest.mark.parametrize(
    ("rule", "good", "bad"),
    [
        (
            {"field": "industry", "operator": "equals", "value": "制造"},
            {"industry": "制造"},
            {"industry": "贸易"},
        ),
        (
            {"field": "company", "operator": "contains", "value": "科技"},
            {"company": "杭州云栖科技"},
            {"company": "杭州贸易"},
        ),
        ({"field": "email", "operator": "filled"}, {"email": "a@b.cn"}, {"email": ""}),
        (
            {"field": "city", "operator": "in", "value": ["上海", "杭州"]},
            {"city": "杭州"},
            {"city": "北京"},
        ),
        (
            {"field": "tags", "operator": "equals", "value": "重点"},
            {"tags": ["重点", "华东"]},
            {"tags": ["华东"]},
        ),
        ({"kind": "source", "value": "trade_show"}, {"source": "trade_show"}, {"source": "baidu"}),
    ],
)
def test_field_and_source_conditions(
    rule: dict[str, Any], good: dict[str, Any], bad: dict[str, Any]
) -> None:
    admin, sales = factories.admin(), factories.user("sales")
    _rule(admin, 15, **{"kind": "field", **rule})
    assert _score(crm_factories.lead(sales, **good))[0] == 15
    assert _score(crm_factories.lead(sales, **bad)) == (0, [])


def test_custom_field_condition_and_negative_points() -> None:
    admin, sales = factories.admin(), factories.user("sales")
    customfield_save(
        actor=admin,
        field=None,
        data={"entity": "lead", "key": "budget", "label_zh": "预算", "kind": "text"},
    )
    _rule(admin, 20, field="custom.budget", operator="equals", value="high", name="高预算")
    _rule(admin, -5, field="email", operator="filled", name="有邮箱")
    lead = crm_factories.lead(sales, custom={"budget": "HIGH"}, email="x@y.cn")
    assert _score(lead) == (15, ["高预算", "有邮箱"])
    detail = Lead.objects.get(pk=lead.pk).score_reasons
    assert detail[0]["points"] == 20 and detail[1]["points"] == -5


def test_score_follows_changes_and_is_audited() -> None:
    admin, sales = factories.admin(), factories.user("sales")
    _rule(admin, 10, field="industry", operator="equals", value="制造")
    lead = crm_factories.lead(sales)
    assert _score(lead)[0] == 0
    lead_services.lead_update(actor=sales, lead=lead, data={"industry": "制造"})
    assert _score(lead)[0] == 10
    change = AuditEvent.objects.filter(entity="lead", object_id=str(lead.pk), action="update").get()
    assert change.changes["score"] == [0, 10]


def test_manual_score_is_refused_while_rules_are_active() -> None:
    admin, sales = factories.admin(), factories.user("sales")
    plain = crm_factories.lead(sales, score=40)
    assert plain.score == 40  # no rules: a plain field
    _rule(admin, 10, field="email", operator="filled")
    with pytest.raises(ValidationFailed) as exc:
        crm_factories.lead(sales, score=99)
    assert exc.value.errors[0].field == "score"
    with pytest.raises(ValidationFailed):
        lead_services.lead_update(actor=sales, lead=plain, data={"score": 5})


def test_followup_count_and_recency_rescore_on_followups() -> None:
    admin, sales = factories.admin(), factories.user("sales")
    _rule(admin, 7, kind="followups", number=2, name="两次跟进")
    _rule(admin, 3, kind="recency", number=7, name="一周内联系")
    lead = crm_factories.lead(sales)
    assert _score(lead) == (0, [])
    old = timezone.now() - dt.timedelta(days=30)
    activity_services.activity_create(
        actor=sales,
        target_entity="lead",
        target_id=lead.pk,
        kind="call",
        content="初次",
        occurred_at=old,
    )
    assert _score(lead) == (0, [])  # one old follow-up: neither rule holds
    activity_services.activity_create(
        actor=sales, target_entity="lead", target_id=lead.pk, kind="call", content="回访"
    )
    assert _score(lead) == (10, ["两次跟进", "一周内联系"])
    due = Lead.objects.get(pk=lead.pk).score_due_at
    assert due is not None and due > timezone.now() + dt.timedelta(days=6)


def test_deleting_a_followup_rescores(django_capture_on_commit_callbacks: Any) -> None:
    admin, sales = factories.admin(), factories.user("sales")
    _rule(admin, 7, kind="followups", number=1)
    lead = crm_factories.lead(sales)
    act = activity_services.activity_create(
        actor=sales, target_entity="lead", target_id=lead.pk, kind="call", content="x"
    )
    assert _score(lead)[0] == 7
    with django_capture_on_commit_callbacks(execute=True):
        activity_services.activity_delete(actor=sales, activity=act)
    assert _score(lead)[0] == 0


def test_recency_runs_out_and_the_hourly_task_refreshes() -> None:
    admin, sales = factories.admin(), factories.user("sales")
    _rule(admin, 5, kind="recency", number=3)
    lead = crm_factories.lead(sales, last_contacted_at=timezone.now() - dt.timedelta(days=1))
    stale = crm_factories.lead(sales, last_contacted_at=timezone.now() - dt.timedelta(days=10))
    assert _score(lead)[0] == 5 and _score(stale)[0] == 0
    Lead.objects.filter(pk=lead.pk).update(
        last_contacted_at=timezone.now() - dt.timedelta(days=4),
        score_due_at=timezone.now() - dt.timedelta(hours=1),
    )
    assert leads_refresh_due_scores.call_local() == 1
    fresh = Lead.objects.get(pk=lead.pk)
    assert (fresh.score, fresh.score_reasons, fresh.score_due_at) == (0, [], None)
    assert leads_refresh_due_scores.call_local() == 0


def test_rule_change_rescores_every_lead_in_the_background(
    django_capture_on_commit_callbacks: Any,
) -> None:
    admin, sales = factories.admin(), factories.user("sales")
    leads = [crm_factories.lead(sales, city="上海") for _ in range(3)]
    other = crm_factories.lead(sales, city="北京")
    with django_capture_on_commit_callbacks(execute=True):
        rule = _rule(admin, 12, field="city", operator="equals", value="上海", name="上海")
    assert [_score(x)[0] for x in leads] == [12, 12, 12]
    assert _score(other)[0] == 0
    with django_capture_on_commit_callbacks(execute=True):
        scoring.rule_update(actor=admin, rule=rule, data={"points": -4})
    assert _score(leads[0]) == (-4, ["上海"])
    with django_capture_on_commit_callbacks(execute=True):
        scoring.rule_delete(actor=admin, rule=rule)
    fresh = Lead.objects.get(pk=leads[0].pk)
    # No rule left: the score stays as a plain value, the explanation goes.
    assert fresh.score_reasons == []


def test_rescore_command() -> None:
    sales = factories.user("sales")
    lead = crm_factories.lead(sales, industry="制造")
    ScoringRule.objects.create(
        name="raw", kind="field", field="industry", operator="equals", value="制造", points=9
    )
    scoring.forget_rules()
    call_command("rescore_leads")
    assert _score(lead)[0] == 9


def test_rule_validation_and_admin_only() -> None:
    admin, sales = factories.admin(), factories.user("sales")
    with pytest.raises(NotPermitted):
        _rule(sales, 5, kind="followups", number=1)
    cases = [
        ({"kind": "magic"}, "kind"),
        ({"kind": "field", "field": "password", "operator": "filled"}, "field"),
        ({"kind": "field", "field": "city", "operator": "like"}, "operator"),
        ({"kind": "field", "field": "city", "operator": "equals", "value": ""}, "value"),
        ({"kind": "field", "field": "city", "operator": "in", "value": []}, "value"),
        ({"kind": "field", "field": "custom.nope", "operator": "filled"}, "field"),
        ({"kind": "source", "value": "nowhere"}, "value"),
        ({"kind": "followups", "number": 0}, "number"),
        ({"kind": "recency"}, "number"),
    ]
    for data, field in cases:
        with pytest.raises(ValidationFailed) as exc:
            scoring.rule_create(actor=admin, data={"name": "x", "points": 5, **data})
        assert field in {e.field for e in exc.value.errors}, data
    with pytest.raises(ValidationFailed) as exc:
        scoring.rule_create(
            actor=admin, data={"name": "", "points": 0, "kind": "followups", "number": 1}
        )
    assert {e.field for e in exc.value.errors} == {"name", "points"}
    assert not ScoringRule.objects.exists()


def test_list_sorts_by_score() -> None:
    from guanxi.leads import selectors

    admin, sales = factories.admin(), factories.user("sales")
    _rule(admin, 30, field="city", operator="equals", value="上海")
    _rule(admin, 10, field="industry", operator="equals", value="制造")
    low = crm_factories.lead(sales)
    mid = crm_factories.lead(sales, industry="制造")
    top = crm_factories.lead(sales, city="上海", industry="制造")
    page = selectors.lead_list(actor=sales, sort="-score")
    assert [x.pk for x in page.items] == [top.pk, mid.pk, low.pk]


def test_demo_rules_are_idempotent() -> None:
    from guanxi.core.demo import DemoContext, load_organisation
    from guanxi.leads.demo import ASSIGNMENT_RULES, SCORING_RULES, load_rules
    from guanxi.leads.models import AssignmentRule

    ctx = DemoContext(log=lambda _line: None)
    load_organisation(ctx)
    lead = crm_factories.lead(ctx.users["zhangwei"], source="referral", email="a@b.cn")
    load_rules(ctx)
    load_rules(ctx)
    assert AssignmentRule.objects.count() == len(ASSIGNMENT_RULES)
    assert ScoringRule.objects.count() == len(SCORING_RULES)
    assert _score(lead) == (30, ["转介绍", "留了邮箱"])
