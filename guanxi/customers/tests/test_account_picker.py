"""Account type-ahead: name, pinyin and initials, within scope, one query; the forms that
pick an account never list every account."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from guanxi.customers.models import Contact
from guanxi.identity.models import User
from guanxi.leads.models import Lead
from guanxi.tests_support import crm_factories, factories

pytestmark = pytest.mark.django_db


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


def _suggest(client: Client, q: str) -> str:
    response = client.get(reverse("customers:account_autocomplete"), {"account_q": q})
    assert response.status_code == 200
    return response.content.decode()


def test_suggestions_by_name_pinyin_and_initials_in_scope(
    sales: User, other: User, django_assert_max_num_queries: Any
) -> None:
    mine = crm_factories.account(sales, name="华为技术", city="深圳")
    crm_factories.account(other, name="华星光电")  # a colleague's: never suggested
    client = _client(sales)
    _suggest(client, "华")  # warm the session and grants
    for q in ("华为", "huawei", "hwjs", "HW"):
        with django_assert_max_num_queries(4):  # session, user, grants, suggestions
            body = _suggest(client, q)
        assert f'data-pick-account="{mine.pk}"' in body, q
        assert "华星光电" not in body
    assert "华为技术" not in _suggest(client, "腾讯")
    assert _suggest(client, "").strip() == ""


def test_contact_form_picks_an_account_without_listing_them(sales: User, other: User) -> None:
    mine = crm_factories.account(sales, name="星辰科技")
    crm_factories.account(sales, name="月亮贸易")
    theirs = crm_factories.account(other, name="太阳能源")
    client = _client(sales)
    body = client.get(reverse("customers:contact_create")).content.decode()
    assert "月亮贸易" not in body and "星辰科技" not in body
    assert reverse("customers:account_autocomplete") in body
    response = client.post(
        reverse("customers:contact_create"),
        {"name": "王五", "account_id": str(mine.pk), "mobile": "13900001111"},
    )
    assert response.status_code == 302
    assert Contact.objects.get(name="王五").account_id == mine.pk
    response = client.post(
        reverse("customers:contact_create"),
        {"name": "赵六", "account_id": str(theirs.pk), "mobile": "13900002222"},
    )
    assert response.status_code == 200  # an account outside the scope is refused
    assert not Contact.objects.filter(name="赵六").exists()
    contact = Contact.objects.get(name="王五")
    body = client.get(reverse("customers:contact_edit", args=[contact.pk])).content.decode()
    assert 'value="星辰科技"' in body  # the current account's name is shown


def test_convert_dialog_uses_the_picker(sales: User) -> None:
    account = crm_factories.account(sales, name="蓝天集团")
    crm_factories.account(sales, name="白云集团")
    lead = crm_factories.lead(sales, company="蓝天")
    client = _client(sales)
    body = client.get(reverse("leads:convert", args=[lead.pk])).content.decode()
    assert "白云集团" not in body and reverse("customers:account_autocomplete") in body
    response = client.post(
        reverse("leads:convert", args=[lead.pk]), {"account_id": str(account.pk)}
    )
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.status == Lead.Status.CONVERTED and lead.converted_account_id == account.pk
