"""Accounts and contacts: credit code, CRUD through the API, dedup, masking, audit."""

from __future__ import annotations

from typing import Any

import pytest

from guanxi.core.models import AuditEvent
from guanxi.customers import creditcode
from guanxi.customers.models import Account, Contact
from guanxi.tests_support import crm_factories, factories

pytestmark = pytest.mark.django_db

VALID_CODE = "91350100M000100Y43"


def test_credit_code_check_digit() -> None:
    assert creditcode.is_valid(VALID_CODE)
    assert creditcode.check_character(VALID_CODE[:17]) == "3"
    assert not creditcode.is_valid("91350100M000100Y44")
    assert not creditcode.is_valid("91350100M000100Y4")
    assert not creditcode.is_valid("91350100M000100I43")  # I is not in the alphabet
    assert creditcode.normalise(" 91350100m000100y43 ") == VALID_CODE


def test_account_credit_code_validated_and_unique(api_client: Any) -> None:
    api = api_client.login(factories.user("sales"))
    bad = api.post("accounts", {"name": "福州某公司", "credit_code": "91350100M000100Y44"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "credit_code"
    ok = api.post("accounts", {"name": "福州某公司", "credit_code": VALID_CODE.lower()})
    assert ok.status_code == 201, ok.content
    assert ok.json()["credit_code"] == VALID_CODE
    dup = api.post("accounts", {"name": "另一家", "credit_code": VALID_CODE})
    assert dup.status_code == 409
    assert dup.json()["duplicate_of"] == {"type": "account", "id": ok.json()["id"]}
    assert dup.json()["match"] == "credit_code"
    # Empty codes never collide.
    assert api.post("accounts", {"name": "甲"}).status_code == 201
    assert api.post("accounts", {"name": "乙", "credit_code": ""}).status_code == 201


def test_db_enforces_unique_credit_code() -> None:
    from django.db import IntegrityError, transaction

    Account.objects.create(name="a", credit_code=VALID_CODE)
    Account.objects.create(name="b", credit_code="")
    Account.objects.create(name="c", credit_code="")
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.create(name="d", credit_code=VALID_CODE)


def test_account_crud_and_audit(api_client: Any) -> None:
    sales = factories.user("sales")
    api = api_client.login(sales)
    resp = api.post(
        "accounts",
        {
            "name": "华为技术有限公司",
            "tier": "A",
            "lifecycle_stage": "customer",
            "city": "深圳",
            "special_requirements": "发票必须在月底前寄出",
            "tags": ["战略客户"],
        },
    )
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["owner"]["id"] == sales.pk
    assert body["name_initials"] == "hwjsyxgs"
    assert body["special_requirements"] == "发票必须在月底前寄出"
    pk = body["id"]
    assert api.patch(f"accounts/{pk}", {"tier": "Z"}).status_code == 422
    resp = api.patch(f"accounts/{pk}", {"tier": "B"})
    assert resp.json()["tier"] == "B"
    change = AuditEvent.objects.get(entity="account", object_id=str(pk), action="update")
    assert change.changes == {"tier": ["A", "B"]}
    assert api.get("accounts", tier="B").json()["count"] == 1
    assert api.get("accounts", q="huawei").json()["count"] == 1
    assert api.get("accounts", q="华为").json()["count"] == 1
    # Salespeople may not delete.
    assert api.delete(f"accounts/{pk}").status_code == 403


def test_account_parent_must_be_visible_and_acyclic(api_client: Any) -> None:
    sales = factories.user("sales")
    parent = crm_factories.account(sales, name="集团")
    child = crm_factories.account(sales, name="子公司", parent_id=parent.pk)
    foreign = crm_factories.account(factories.user("sales"), name="别人的")
    api = api_client.login(sales)
    assert api.get(f"accounts/{child.pk}").json()["parent"] == {"id": parent.pk, "name": "集团"}
    resp = api.patch(f"accounts/{parent.pk}", {"parent_id": child.pk})
    assert resp.status_code == 422
    resp = api.patch(f"accounts/{child.pk}", {"parent_id": foreign.pk})
    assert resp.status_code == 422


def test_account_with_contacts_cannot_be_deleted(api_client: Any) -> None:
    admin = factories.admin()
    account = crm_factories.account(admin)
    crm_factories.contact(admin, account_id=account.pk)
    api = api_client.login(admin)
    assert api.delete(f"accounts/{account.pk}").status_code == 409
    assert Account.objects.filter(pk=account.pk).exists()


def test_contact_crud_dedup_and_masking(api_client: Any) -> None:
    sales = factories.user("sales")
    account = crm_factories.account(sales, name="美团")
    api = api_client.login(sales)
    resp = api.post(
        "contacts",
        {
            "name": "王兴",
            "account_id": account.pk,
            "mobile": "+86 186 0000 1234",
            "email": "WX@meituan.com",
            "birthday": "1979-02-18",
            "consent_marketing": True,
            "consent_source": "展会登记",
            "preferred_channel": "wechat",
        },
    )
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["mobile_e164"] == "+8618600001234"
    assert body["account"] == {"id": account.pk, "name": "美团"}
    assert body["birthday"] == "1979-02-18"
    dup = api.post("contacts", {"name": "王兴2", "mobile": "18600001234"})
    assert dup.status_code == 409
    assert dup.json()["duplicate_of"] == {"type": "contact", "id": body["id"]}
    assert (
        api.post(
            "contacts?allow_duplicate=true", {"name": "王兴2", "mobile": "18600001234"}
        ).status_code
        == 201
    )
    assert (
        api.post("contacts", {"name": "x", "mobile": "abc"}).json()["errors"][0]["field"]
        == "mobile"
    )
    # Another salesperson's account cannot be attached.
    foreign = crm_factories.account(factories.user("sales"))
    resp = api.post("contacts", {"name": "y", "account_id": foreign.pk})
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["field"] == "account_id"
    # Service role sees everything masked.
    service_api = api_client.login(factories.user("service"))
    seen = service_api.get(f"contacts/{body['id']}").json()
    assert seen["mobile"] == "+86****1234"
    assert seen["email"] == "W***@meituan.com"
    assert service_api.patch(f"contacts/{body['id']}", {"name": "z"}).status_code == 403
    assert service_api.get("contacts", account=account.pk).json()["count"] == 1
    assert service_api.get("contacts").json()["count"] == 2


def test_contact_update_dedup_and_transfer(api_client: Any) -> None:
    a, b = factories.user("sales"), factories.user("sales")
    crm_factories.lead(b, mobile="15000000001")
    contact = crm_factories.contact(a, mobile="15000000002")
    api = api_client.login(a)
    resp = api.patch(f"contacts/{contact.pk}", {"mobile": "15000000001"})
    assert resp.status_code == 409
    assert resp.json()["duplicate_of"] == {"type": "lead", "id": None, "visible": False}
    resp = api.patch(f"contacts/{contact.pk}?allow_duplicate=true", {"mobile": "15000000001"})
    assert resp.status_code == 200
    resp = api.post("contacts/transfer", {"ids": [contact.pk], "to_user_id": b.pk})
    assert resp.json() == {"transferred": 1}
    assert Contact.objects.get(pk=contact.pk).owner_id == b.pk
    assert api.get(f"contacts/{contact.pk}").status_code == 404


def test_owner_other_than_self_needs_transfer_permission(api_client: Any) -> None:
    readonly_like = factories.user("sales")
    other = factories.user("sales")
    api = api_client.login(readonly_like)
    # Salespeople hold 'transfer' by default, so they can hand records over on create.
    resp = api.post("accounts", {"name": "给同事", "owner_id": other.pk})
    assert resp.status_code == 201
    assert resp.json()["owner"]["id"] == other.pk
    assert api.post("accounts", {"name": "x", "owner_id": 999999}).status_code == 422


def test_user_owning_accounts_counts() -> None:
    from guanxi.identity import services as identity

    sales = factories.user("sales")
    account = crm_factories.account(sales)
    crm_factories.contact(sales, account_id=account.pk)
    assert identity.user_owned_records(sales) == {"account": 1, "contact": 1}
