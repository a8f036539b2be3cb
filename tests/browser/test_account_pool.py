"""The account pool in a real browser: a salesperson finds an account in their
department's pool, opens it, claims it, locks it, and releases it again with a reason;
an account in another department's pool stays out of sight."""

from __future__ import annotations

from typing import Any

import pytest

from guanxi.customers.models import Account
from guanxi.leads import pool
from guanxi.tests_support import crm_factories, factories
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_claim_an_account_from_the_department_pool(page: Any, live_server: Any) -> None:
    admin = factories.admin()
    east = factories.department("华东区")
    south = factories.department("华南区")
    pool.pool_create(actor=admin, department=east, name="华东公海")
    pool.pool_create(actor=admin, department=south, name="华南公海")
    sales = factories.user("sales", username="liuyang", password="Sales-pass-123", department=east)
    former = factories.user("sales", department=east)
    southern = factories.user("sales", department=south)
    mine = crm_factories.account(former, name="星河制造有限公司", tier="A")
    pool.account_release(actor=former, account=mine, reason="离职前释放")
    theirs = crm_factories.account(southern, name="南方贸易有限公司")
    pool.account_release(actor=southern, account=theirs, reason="无需求")
    base = live_server.url
    login(page, base, "liuyang", "Sales-pass-123")

    page.goto(f"{base}/accounts/pool/")
    main = page.inner_text("main")
    assert "星河制造有限公司" in main and "南方贸易有限公司" not in main
    page.select_option("#pool-tier", "A")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state()
    assert "星河制造有限公司" in page.inner_text("main")

    # Open it: the history tells why it was released; claim it from the detail page.
    page.click("text=星河制造有限公司")
    page.wait_for_load_state()
    assert "离职前释放" in page.inner_text("main")
    page.click("form[action$='/claim/'] button")
    page.wait_for_load_state()
    mine.refresh_from_db()
    assert mine.owner_id == sales.pk

    page.click("form[action$='/lock/'] button")
    page.wait_for_load_state()
    mine.refresh_from_db()
    assert mine.pool_locked

    page.click("details.release-form summary")
    page.fill("#release-reason", "客户已搬迁")
    page.click("details.release-form button[type=submit]")
    page.wait_for_load_state()
    stored = Account.objects.get(pk=mine.pk)
    assert stored.owner_id is None and not stored.pool_locked
    assert stored.pool_department_id == east.pk
    assert "/accounts/pool/" in page.url
