"""API of assignment and scoring rules (admins only) and their effect on /leads."""

from __future__ import annotations

from typing import Any

import pytest

from guanxi.core.models import AuditEvent
from guanxi.leads.models import AssignmentRule, AssignmentSettings, ScoringRule
from guanxi.tests_support import factories

pytestmark = pytest.mark.django_db


def test_assignment_rule_crud(api_client: Any) -> None:
    admin = factories.admin()
    a, b = factories.user("sales"), factories.user("sales")
    api = api_client.login(admin)
    resp = api.post(
        "assignment-rules",
        {
            "name": "华东展会",
            "position": 5,
            "conditions": {"source": ["trade_show"], "province": ["浙江", "江苏"]},
            "method": "round_robin",
            "user_ids": [a.pk, b.pk],
        },
    )
    assert resp.status_code == 201, resp.content
    body = resp.json()
    rid = body["id"]
    assert body["conditions"] == {"source": ["trade_show"], "province": ["浙江", "江苏"]}
    assert [u["id"] for u in body["users"]] == sorted([a.pk, b.pk])
    assert api.get("assignment-rules").json()[0]["name"] == "华东展会"
    assert api.get(f"assignment-rules/{rid}").json()["method"] == "round_robin"
    resp = api.patch(f"assignment-rules/{rid}", {"active": False, "method": "least_loaded"})
    assert resp.status_code == 200
    assert resp.json()["active"] is False and resp.json()["method"] == "least_loaded"
    assert api.get("assignment-rules/99999").status_code == 404
    assert api.delete(f"assignment-rules/{rid}").status_code == 204
    assert not AssignmentRule.objects.exists()
    actions = set(
        AuditEvent.objects.filter(entity="assignment_rule").values_list("action", flat=True)
    )
    assert actions == {"create", "update", "delete"}


def test_assignment_rule_422_names_fields(api_client: Any) -> None:
    api = api_client.login(factories.admin())
    resp = api.post(
        "assignment-rules",
        {"name": "x", "method": "user", "user_ids": [], "conditions": {"source": ["nope"]}},
    )
    assert resp.status_code == 422
    fields = {e["field"] for e in resp.json()["errors"]}
    assert {"user_ids", "conditions.source"} <= fields


def test_fallback_settings(api_client: Any) -> None:
    admin, default = factories.admin(), factories.user("sales")
    api = api_client.login(admin)
    assert api.get("assignment-rules/fallback").json() == {
        "fallback": "creator",
        "fallback_user_id": None,
    }
    resp = api.put("assignment-rules/fallback", {"fallback": "user"})
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["field"] == "fallback_user_id"
    resp = api.put(
        "assignment-rules/fallback", {"fallback": "user", "fallback_user_id": default.pk}
    )
    assert resp.status_code == 200
    assert AssignmentSettings.current().fallback_user_id == default.pk


def test_non_admin_gets_403_and_changes_nothing(api_client: Any) -> None:
    manager = factories.user("manager")
    rule = AssignmentRule.objects.create(name="r", method="user")
    srule = ScoringRule.objects.create(name="s", kind="followups", number=1, points=5)
    api = api_client.login(manager)
    calls = [
        ("get", "assignment-rules", None),
        ("post", "assignment-rules", {"name": "x", "method": "user", "user_ids": [manager.pk]}),
        ("patch", f"assignment-rules/{rule.pk}", {"name": "y"}),
        ("delete", f"assignment-rules/{rule.pk}", None),
        ("get", "assignment-rules/fallback", None),
        ("put", "assignment-rules/fallback", {"fallback": "pool"}),
        ("get", "scoring-rules", None),
        ("post", "scoring-rules", {"name": "x", "kind": "followups", "number": 1, "points": 1}),
        ("patch", f"scoring-rules/{srule.pk}", {"points": 50}),
        ("delete", f"scoring-rules/{srule.pk}", None),
    ]
    for method, path, body in calls:
        fn = getattr(api, method)
        resp = fn(path) if body is None else fn(path, body)
        assert resp.status_code == 403, (method, path)
    assert AssignmentRule.objects.get().name == "r"
    assert ScoringRule.objects.get().points == 5
    assert AssignmentSettings.objects.count() == 0
    assert api_client.client.get("/api/v1/scoring-rules").status_code == 401


def test_scoring_rule_crud(api_client: Any) -> None:
    api = api_client.login(factories.admin())
    resp = api.post(
        "scoring-rules",
        {"name": "制造业", "kind": "field", "field": "industry", "operator": "in",
         "value": ["制造", "汽车"], "points": 10},
    )  # fmt: skip
    assert resp.status_code == 201, resp.content
    rid = resp.json()["id"]
    assert resp.json()["value"] == ["制造", "汽车"]
    resp = api.patch(f"scoring-rules/{rid}", {"kind": "recency", "number": 7})
    assert resp.status_code == 200
    assert resp.json()["field"] == "" and resp.json()["number"] == 7
    resp = api.patch(f"scoring-rules/{rid}", {"points": 0})
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["field"] == "points"
    assert [r["id"] for r in api.get("scoring-rules").json()] == [rid]
    assert api.delete(f"scoring-rules/{rid}").status_code == 204
    assert api.get(f"scoring-rules/{rid}").status_code == 404


def test_lead_api_routes_without_owner_and_shows_reasons(api_client: Any) -> None:
    admin, integration = factories.admin(), factories.user("sales")
    target = factories.user("sales", display_name="张伟")
    admin_api = api_client.login(admin)
    admin_api.post(
        "assignment-rules",
        {"name": "华东展会", "method": "round_robin", "user_ids": [target.pk],
         "conditions": {"source": ["trade_show"]}},
    )  # fmt: skip
    admin_api.post(
        "scoring-rules",
        {"name": "展会来源", "kind": "source", "value": "trade_show", "points": 20},
    )
    api = api_client.login(integration)
    resp = api.post("leads", {"name": "李雷", "mobile": "13911112222", "source": "trade_show"})
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["owner"]["id"] == target.pk
    assert "华东展会" in body["assigned_reason"] and "张伟" in body["assigned_reason"]
    assert body["score"] == 20
    assert body["score_reasons"] == [
        {"rule_id": ScoringRule.objects.get().pk, "rule": "展会来源", "points": 20}
    ]
    # An explicit owner skips the rules; assign_by_rules=false keeps the caller.
    resp = api.post(
        "leads",
        {"name": "韩梅梅", "mobile": "13911113333", "source": "trade_show",
         "owner_id": integration.pk},
    )  # fmt: skip
    assert resp.json()["owner"]["id"] == integration.pk
    resp = api.post(
        "leads",
        {"name": "王五", "mobile": "13911114444", "source": "trade_show",
         "assign_by_rules": False},
    )  # fmt: skip
    assert resp.json()["owner"]["id"] == integration.pk
    resp = api.post(
        "leads",
        {"name": "赵六", "mobile": "13911115555", "owner_id": integration.pk,
         "assign_by_rules": True},
    )  # fmt: skip
    assert resp.status_code == 422
    # A typed-in score is refused while scoring rules are active.
    resp = api.post("leads", {"name": "钱七", "mobile": "13911116666", "score": 50})
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["field"] == "score"
    # Sort by score through the API.
    resp = api.get("leads", sort="-score")
    assert resp.status_code == 200
    scores = [x["score"] for x in resp.json()["items"]]
    assert scores == sorted(scores, reverse=True)
