"""Mention a colleague in a follow-up; the colleague sees the bell count and opens the
record from the notification (desktop and phone)."""

from __future__ import annotations

from typing import Any

import pytest

from guanxi.activities.models import Notification
from guanxi.tests_support import crm_factories, factories
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_mention_reaches_the_colleague(page: Any, live_server: Any) -> None:
    sales = factories.department("销售部")
    rep = factories.user(
        "sales",
        department=sales,
        username="zhangwei",
        display_name="张伟",
        password="Sales-pass-123",
    )
    factories.user(
        "manager",
        department=sales,
        username="zhaolei",
        display_name="赵磊",
        password="Boss-pass-123",
    )
    lead = crm_factories.lead(rep, name="华为项目", company="华为")
    base = live_server.url

    login(page, base, "zhangwei", "Sales-pass-123")
    page.goto(f"{base}/leads/{lead.pk}/")
    page.check("input[name=kind][value=call]", force=True)
    page.fill("textarea[name=content]", "@赵磊 客户想要报价，请帮忙看一下")
    page.click("form.followup-form button[type=submit]")
    page.locator(".timeline >> text=客户想要报价").first.wait_for()
    assert Notification.objects.filter(recipient__username="zhaolei").count() == 1

    page.context.clear_cookies()
    login(page, base, "zhaolei", "Boss-pass-123")
    bell = page.locator("a.notifications")
    assert bell.locator(".badge").inner_text() == "1"
    bell.click()
    page.wait_for_url(f"{base}/notifications/*")
    row = page.locator("tr.unread", has_text="华为项目")
    assert "张伟" in row.inner_text()
    row.locator("button[type=submit]").click()
    page.wait_for_url(f"{base}/leads/{lead.pk}/")
    assert "华为项目" in page.inner_text("main")
    assert page.locator("a.notifications .badge").count() == 0
