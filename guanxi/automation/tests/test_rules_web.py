"""Rule pages (list, builder with htmx rows, run log, dry run) and the /rules and /events
API: admins only; errors name the field."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from guanxi.activities.models import Task
from guanxi.automation.rules import engine
from guanxi.automation.rules.models import Rule, RuleRun
from guanxi.tests_support import crm_factories, factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def admin() -> Any:
    return factories.admin(username="admin")


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


RULE = {
    "name": "首次联系",
    "entity": "lead",
    "trigger": "event",
    "event": "lead.created",
    "conditions": {"match": "all", "items": [{"field": "city", "op": "eq", "value": "上海"}]},
    "actions": [{"type": "create_task", "title": "首次联系", "due_hours": 24}],
    "enabled": True,
}


def test_builder_creates_a_rule_from_rows(admin: Any) -> None:
    c = _client(admin)
    page = c.get(reverse("automation:rule_create") + "?entity=lead")
    assert page.status_code == 200
    row = c.get(reverse("automation:rule_row", args=["condition"]) + "?entity=lead")
    assert row.status_code == 200 and b'name="c-' in row.content
    r = c.post(
        reverse("automation:rule_create") + "?entity=lead",
        {
            "entity": "lead",
            "name": "上海新线索",
            "trigger": "event",
            "event": "lead.created",
            "match": "all",
            "group_match": "any",
            "c-aa-where": "main",
            "c-aa-field": "city",
            "c-aa-op": "eq",
            "c-aa-value": "上海",
            "c-bb-where": "group",
            "c-bb-field": "tags",
            "c-bb-op": "contains",
            "c-bb-value": "vip",
            "c-cc-where": "group",
            "c-cc-field": "score",
            "c-cc-op": "gt",
            "c-cc-value": "50",
            "a-xx-type": "create_task",
            "a-xx-text": "首次联系：{name}",
            "a-xx-who": "owner",
            "a-xx-hours": "24",
            "a-yy-type": "add_tag",
            "a-yy-text": "新",
            "enabled": "on",
        },
    )
    assert r.status_code == 302
    rule = Rule.objects.get(name="上海新线索")
    assert rule.enabled and rule.created_by == admin
    assert rule.conditions == {
        "match": "all",
        "items": [
            {"field": "city", "op": "eq", "value": "上海"},
            {
                "match": "any",
                "items": [
                    {"field": "tags", "op": "contains", "value": "vip"},
                    {"field": "score", "op": "gt", "value": "50"},
                ],
            },
        ],
    }
    assert [a["type"] for a in rule.actions] == ["create_task", "add_tag"]
    assert rule.actions[0]["title"] == "首次联系：{name}"
    # the edit page shows the rows again, and the list shows the rule
    edit = c.get(reverse("automation:rule_edit", args=[rule.pk]))
    assert "首次联系：{name}" in edit.content.decode()
    assert "上海新线索" in c.get(reverse("automation:rules")).content.decode()


def test_builder_shows_errors_by_field(admin: Any) -> None:
    r = _client(admin).post(
        reverse("automation:rule_create") + "?entity=lead",
        {"entity": "lead", "name": "", "trigger": "event", "event": "", "a-x-type": "create_task"},
    )
    assert r.status_code == 422
    body = r.content.decode()
    assert "name" in body and "actions[1].title" in body and "event" in body
    assert not Rule.objects.filter(template_key="").exists()


def test_toggle_dry_run_and_run_log_pages(admin: Any) -> None:
    c = _client(admin)
    template = Rule.objects.get(template_key="new_lead_first_contact")
    c.post(reverse("automation:rule_toggle", args=[template.pk]))
    template.refresh_from_db()
    assert template.enabled and template.created_by == admin
    sales = factories.user("sales", username="s1")
    lead = crm_factories.lead(sales, name="韩梅梅")
    dry = c.get(reverse("automation:rule_dry_run", args=[template.pk]), {"record_id": lead.pk})
    assert dry.status_code == 200
    assert "规则会执行。" in dry.content.decode()  # pages speak the user's language (zh-hans)
    assert not Task.objects.exists()
    bad = c.get(reverse("automation:rule_dry_run", args=[template.pk]), {"record_id": "abc"})
    assert bad.status_code == 422
    engine.handle_event("lead.created", {"id": lead.pk}, None, 0, "k")
    runs = c.get(reverse("automation:rule_runs", args=[template.pk]))
    assert runs.status_code == 200 and f"#{lead.pk}" in runs.content.decode()


def test_pages_are_for_admins_only(admin: Any) -> None:
    sales = factories.user("sales", username="s2")
    c = _client(sales)
    rule = Rule.objects.first()
    assert rule is not None
    for url in [
        reverse("automation:rules"),
        reverse("automation:rule_create"),
        reverse("automation:rule_edit", args=[rule.pk]),
        reverse("automation:rule_runs", args=[rule.pk]),
        reverse("automation:rule_dry_run", args=[rule.pk]),
    ]:
        assert c.get(url).status_code == 404, url
    assert c.post(reverse("automation:rule_toggle", args=[rule.pk])).status_code == 404


def test_api_crud_runs_and_dry_run(admin: Any, api_client: Any) -> None:
    api = api_client.login(admin)
    r = api.post("rules", RULE)
    assert r.status_code == 201, r.json()
    rid = r.json()["id"]
    assert r.json()["action_summaries"][0].startswith("为负责人创建任务“首次联系”")
    assert any(x["id"] == rid for x in api.get("rules").json())
    r = api.patch(f"rules/{rid}", {"enabled": False, "name": "改名"})
    assert r.status_code == 200 and r.json()["enabled"] is False and r.json()["name"] == "改名"
    sales = factories.user("sales", username="s3")
    lead = crm_factories.lead(sales, city="上海")
    r = api.post(f"rules/{rid}/dry-run", {"record_id": lead.pk})
    assert r.status_code == 200 and r.json()["would_fire"] is True
    r = api.post(f"rules/{rid}/dry-run", {"record_id": 10**9})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "record_id"
    api.patch(f"rules/{rid}", {"enabled": True})
    engine.handle_event("lead.created", {"id": lead.pk}, None, 0, "k1")
    runs = api.get(f"rules/{rid}/runs").json()
    assert runs["count"] == 1 and runs["items"][0]["status"] == "ok"
    assert RuleRun.objects.get().record_id == lead.pk
    assert api.delete(f"rules/{rid}").status_code == 204
    assert api.get(f"rules/{rid}").status_code == 404


def test_api_validation_and_permissions(admin: Any, api_client: Any) -> None:
    api = api_client.login(admin)
    bad = {**RULE, "conditions": {"match": "all", "items": [{"field": "x", "op": "zz"}]}}
    r = api.post("rules", bad)
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"conditions.items[1].field", "conditions.items[1].op"} <= fields
    sales = factories.user("sales", username="s4")
    other = api_client.__class__().login(sales)
    assert other.get("rules").status_code == 403
    assert other.post("rules", RULE).status_code == 403
    assert other.get(f"rules/{Rule.objects.first().pk}/runs").status_code == 403  # type: ignore[union-attr]


def test_events_catalogue_and_openapi(admin: Any, api_client: Any) -> None:
    api = api_client.login(factories.user("sales", username="s5"))
    names = {e["name"] for e in api.get("events").json()}
    for name in [
        "lead.created",
        "lead.updated",
        "lead.assigned",
        "lead.converted",
        "account.created",
        "account.updated",
        "contact.created",
        "followup.created",
        "task.created",
        "task.due",
        "task.overdue",
        "deal.created",
        "deal.stage_changed",
        "deal.won",
        "deal.lost",
        "quote.approved",
    ]:
        assert name in names, name
    doc = api.get("/api/v1/openapi.json").json()
    description = doc["paths"]["/api/v1/events"]["get"]["description"]
    assert "`task.overdue`" in description and "`deal.won`" in description
