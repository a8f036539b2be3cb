"""The finance API: status codes (DESIGN §3), sub-resources and scope (404 outside it)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from guanxi.finance.models import Contract
from guanxi.finance.tests import factories as ff
from guanxi.identity.services import token_create
from guanxi.tests_support import crm_factories, factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def people() -> dict[str, Any]:
    return {
        "sales": factories.user("sales", username="zhangwei", language="en"),
        "colleague": factories.user("sales", username="lina", language="en"),
    }


def test_contract_crud_plan_receipts_invoices(api_client: Any, people: dict[str, Any]) -> None:
    sales = people["sales"]
    account = crm_factories.account(sales, name="星辰科技")
    api = api_client.login(sales)
    r = api.post(
        "contracts",
        {
            "title": "年度服务",
            "account_id": account.pk,
            "amount": "30000.00",
            "starts_on": "2026-01-01",
            "ends_on": "2026-12-31",
        },
    )
    assert r.status_code == 201, r.content
    body = r.json()
    cid = body["id"]
    assert body["status"] == "draft" and body["amount"] == "30000.00" and body["currency"] == "CNY"
    assert body["owner"]["username"] == "zhangwei" and body["number"].startswith("HT-")

    bad = api.post("contracts", {"title": "x", "account_id": account.pk, "amount": "-1"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "amount"
    missing = api.post("contracts", {"title": "x", "amount": "1"})
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "account_id"

    plan = {
        "installments": [
            {"due_on": "2026-03-01", "amount": "10000"},
            {"due_on": "2026-06-01", "amount": "10000"},
            {"due_on": "2026-09-01", "amount": "9000"},
        ]
    }
    r = api.put(f"contracts/{cid}/plan", plan)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "installments"
    assert "¥1,000.00" in r.json()["detail"]
    plan["installments"][2]["amount"] = "10000"
    r = api.put(f"contracts/{cid}/plan", plan)
    assert r.status_code == 200
    installments = r.json()["installments"]
    assert [i["status"] for i in installments] == ["overdue", "overdue", "overdue"]  # 2026-12

    # Receipts wait for activation (409), then partial payment.
    pay = {"received_on": "2026-03-02", "amount": "4000", "installment_id": installments[0]["id"]}
    assert api.post(f"contracts/{cid}/receipts", pay).status_code == 409
    r = api.post(f"contracts/{cid}/activate")
    assert r.status_code == 200 and r.json()["status"] == "active"
    r = api.post(f"contracts/{cid}/receipts", {**pay, "method": "alipay"})
    assert r.status_code == 201 and r.json()["installment"]["position"] == 1
    r = api.post("payments", {"contract_id": cid, **pay, "amount": "7000"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "amount"
    assert "¥1,000.00" in r.json()["detail"]  # the excess over what is due
    r = api.post("payments", {"contract_id": cid, **pay, "method": "wechat_pay", "amount": "1000"})
    assert r.status_code == 201
    assert api.post("payments", {"contract_id": cid, **pay, "method": "bitcoin"}).status_code == 422
    plan_now = api.get(f"contracts/{cid}/plan").json()["installments"]
    assert plan_now[0]["received"] == "5000.00" and plan_now[0]["outstanding"] == "5000.00"
    assert api.put(f"contracts/{cid}/plan", plan).status_code == 409  # money received
    detail = api.get(f"contracts/{cid}").json()
    assert detail["received"] == "5000.00" and detail["outstanding"] == "25000.00"
    listing = api.get("payments", contract=cid).json()
    assert listing["count"] == 2 and {i["method"] for i in listing["items"]} == {
        "alipay",
        "wechat_pay",
    }

    r = api.post(
        f"contracts/{cid}/invoices",
        {"amount": "10000", "issued_on": "2026-03-05", "kind": "special", "status": "issued"},
    )
    assert r.status_code == 201 and r.json()["number"].startswith("FP-")
    inv = r.json()["id"]
    over = api.post(f"contracts/{cid}/invoices", {"amount": "20000.01", "issued_on": "2026-03-05"})
    assert over.status_code == 422 and over.json()["errors"][0]["field"] == "amount"
    r = api.patch(f"contracts/{cid}/invoices/{inv}", {"status": "void"})
    assert r.status_code == 200 and r.json()["status"] == "void"
    assert len(api.get(f"contracts/{cid}/invoices").json()["items"]) == 1

    r = api.patch(f"contracts/{cid}", {"title": "年度服务（续）", "amount": "1"})
    assert r.status_code == 422  # amount fixed once active
    r = api.patch(f"contracts/{cid}", {"title": "年度服务（续）"})
    assert r.status_code == 200 and r.json()["title"] == "年度服务（续）"

    aging = api.get("receivables", as_of="2026-06-15").json()
    # On 2026-06-15: 2026-03-01 is 106 days late (5,000 left), 2026-06-01 14, 2026-09-01 not due.
    assert aging["as_of"] == "2026-06-15"
    assert {k: aging["totals"][0][k] for k in ("not_due", "d0_30", "d61_90", "d90_plus")} == {
        "not_due": "10000.00",
        "d0_30": "10000.00",
        "d61_90": "0.00",
        "d90_plus": "5000.00",
    }
    assert aging["items"][0]["label"] == "星辰科技" and aging["items"][0]["total"] == "25000.00"
    assert api.post(f"contracts/{cid}/terminate", {"reason": ""}).status_code == 422
    assert api.post(f"contracts/{cid}/terminate", {"reason": "客户破产"}).status_code == 200
    assert api.delete(f"contracts/{cid}").status_code == 403  # sales may not delete


def test_scan_upload(api_client: Any, people: dict[str, Any], settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    sales = people["sales"]
    c = ff.contract(sales)
    _token, raw = token_create(actor=None, user=sales, name="t")
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    pdf = SimpleUploadedFile("合同扫描.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    r = client.post(f"/api/v1/contracts/{c.pk}/scan", {"file": pdf})
    assert r.status_code == 200, r.content
    assert r.json()["scan"]["name"] == "合同扫描.pdf"
    c.refresh_from_db()
    assert (tmp_path / c.scan.name).exists()
    exe = SimpleUploadedFile("x.exe", b"MZ", content_type="application/octet-stream")
    r = client.post(f"/api/v1/contracts/{c.pk}/scan", {"file": exe})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "scan"


def test_scope_contracts_and_payments(api_client: Any, people: dict[str, Any]) -> None:
    """A salesperson sees their contracts and receipts; a colleague's are 404 everywhere."""
    sales, colleague = people["sales"], people["colleague"]
    mine = ff.contract(sales, plan=[("2026-03-01", "30000")])
    theirs = ff.contract(colleague, plan=[("2026-03-01", "30000")])
    my_receipt = ff.receipt(sales, mine, "100")
    their_receipt = ff.receipt(colleague, theirs, "100")
    api = api_client.login(sales)
    assert [c["id"] for c in api.get("contracts").json()["items"]] == [mine.pk]
    assert [p["id"] for p in api.get("payments").json()["items"]] == [my_receipt.pk]
    assert api.get(f"contracts/{mine.pk}").status_code == 200
    for path in (
        f"contracts/{theirs.pk}",
        f"contracts/{theirs.pk}/plan",
        f"contracts/{theirs.pk}/receipts",
        f"contracts/{theirs.pk}/invoices",
        f"payments/{their_receipt.pk}",
    ):
        assert api.get(path).status_code == 404, path
    assert api.patch(f"contracts/{theirs.pk}", {"title": "x"}).status_code == 404
    assert (
        api.post(
            "payments", {"contract_id": theirs.pk, "received_on": "2026-03-01", "amount": "1"}
        ).status_code
        == 404
    )
    assert (
        api.post(
            f"contracts/{theirs.pk}/invoices", {"amount": "1", "issued_on": "2026-03-01"}
        ).status_code
        == 404
    )
    assert api.get("payments", contract=theirs.pk).json()["count"] == 0
    assert api.get("receivables").json()["totals"][0]["total"] == "29900.00"
    # Another account's contract on my account page stays hidden too.
    drill = api.get("receivables/installments", contract=theirs.pk).json()
    assert drill["count"] == 0
    # No token: 401.
    assert Client().get("/api/v1/contracts").status_code == 401
    theirs.refresh_from_db()
    assert theirs.title == "年度服务合同"


def test_roles_without_finance_grants_get_403(api_client: Any) -> None:
    service = factories.user("service", username="wufang")
    api = api_client.login(service)
    assert api.get("contracts").status_code == 403
    assert api.get("payments").status_code == 403
    assert api.get("receivables").status_code == 403


def test_masked_amount(api_client: Any, people: dict[str, Any]) -> None:
    from guanxi.tests_support import org

    admin = factories.admin(username="root")
    c = ff.contract(people["sales"])
    role = org.role(
        admin,
        {"contract": {"actions": ["view"], "scope": "all", "masked_fields": ["amount"]}},
    )
    viewer = factories.UserFactory(username="viewer")
    viewer.roles.set([role])
    body = api_client.login(viewer).get(f"contracts/{c.pk}").json()
    assert body["amount"] == "****" and body["received"] is None and body["title"]
    assert Contract.objects.get(pk=c.pk).amount == c.amount


def test_list_filters_and_errors(api_client: Any, people: dict[str, Any]) -> None:
    sales = people["sales"]
    a = ff.contract(sales, ends_on=dt.date(2026, 3, 1))
    ff.contract(sales, activate=False)
    api = api_client.login(sales)
    assert [c["id"] for c in api.get("contracts", status="active").json()["items"]] == [a.pk]
    assert api.get("contracts", status="nope").status_code == 422
    assert api.get("contracts", sort="bogus").status_code == 422
    assert api.get("contracts", page_size=500).status_code == 422
    found = api.get("contracts", ending_before="2026-03-31").json()["items"]
    assert [c["id"] for c in found] == [a.pk]
    assert api.get("receivables", group="planet").status_code == 422
    assert api.get("receivables/installments", bucket="d1000").status_code == 422


def _queries(api: Any, path: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api.get(path)  # the first call also stamps the token's last use
    with CaptureQueriesContext(connection) as ctx:
        assert api.get(path).status_code == 200
    return len(ctx.captured_queries)


def test_list_queries_do_not_grow_with_rows(api_client: Any, people: dict[str, Any]) -> None:
    sales = people["sales"]
    api = api_client.login(sales)
    for _ in range(2):
        c = ff.contract(sales, plan=[("2026-03-01", "30000")])
        ff.receipt(sales, c, "100")
    few = {p: _queries(api, p) for p in ("contracts", "payments", "receivables")}
    for _ in range(5):
        c = ff.contract(sales, plan=[("2026-03-01", "30000")])
        ff.receipt(sales, c, "100")
    many = {p: _queries(api, p) for p in ("contracts", "payments", "receivables")}
    assert many == few
    assert many["contracts"] <= 8
