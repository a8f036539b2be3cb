"""A quote that needs approval, in a real browser at desktop and phone size: the rep
builds it from a product with a big discount and submits it, the manager approves it
from the approvals inbox, the rep marks it sent and downloads the PDF."""

from __future__ import annotations

from typing import Any

import pytest

from guanxi.sales.catalog import services as catalog_services
from guanxi.sales.quotes.models import Quote
from guanxi.tests_support import crm_factories, factories
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_quote_approval_and_pdf(page: Any, live_server: Any) -> None:
    east = factories.department("华东区")
    manager = factories.user(
        "manager", department=east, username="zhaolei", display_name="赵磊", password="Mgr-pass-123"
    )
    east.head = manager
    east.save(update_fields=["head"])
    rep = factories.user(
        "sales",
        department=east,
        username="zhangwei",
        display_name="张伟",
        password="Sales-pass-123",
    )
    product = catalog_services.product_create(
        actor=factories.admin(),
        data={
            "sku": "GX-PRO",
            "name": "关系 CRM 专业版",
            "unit": "套",
            "list_price": "2400.00",
            "tax_rate": "6",
        },
    )
    account = crm_factories.account(rep, name="杭州迅通贸易有限公司")
    base = live_server.url

    login(page, base, "zhangwei", "Sales-pass-123")
    page.goto(f"{base}/quotes/new/")
    page.select_option("select[name=account_id]", str(account.pk))
    page.fill("input[name=title]", "专业版 10 套")
    page.click("main form button.primary")
    page.wait_for_url(f"{base}/quotes/*/")
    quote = Quote.objects.get(owner=rep)

    page.select_option("#add-line select[name=product_id]", str(product.pk))
    page.fill("#add-line input[name=quantity]", "10")
    page.fill("#add-line input[name=discount]", "30")
    page.click("#add-line button.primary")
    page.locator("[data-total=total]").wait_for()
    # 24,000 − 30 % = 16,800 net; 6 % tax 1,008; total 17,808
    assert page.inner_text("[data-total=total]").strip() == "¥17,808.00"
    assert "需要审批" in page.inner_text("main")
    page.fill("textarea[name=reason]", "年底冲量，客户要求七折")
    page.click("#submit button.primary")
    page.locator("[data-quote-status=pending_approval]").wait_for()

    page.context.clear_cookies()
    login(page, base, "zhaolei", "Mgr-pass-123")
    page.goto(f"{base}/approvals/")
    page.click(f"text={quote.number}")
    page.wait_for_url(f"{base}/approvals/*/")
    assert "¥17,808.00" in page.inner_text("main")
    page.select_option("select[name=decision]", "approve")
    page.fill("textarea[name=comment]", "同意，下不为例")
    page.click("#decide button.primary")
    page.locator("[data-approval-status=approved]").wait_for()
    quote.refresh_from_db()
    assert quote.status == "approved"

    page.context.clear_cookies()
    login(page, base, "zhangwei", "Sales-pass-123")
    page.goto(f"{base}/quotes/{quote.pk}/")
    page.click("form[action$='/send/'] button")
    page.locator("[data-quote-status=sent]").wait_for()
    with page.expect_download() as info:
        page.click(f"a[href='/quotes/{quote.pk}/pdf/']")
    download = info.value
    assert download.suggested_filename == f"{quote.number}.pdf"
    with open(download.path(), "rb") as fh:
        assert fh.read(5) == b"%PDF-"
