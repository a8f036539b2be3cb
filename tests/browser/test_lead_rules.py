"""Lead routing and scoring in a real browser, at desktop and phone size: an administrator
sets up an assignment rule and a scoring rule; a salesperson creates a lead "by rules";
its new owner sees why it was assigned and how its score is made up."""

from __future__ import annotations

from typing import Any

import pytest

from guanxi.leads.models import AssignmentRule, Lead, LeadSource, ScoringRule
from guanxi.tests_support import factories
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_rules_route_and_score_a_new_lead(page: Any, live_server: Any) -> None:
    # Transactional tests flush the seeded sources after the first run.
    LeadSource.objects.get_or_create(code="trade_show", defaults={"name_zh": "展会"})
    factories.admin(username="boss", password="Admin-pass-123")
    factories.user("sales", username="zhangwei", display_name="张伟", password="Sales-pass-123")
    lina = factories.user("sales", username="lina", display_name="李娜", password="Lina-pass-123")
    base = live_server.url

    login(page, base, "boss", "Admin-pass-123")
    if page.viewport_name == "phone":
        page.click("[data-toggle-nav]")
    page.click("#sidebar >> text=分配规则")
    page.wait_for_url(f"{base}/leads/rules/assignment/")
    page.click(".page-actions >> text=新建规则")
    page.wait_for_url(f"{base}/leads/rules/assignment/new/")
    page.fill("input[name=name]", "华东展会")
    page.check("input[name=sources][value=trade_show]")
    page.fill("input[name=provinces]", "浙江")
    page.select_option("select[name=method]", "round_robin")
    page.check(f"input[name=users][value='{lina.pk}']")
    page.click("form button.primary")
    page.wait_for_url(f"{base}/leads/rules/assignment/")
    assert "华东展会" in page.inner_text("table.assignment-rules")
    assert AssignmentRule.objects.get().method == "round_robin"

    page.goto(f"{base}/leads/rules/scoring/new/")
    page.fill("input[name=name]", "展会来源")
    page.select_option("select[name=kind]", "source")
    page.select_option("select[name=source]", "trade_show")
    page.fill("input[name=points]", "20")
    page.click("form button.primary")
    page.wait_for_url(f"{base}/leads/rules/scoring/")
    assert "+20" in page.inner_text("table.scoring-rules")
    assert ScoringRule.objects.get().points == 20

    page.context.clear_cookies()
    login(page, base, "zhangwei", "Sales-pass-123")
    page.goto(f"{base}/leads/new/")
    assert page.locator("input[name=score]").count() == 0
    page.fill("input[name=name]", "陈晨")
    page.fill("input[name=mobile]", "13855556666")
    page.select_option("select[name=source]", "trade_show")
    page.fill("input[name=province]", "浙江")
    page.check("input[name=assign_by_rules]")
    page.click("form.record-form button.primary")
    page.wait_for_url(f"{base}/leads/")
    assert "李娜" in page.inner_text(".messages")
    lead = Lead.objects.get(name="陈晨")
    assert lead.owner_id == lina.pk and lead.score == 20

    page.context.clear_cookies()
    login(page, base, "lina", "Lina-pass-123")
    page.goto(f"{base}/leads/{lead.pk}/")
    facts = page.inner_text("main")
    assert "规则「华东展会」: 轮询 → 李娜" in facts
    assert "展会来源" in page.inner_text(".score-reasons")
