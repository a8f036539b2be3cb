"""Account and contact pages through Django's test client."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from guanxi.core.models import AuditEvent
from guanxi.customers.models import Account, Contact
from guanxi.identity.models import User
from guanxi.tests_support import crm_factories, factories

pytestmark = pytest.mark.django_db

VALID_CREDIT_CODE = "91350100M000100Y43"


@pytest.fixture
def sales() -> User:
    return factories.user("sales", username="sales1")


@pytest.fixture
def other() -> User:
    return factories.user("sales", username="sales2")


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_account_pages_for_owner(sales: User) -> None:
    account = crm_factories.account(sales, name="星辰科技", special_requirements="只走对公转账")
    contact = crm_factories.contact(sales, name="周杰", account_id=account.pk)
    client = _client(sales)
    body = client.get(reverse("customers:account_list")).content.decode()
    assert "星辰科技" in body and "只走对公转账" in body
    response = client.get(reverse("customers:account_detail", args=[account.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'class="special-banner"' in body and "只走对公转账" in body
    assert reverse("customers:contact_detail", args=[contact.pk]) in body
    assert client.get(reverse("customers:account_edit", args=[account.pk])).status_code == 200
    assert client.get(reverse("customers:account_create")).status_code == 200


def test_special_requirements_next_to_the_account_in_contact_pages(sales: User) -> None:
    account = crm_factories.account(sales, name="月光集团", special_requirements="周五不接电话")
    contact = crm_factories.contact(sales, account_id=account.pk)
    client = _client(sales)
    body = client.get(reverse("customers:contact_list")).content.decode()
    assert "周五不接电话" in body
    body = client.get(reverse("customers:contact_detail", args=[contact.pk])).content.decode()
    assert 'class="special-banner"' in body and "周五不接电话" in body


def test_out_of_scope_is_404(sales: User, other: User) -> None:
    account = crm_factories.account(other)
    contact = crm_factories.contact(other)
    client = _client(sales)
    assert client.get(reverse("customers:account_detail", args=[account.pk])).status_code == 404
    assert client.get(reverse("customers:account_edit", args=[account.pk])).status_code == 404
    assert client.get(reverse("customers:contact_detail", args=[contact.pk])).status_code == 404
    assert client.get(reverse("customers:contact_edit", args=[contact.pk])).status_code == 404
    assert client.get(reverse("customers:contact_list")).context["rows"] == []
    assert list(client.get(reverse("customers:account_list")).context["page"].items) == []


def test_create_and_edit_account(sales: User) -> None:
    client = _client(sales)
    response = client.post(
        reverse("customers:account_create"),
        {
            "name": "蓝海贸易",
            "lifecycle_stage": "prospect",
            "tier": "A",
            "credit_code": VALID_CREDIT_CODE,
            "tags": "重点",
        },
    )
    account = Account.objects.get(name="蓝海贸易")
    assert response.status_code == 302
    assert account.tier == "A" and account.tags == ["重点"]
    response = client.post(
        reverse("customers:account_edit", args=[account.pk]),
        {
            "name": "蓝海贸易有限公司",
            "lifecycle_stage": "customer",
            "tier": "A",
            "credit_code": VALID_CREDIT_CODE,
            "tags": "重点",
        },
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.name == "蓝海贸易有限公司"
    assert account.lifecycle_stage == "customer"


def test_invalid_credit_code_is_a_field_error(sales: User) -> None:
    response = _client(sales).post(
        reverse("customers:account_create"),
        {"name": "坏代码", "lifecycle_stage": "prospect", "credit_code": "123"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["credit_code"]


def test_contact_create_and_duplicates(sales: User, other: User) -> None:
    mine = crm_factories.contact(sales, name="刘备", mobile="13700000001")
    crm_factories.contact(other, name="曹操", mobile="13700000002")
    client = _client(sales)
    response = client.post(
        reverse("customers:contact_create"), {"name": "关羽", "mobile": "13700000001"}
    )
    body = response.content.decode()
    assert reverse("customers:contact_detail", args=[mine.pk]) in body
    response = client.post(
        reverse("customers:contact_create"), {"name": "张飞", "mobile": "13700000002"}
    )
    body = response.content.decode()
    assert response.context["duplicate"]["visible"] is False
    assert "曹操" not in body
    response = client.post(
        reverse("customers:contact_create"),
        {"name": "张飞", "mobile": "13700000002", "allow_duplicate": "1"},
    )
    assert response.status_code == 302
    assert Contact.objects.filter(name="张飞").exists()


def test_contact_reveal_is_audited(sales: User) -> None:
    contact = crm_factories.contact(sales, email="Zhou@Example.com")
    viewer = factories.user("service")
    client = _client(viewer)
    body = client.get(reverse("customers:contact_detail", args=[contact.pk])).content.decode()
    assert "Zhou@Example.com" not in body
    response = client.post(reverse("customers:contact_reveal", args=[contact.pk, "email"]))
    assert "Zhou@Example.com" in response.content.decode()
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.REVEAL, entity="contact", object_id=str(contact.pk)
    ).exists()


def test_account_delete_refused_while_contacts_remain() -> None:
    admin = factories.admin()
    account = crm_factories.account(admin)
    crm_factories.contact(admin, account_id=account.pk)
    response = _client(admin).post(reverse("customers:account_delete", args=[account.pk]))
    assert response.status_code == 302
    assert Account.objects.filter(pk=account.pk).exists()


def test_list_query_counts(sales: User, django_assert_max_num_queries: Any) -> None:
    for i in range(20):
        account = crm_factories.account(sales, special_requirements=f"要求{i}")
        crm_factories.contact(sales, account_id=account.pk)
    client = _client(sales)
    client.get(reverse("customers:account_list"))
    with django_assert_max_num_queries(5):
        assert client.get(reverse("customers:account_list")).status_code == 200
    with django_assert_max_num_queries(5):
        assert client.get(reverse("customers:contact_list")).status_code == 200
