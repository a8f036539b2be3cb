"""The rules engine in a real browser, at desktop and phone size: an administrator builds
"new lead → task in 24 h" (plus a notification) in the rule builder, adding rows with
htmx; a salesperson creates a lead and finds the task on My day and the notifications."""

from __future__ import annotations

from typing import Any

import pytest

from guanxi.activities.models import Notification, Task
from guanxi.automation.rules.models import Rule, RuleRun
from guanxi.leads.models import Lead
from guanxi.tests_support import factories
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_build_new_lead_rule_then_a_lead_gets_its_task(page: Any, live_server: Any) -> None:
    factories.admin(username="boss", password="Admin-pass-123")
    sales = factories.user(
        "sales", username="zhangwei", display_name="张伟", password="Sales-pass-123"
    )
    base = live_server.url

    login(page, base, "boss", "Admin-pass-123")
    page.goto(f"{base}/automation/rules/")
    page.click("a[href$='/automation/rules/new/?entity=lead']")
    page.wait_for_url(f"{base}/automation/rules/new/?entity=lead")
    page.fill("input[name=name]", "新线索首次联系")
    page.select_option("select[name=trigger]", "event")
    page.select_option("select[name=event]", "lead.created")
    page.check("input[name=enabled]")

    page.click("#add-condition")
    condition = page.locator("#conditions .rule-row").first
    condition.wait_for()
    condition.locator("select[name$='-field']").select_option("owner")
    condition.locator("select[name$='-op']").select_option("not_empty")

    first = page.locator("#actions .rule-row").nth(0)
    first.locator("select[name$='-type']").select_option("create_task")
    first.locator("input[name$='-text']").fill("首次联系：{name}")
    first.locator("select[name$='-who']").select_option("owner")
    first.locator("input[name$='-hours']").fill("24")
    page.click("#add-action")
    second = page.locator("#actions .rule-row").nth(1)
    second.wait_for()
    second.locator("select[name$='-type']").select_option("notify")
    second.locator("input[name$='-text']").fill("新线索：{name}")
    page.click("#rule-form button.primary")
    page.wait_for_url(f"{base}/automation/rules/*/dry-run/")
    rule = Rule.objects.get(name="新线索首次联系")
    assert rule.enabled and rule.event == "lead.created"
    assert [a["type"] for a in rule.actions] == ["create_task", "notify"]
    assert rule.conditions["items"] == [{"field": "owner", "op": "not_empty", "value": ""}]

    page.context.clear_cookies()
    login(page, base, "zhangwei", "Sales-pass-123")
    page.goto(f"{base}/leads/new/")
    page.fill("input[name=name]", "陈晨")
    page.fill("input[name=mobile]", "13855556666")
    with page.expect_navigation():
        page.click("form.record-form button.primary")
    lead = Lead.objects.get(name="陈晨")
    task = Task.objects.get(target_entity="lead", target_id=lead.pk)
    assert task.assignee_id == sales.pk and task.title == "首次联系：陈晨"
    assert RuleRun.objects.get(rule=rule).status == "ok"

    page.goto(f"{base}/my-day/")
    assert "首次联系：陈晨" in page.inner_text("main")
    page.goto(f"{base}/notifications/")
    notes = page.inner_text("main")
    assert "新线索：陈晨" in notes
    assert "首次联系：陈晨" in notes
    assert Notification.objects.filter(recipient=sales, verb="rule").count() == 1

    # the run log shows the run to the administrator
    page.context.clear_cookies()
    login(page, base, "boss", "Admin-pass-123")
    page.goto(f"{base}/automation/rules/{rule.pk}/runs/")
    assert f"#{lead.pk}" in page.inner_text("#runs-table")
