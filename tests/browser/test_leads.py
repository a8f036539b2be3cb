"""A salesperson's day in a real browser, at desktop and phone size: create a lead, hit the
duplicate warning, add a follow-up with a next follow-up time, find it on My day,
convert the lead and see the follow-up on the new account's contact timeline."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from guanxi.leads.models import Lead
from guanxi.tests_support import crm_factories, factories
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_lead_journey(page: Any, live_server: Any) -> None:
    sales = factories.user(
        "sales", username="zhangwei", display_name="张伟", password="Sales-pass-123"
    )
    colleague = factories.user("sales", username="lina", display_name="李娜")
    crm_factories.lead(colleague, name="王芳", company="星辰科技", mobile="13911112222")
    base = live_server.url
    login(page, base, "zhangwei", "Sales-pass-123")

    # A lead whose phone a colleague already has: warned without details, then saved anyway.
    page.goto(f"{base}/leads/new/")
    page.fill("input[name=name]", "王芳")
    page.fill("input[name=company]", "星辰科技有限公司")
    page.fill("input[name=mobile]", "+86 139-1111-2222")
    page.click("form.record-form button.primary")
    warning = page.locator(".duplicate-warning")
    warning.wait_for()
    assert "13911112222" not in warning.inner_text()
    page.click(".duplicate-warning button[name=allow_duplicate]")
    page.wait_for_url(f"{base}/leads/*/")
    lead = Lead.objects.get(owner=sales)
    assert lead.mobile_e164 == "+8613911112222"

    # A follow-up with a next follow-up time creates a task for tomorrow.
    page.check("input[name=kind][value=call]", force=True)
    page.fill("textarea[name=content]", "电话沟通，客户想看演示")
    tomorrow = (dt.datetime.now(ZoneInfo("Asia/Shanghai")) + dt.timedelta(days=1)).strftime(
        "%Y-%m-%dT10:00"
    )
    page.fill("input[name=next_followup_at]", tomorrow)
    page.click("form.followup-form button[type=submit]")
    page.locator(".timeline >> text=电话沟通").first.wait_for()
    lead.refresh_from_db()
    assert lead.last_contacted_at is not None

    # The task is on My day, under the next 7 days.
    page.goto(f"{base}/my-day/")
    assert "王芳" in page.inner_text("main")

    # Convert: creates the account and the contact; the lead links to both.
    page.goto(f"{base}/leads/{lead.pk}/convert/")
    page.click("form[method=post] button.primary")
    page.wait_for_load_state()
    dup = page.locator(".duplicate-warning button[name=allow_duplicate]")
    if dup.count():  # the colleague's lead shares the phone: convert anyway
        dup.click()
        page.wait_for_load_state()
    lead.refresh_from_db()
    assert lead.status == Lead.Status.CONVERTED
    assert lead.converted_account_id and lead.converted_contact_id
    page.goto(f"{base}/accounts/{lead.converted_account_id}/")
    assert "星辰科技有限公司" in page.inner_text("main")


def test_claim_from_the_pool_and_release(page: Any, live_server: Any) -> None:
    admin = factories.admin()
    sales = factories.user("sales", username="liuyang", password="Sales-pass-123")
    pooled = crm_factories.lead(admin, name="公海客户", company="无主公司", owner=None)
    Lead.objects.filter(pk=pooled.pk).update(owner=None)
    base = live_server.url
    login(page, base, "liuyang", "Sales-pass-123")

    page.goto(f"{base}/leads/pool/")
    row = page.locator("tr", has_text="公海客户")
    row.locator("button.primary").click()
    page.wait_for_load_state()
    pooled.refresh_from_db()
    assert pooled.owner_id == sales.pk

    # Releasing needs a reason; then the lead is back in the pool.
    page.goto(f"{base}/leads/{pooled.pk}/")
    page.click("details.release-form summary")
    page.fill("#release-reason", "客户暂无需求")
    page.click("details.release-form button[type=submit]")
    page.wait_for_load_state()
    pooled.refresh_from_db()
    assert pooled.owner_id is None
