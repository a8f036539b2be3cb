"""A salesperson records a contract with a three-installment plan, activates it, records
a partial receipt and sees it in the receivables aging, at desktop and phone size."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from guanxi.finance.models import Contract, Receipt
from guanxi.tests_support import crm_factories, factories
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_contract_plan_receipt_and_aging(page: Any, live_server: Any) -> None:
    sales = factories.user(
        "sales", username="zhangwei", display_name="张伟", password="Sales-pass-123"
    )
    account = crm_factories.account(sales, name="星辰科技有限公司")
    base = live_server.url
    today = timezone.localdate()
    login(page, base, "zhangwei", "Sales-pass-123")

    # The account page offers a new contract for this account.
    page.goto(f"{base}/accounts/{account.pk}/")
    page.click(f"#contracts a[href='/contracts/new/?account={account.pk}']")
    page.wait_for_url(f"{base}/contracts/new/*")
    page.fill("input[name=title]", "CRM 年度订阅")
    page.fill("input[name=amount]", "30,000")
    page.fill("input[name=starts_on]", (today - dt.timedelta(days=40)).isoformat())
    page.fill("input[name=ends_on]", (today + dt.timedelta(days=325)).isoformat())
    page.click("form.contract-form button.primary")
    page.wait_for_url(f"{base}/contracts/*/")
    contract = Contract.objects.get(owner=sales)
    assert contract.account_id == account.pk and contract.amount == Decimal("30000.00")

    # Three installments in the plan editor; the running total says when it adds up.
    editor = page.locator("form[data-plan-editor]")
    editor.locator("[data-add-row]").click()
    editor.locator("[data-add-row]").click()
    rows = editor.locator("tr.plan-row")
    assert rows.count() == 3
    dues = [
        today - dt.timedelta(days=10),
        today + dt.timedelta(days=30),
        today + dt.timedelta(days=90),
    ]
    for n, (due, amount) in enumerate(zip(dues, ["10000", "10000", "9000"], strict=True)):
        rows.nth(n).locator("input[name=due_on]").fill(due.isoformat())
        rows.nth(n).locator("input[name=amount]").fill(amount)
    assert "plan-off" in (editor.locator("[data-plan-total]").get_attribute("class") or "")
    rows.nth(2).locator("input[name=amount]").fill("10000")
    assert "plan-ok" in (editor.locator("[data-plan-total]").get_attribute("class") or "")
    editor.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("table.plan-table tr.installment").count() == 3

    # Activate (below the approval threshold), then a partial receipt on installment 1.
    page.click("form[action$='/activate/'] button")
    page.wait_for_load_state()
    contract.refresh_from_db()
    assert contract.status == Contract.Status.ACTIVE
    page.click("details.receipt-editor summary")
    first = contract.installments.order_by("position").first()
    page.select_option("select[name=installment_id]", str(first.pk))
    page.fill("form.receipt-form input[name=received_on]", today.isoformat())
    page.fill("form.receipt-form input[name=amount]", "4000")
    page.select_option("select[name=method]", "wechat_pay")
    page.fill("form.receipt-form input[name=reference]", "WX20260001")
    page.click("form.receipt-form button.primary")
    page.wait_for_load_state()
    receipt = Receipt.objects.get(contract=contract)
    assert receipt.amount == Decimal("4000.00") and receipt.method == "wechat_pay"
    # Due ten days ago and only partly paid: overdue.
    first_row = page.locator("table.plan-table tr.installment").first
    assert "state-overdue" in (first_row.get_attribute("class") or "")
    assert "6000.00" in first_row.inner_text()
    assert "WX20260001" in page.inner_text("#receipts")

    # Receivables: 6,000 left on installment 1 is 1–30 days overdue; 20,000 not yet due.
    page.goto(f"{base}/receivables/")
    assert page.locator("[data-bucket=d0_30] .value").inner_text() == "6000.00"
    assert page.locator("[data-bucket=not_due] .value").inner_text() == "20000.00"
    assert page.locator("[data-bucket=total] .value").inner_text() == "26000.00"
    assert "星辰科技有限公司" in page.inner_text("table.aging-table")
    page.click("[data-bucket=d0_30]")
    page.wait_for_url(f"{base}/receivables/installments/*")
    assert contract.number in page.inner_text("table.drilldown-table")
