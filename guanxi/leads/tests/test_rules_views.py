"""The administrators' rule pages and the lead pages' routing / scoring parts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from guanxi.core.services import customfield_save
from guanxi.identity.models import User
from guanxi.leads import assignment, scoring
from guanxi.leads.models import AssignmentRule, AssignmentSettings, Lead, ScoringRule
from guanxi.tests_support import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def _client(user: User) -> Client:
    user.language = "en"
    user.save(update_fields=["language"])
    client = Client()
    client.force_login(user)
    return client


def test_pages_are_for_admins_only() -> None:
    sales = factories.user("sales")
    rule = AssignmentRule.objects.create(name="r", method="user")
    srule = ScoringRule.objects.create(name="s", kind="followups", number=1, points=5)
    web = _client(sales)
    for url in [
        reverse("leads:assignment_rules"),
        reverse("leads:assignment_rule_create"),
        reverse("leads:assignment_rule_edit", args=[rule.pk]),
        reverse("leads:scoring_rules"),
        reverse("leads:scoring_rule_create"),
        reverse("leads:scoring_rule_edit", args=[srule.pk]),
    ]:
        assert web.get(url).status_code == 403, url
    assert web.post(reverse("leads:assignment_rule_delete", args=[rule.pk])).status_code == 403
    assert web.post(reverse("leads:scoring_rule_delete", args=[srule.pk])).status_code == 403
    assert AssignmentRule.objects.exists() and ScoringRule.objects.exists()
    # The sidebar offers the pages to administrators only.
    assert reverse("leads:assignment_rules") not in web.get(reverse("leads:list")).content.decode()
    admin_web = _client(factories.admin())
    admin_page = admin_web.get(reverse("leads:list")).content.decode()
    assert reverse("leads:assignment_rules") in admin_page
    assert reverse("leads:scoring_rules") in admin_page
    # On a rule page only its own entry is marked current, not "Leads" as well.
    rules_page = admin_web.get(reverse("leads:scoring_rules")).content.decode()
    assert rules_page.count('aria-current="page"') == 1
    assert f'href="{reverse("leads:scoring_rules")}" aria-current="page"' in rules_page


def test_assignment_rule_pages_create_edit_delete() -> None:
    admin = factories.admin()
    a, b = factories.user("sales"), factories.user("sales")
    customfield_save(
        actor=admin,
        field=None,
        data={"entity": "lead", "key": "region", "label_zh": "大区", "kind": "text"},
    )
    web = _client(admin)
    page = web.get(reverse("leads:assignment_rules"))
    assert page.status_code == 200
    assert "No assignment rules yet" in page.content.decode()
    form = web.get(reverse("leads:assignment_rule_create"))
    assert form.status_code == 200 and "custom_region" in form.content.decode()
    resp = web.post(
        reverse("leads:assignment_rule_create"),
        {
            "name": "华东展会",
            "position": "1",
            "active": "on",
            "sources": ["trade_show"],
            "provinces": "浙江，江苏",
            "custom_region": "east",
            "method": "round_robin",
            "users": [a.pk, b.pk],
        },
    )
    assert resp.status_code == 302, resp.content.decode()[:2000]
    rule = AssignmentRule.objects.get()
    assert rule.conditions == {
        "source": ["trade_show"],
        "province": ["浙江", "江苏"],
        "custom": {"region": ["east"]},
    }
    listing = web.get(reverse("leads:assignment_rules")).content.decode()
    assert "华东展会" in listing and "浙江, 江苏" in listing and "大区: east" in listing
    # A bad save shows the error next to the field and changes nothing.
    resp = web.post(
        reverse("leads:assignment_rule_edit", args=[rule.pk]),
        {"name": "华东展会", "position": "1", "method": "user", "users": [a.pk, b.pk]},
    )
    assert resp.status_code == 400
    assert "Choose exactly one user." in resp.content.decode()
    assert AssignmentRule.objects.get().method == "round_robin"
    resp = web.post(
        reverse("leads:assignment_rule_edit", args=[rule.pk]),
        {"name": "华东", "position": "1", "method": "user", "users": [b.pk]},
    )
    assert resp.status_code == 302
    rule.refresh_from_db()
    assert (rule.name, rule.method, rule.active, rule.conditions) == ("华东", "user", False, {})
    resp = web.post(reverse("leads:assignment_rule_delete", args=[rule.pk]))
    assert resp.status_code == 302 and not AssignmentRule.objects.exists()


def test_fallback_form() -> None:
    admin, default = factories.admin(), factories.user("sales")
    web = _client(admin)
    resp = web.post(reverse("leads:assignment_rules"), {"fallback": "user"})
    assert resp.status_code == 400
    assert "Choose the default user." in resp.content.decode()
    resp = web.post(
        reverse("leads:assignment_rules"), {"fallback": "user", "fallback_user": default.pk}
    )
    assert resp.status_code == 302
    assert AssignmentSettings.current().fallback_user_id == default.pk


def test_scoring_rule_pages_create_edit_delete() -> None:
    admin = factories.admin()
    web = _client(admin)
    assert web.get(reverse("leads:scoring_rules")).status_code == 200
    resp = web.post(
        reverse("leads:scoring_rule_create"),
        {"name": "制造业", "position": "0", "active": "on", "kind": "field",
         "field": "industry", "operator": "in", "value": "制造, 汽车", "points": "15"},
    )  # fmt: skip
    assert resp.status_code == 302, resp.content.decode()[:2000]
    rule = ScoringRule.objects.get()
    assert (rule.field, rule.operator, rule.value, rule.points) == (
        "industry",
        "in",
        ["制造", "汽车"],
        15,
    )
    listing = web.get(reverse("leads:scoring_rules")).content.decode()
    assert "制造, 汽车" in listing and "+15" in listing
    resp = web.post(
        reverse("leads:scoring_rule_create"),
        {"name": "来源", "kind": "source", "source": "", "points": "5"},
    )
    assert resp.status_code == 400 and "Choose a lead source." in resp.content.decode()
    resp = web.post(
        reverse("leads:scoring_rule_edit", args=[rule.pk]),
        {"name": "常联系", "kind": "recency", "number": "7", "points": "-3", "active": "on"},
    )
    assert resp.status_code == 302
    rule.refresh_from_db()
    assert (rule.kind, rule.number, rule.points, rule.field) == ("recency", 7, -3, "")
    edit = web.get(reverse("leads:scoring_rule_edit", args=[rule.pk]))
    assert edit.status_code == 200 and "常联系" in edit.content.decode()
    resp = web.post(reverse("leads:scoring_rule_delete", args=[rule.pk]))
    assert resp.status_code == 302 and not ScoringRule.objects.exists()


def test_lead_form_assign_by_rules_and_detail_reasons() -> None:
    admin, sales = factories.admin(), factories.user("sales")
    target = factories.user("sales", display_name="李娜")
    web = _client(sales)
    # No rules: no checkbox; the score can be typed.
    page = web.get(reverse("leads:create")).content.decode()
    assert "assign_by_rules" not in page and 'name="score"' in page
    assignment.rule_create(
        actor=admin,
        data={"name": "全部给李娜", "method": "user", "user_ids": [target.pk]},
    )
    scoring.rule_create(
        actor=admin,
        data={
            "name": "有手机",
            "kind": "field",
            "field": "mobile",
            "operator": "filled",
            "points": 8,
        },
    )
    page = web.get(reverse("leads:create")).content.decode()
    assert "assign_by_rules" in page and 'name="score"' not in page
    # Unticked: the salesperson keeps the lead.
    resp = web.post(
        reverse("leads:create"), {"name": "自己的", "mobile": "13812340001", "status": "new"}
    )
    assert resp.status_code == 302
    own = Lead.objects.get(name="自己的")
    assert own.owner_id == sales.pk and own.score == 8
    # Ticked: the rules decide.
    resp = web.post(
        reverse("leads:create"),
        {"name": "按规则", "mobile": "13812340002", "status": "new", "assign_by_rules": "on"},
    )
    routed = Lead.objects.get(name="按规则")
    assert routed.owner_id == target.pk
    # The creator cannot see a colleague's lead: back to the list, told where it went.
    assert resp.status_code == 302 and resp.url == reverse("leads:list")
    listing = web.get(resp.url).content.decode()
    assert "Rule “全部给李娜”: One user → 李娜" in listing
    detail = _client(target).get(reverse("leads:detail", args=[routed.pk])).content.decode()
    assert "Rule “全部给李娜”: One user → 李娜" in detail
    assert "有手机" in detail and "+8" in detail
