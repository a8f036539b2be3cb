"""Finance pages: list, detail with plan editor / receipts / invoices / scan, receivables,
the account page section, and 404 outside the scope."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from guanxi.finance.models import Contract, Invoice, Receipt
from guanxi.finance.tests import factories as ff
from guanxi.tests_support import crm_factories, factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def sales() -> Any:
    return factories.user("sales", username="zhangwei", language="en")


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_create_plan_receive_invoice_through_pages(
    sales: Any, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    account = crm_factories.account(sales, name="星辰科技")
    web = _client(sales)
    page = web.get(f"/contracts/new/?account={account.pk}")
    assert page.status_code == 200 and "星辰科技" in page.content.decode()
    r = web.post(
        "/contracts/new/",
        {
            "title": "实施合同",
            "account_id": account.pk,
            "amount": "30,000",
            "currency": "CNY",
            "starts_on": "2026-01-01",
            "ends_on": "2026-12-31",
        },
    )
    assert r.status_code == 302
    contract = Contract.objects.get(title="实施合同")
    url = f"/contracts/{contract.pk}/"
    # A plan that does not add up is shown again with the difference, rows kept.
    r = web.post(
        f"{url}plan/",
        {
            "due_on": ["2026-03-01", "2026-06-01", "2026-09-01", ""],
            "amount": ["10000", "10000", "5000", ""],
            "notes": ["首付", "", "", ""],
        },
    )
    assert r.status_code == 422
    body = r.content.decode()
    assert "¥5,000.00" in body and "首付" in body
    r = web.post(
        f"{url}plan/",
        {"due_on": ["2026-03-01", "2026-06-01", "2026-09-01"], "amount": ["10000"] * 3},
    )
    assert r.status_code == 302 and contract.installments.count() == 3
    assert web.post(f"{url}activate/").status_code == 302
    first = contract.installments.order_by("position").first()
    r = web.post(
        f"{url}receipts/",
        {
            "installment_id": first.pk,
            "received_on": "2026-03-02",
            "amount": "12000",
            "method": "cash",
        },
    )
    assert r.status_code == 422 and "overpayment" in r.content.decode()
    r = web.post(
        f"{url}receipts/",
        {
            "installment_id": first.pk,
            "received_on": "2026-03-02",
            "amount": "4000",
            "method": "cash",
        },
    )
    assert r.status_code == 302
    assert Receipt.objects.get(contract=contract).amount == 4000
    r = web.post(
        f"{url}invoices/",
        {"amount": "4000", "issued_on": "2026-03-03", "kind": "normal", "status": "draft"},
    )
    assert r.status_code == 302
    inv = Invoice.objects.get(contract=contract)
    assert web.post(f"{url}invoices/{inv.pk}/status/", {"status": "issued"}).status_code == 302
    inv.refresh_from_db()
    assert inv.status == "issued"
    scan = SimpleUploadedFile("scan.pdf", b"%PDF-1.4", content_type="application/pdf")
    assert web.post(f"{url}scan/upload/", {"scan": scan}).status_code == 302
    assert web.get(f"{url}scan/").status_code == 200
    detail = web.get(url).content.decode()
    # 2026-03-01 is past with 4,000 of 10,000 paid: overdue (partial payments do not hide it).
    assert "installment-overdue" in detail and "6000.00" in detail
    assert "scan.pdf" in detail and inv.number in detail
    assert contract.number in web.get("/contracts/").content.decode()
    # The account page lists the contract with what is outstanding.
    account_page = web.get(f"/accounts/{account.pk}/").content.decode()
    assert contract.number in account_page and "26000.00" in account_page


def test_receivables_page_and_drilldown(sales: Any) -> None:
    c = ff.contract(sales, plan=[("2026-03-01", "10000"), ("2026-09-01", "20000")])
    web = _client(sales)
    page = web.get("/receivables/?as_of=2026-06-15")
    assert page.status_code == 200
    html = page.content.decode()
    assert "10000.00" in html and "20000.00" in html
    drill = web.get("/receivables/installments/?bucket=d90_plus&as_of=2026-06-15")
    assert c.number in drill.content.decode()
    empty = web.get("/receivables/installments/?bucket=d0_30&as_of=2026-06-15")
    assert c.number not in empty.content.decode()
    for group in ("contract", "owner"):
        assert web.get(f"/receivables/?group={group}").status_code == 200


def test_pages_404_outside_scope(sales: Any) -> None:
    colleague = factories.user("sales", username="lina")
    theirs = ff.contract(colleague, plan=[("2026-03-01", "30000")])
    web = _client(sales)
    for path in ("", "edit/", "scan/"):
        assert web.get(f"/contracts/{theirs.pk}/{path}").status_code == 404
    assert web.post(f"/contracts/{theirs.pk}/receipts/", {"amount": "1"}).status_code == 404
    assert theirs.number not in web.get("/contracts/").content.decode()
    assert theirs.number not in web.get("/receivables/?group=contract").content.decode()
    service = _client(factories.user("service", username="wufang"))
    assert service.get("/contracts/").status_code == 403
    assert service.get("/receivables/").status_code == 403


def test_finance_settings_admin_only(sales: Any) -> None:
    admin = factories.admin(username="root")
    assert _client(sales).get("/org/finance/").status_code == 403
    r = _client(admin).post("/org/finance/", {"approval_threshold": "50000", "renewal_days": "45"})
    assert r.status_code == 302
    from guanxi.finance.models import FinanceSettings

    conf = FinanceSettings.current()
    assert (str(conf.approval_threshold), conf.renewal_days) == ("50000.00", 45)
    r = _client(admin).post("/org/finance/", {"approval_threshold": "1", "renewal_days": "0"})
    assert r.status_code == 200 and FinanceSettings.current().renewal_days == 45


def test_account_timeline_shows_contracts_and_payments(sales: Any) -> None:
    account = crm_factories.account(sales, name="甲公司")
    c = ff.contract(sales, account=account, plan=[("2026-03-01", "30000")])
    ff.receipt(sales, c, "5000", received_on=dt.date(2026, 3, 1))
    web = _client(sales)
    html = web.get(f"/timeline/?entity=account&id={account.pk}&kind=finance").content.decode()
    assert c.number in html and "5,000.00" in html
    colleague = factories.user("sales", username="lina")
    assert _client(colleague).get(f"/timeline/?entity=account&id={account.pk}").status_code == 404
