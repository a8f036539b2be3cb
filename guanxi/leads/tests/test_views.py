"""Lead pages through Django's test client: scope, duplicates, conversion, reveal."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from guanxi.core.models import AuditEvent
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


def _lead_form(**data: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"name": "张伟", "company": "示例科技", "status": "new"}
    values.update(data)
    return values


def test_list_and_detail_for_owner(sales: User) -> None:
    lead = crm_factories.lead(sales, name="王芳", company="华为", tags=["重点"])
    client = _client(sales)
    response = client.get(reverse("leads:list"))
    assert response.status_code == 200
    assert "王芳" in response.content.decode()
    response = client.get(reverse("leads:detail", args=[lead.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "华为" in body
    assert lead.mobile in body
    assert client.get(reverse("leads:edit", args=[lead.pk])).status_code == 200
    assert client.get(reverse("leads:create")).status_code == 200
    assert client.get(reverse("leads:convert", args=[lead.pk])).status_code == 200


def test_out_of_scope_lead_is_404(sales: User, other: User) -> None:
    lead = crm_factories.lead(other)
    client = _client(sales)
    assert client.get(reverse("leads:detail", args=[lead.pk])).status_code == 404
    assert client.get(reverse("leads:edit", args=[lead.pk])).status_code == 404
    assert client.post(reverse("leads:convert", args=[lead.pk])).status_code == 404
    assert client.post(reverse("leads:reveal", args=[lead.pk, "mobile"])).status_code == 404
    assert client.get(reverse("leads:list")).context["rows"] == []


def test_saved_views_filter(sales: User) -> None:
    mine = crm_factories.lead(sales, name="我的线索")
    pooled = crm_factories.lead(factories.admin(), name="公海线索", owner_id=None)
    client = _client(factories.admin())
    body = client.get(reverse("leads:list") + "?view=pool").content.decode()
    assert pooled.name in body and mine.name not in body
    body = _client(sales).get(reverse("leads:list") + "?view=mine").content.decode()
    assert mine.name in body
    for view in ("department", "today", "stale", ""):
        assert _client(sales).get(reverse("leads:list"), {"view": view}).status_code == 200


def test_create_lead(sales: User) -> None:
    response = _client(sales).post(
        reverse("leads:create"), _lead_form(mobile="13800138000", tags="重点, 展会")
    )
    lead = Lead.objects.get(name="张伟")
    assert response.status_code == 302
    assert response["Location"] == reverse("leads:detail", args=[lead.pk])
    assert lead.mobile_e164 == "+8613800138000"
    assert lead.tags == ["重点", "展会"]
    assert lead.owner_id == sales.pk


def test_invalid_phone_is_shown_next_to_the_field(sales: User) -> None:
    response = _client(sales).post(reverse("leads:create"), _lead_form(mobile="12"))
    assert response.status_code == 200
    assert response.context["form"].errors["mobile"]


def test_duplicate_in_scope_links_to_the_record(sales: User) -> None:
    existing = crm_factories.lead(sales, name="李雷", mobile="13900139000")
    response = _client(sales).post(reverse("leads:create"), _lead_form(mobile="139 0013 9000"))
    body = response.content.decode()
    assert response.status_code == 200
    assert reverse("leads:detail", args=[existing.pk]) in body
    assert 'name="allow_duplicate"' in body
    assert Lead.objects.count() == 1


def test_duplicate_out_of_scope_reveals_nothing(sales: User, other: User) -> None:
    existing = crm_factories.lead(other, name="韩梅梅", mobile="13900139001")
    response = _client(sales).post(reverse("leads:create"), _lead_form(mobile="13900139001"))
    body = response.content.decode()
    assert response.context["duplicate"] == {"type": "lead", "match": "phone", "visible": False}
    assert reverse("leads:detail", args=[existing.pk]) not in body
    assert "韩梅梅" not in body


def test_create_anyway(sales: User, other: User) -> None:
    crm_factories.lead(other, mobile="13900139002")
    response = _client(sales).post(
        reverse("leads:create"), _lead_form(mobile="13900139002", allow_duplicate="1")
    )
    assert response.status_code == 302
    assert Lead.objects.filter(mobile_e164="+8613900139002").count() == 2


def test_edit_lead(sales: User) -> None:
    lead = crm_factories.lead(sales, name="旧名字")
    client = _client(sales)
    form = client.get(reverse("leads:edit", args=[lead.pk])).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data["name"] = "新名字"
    response = client.post(reverse("leads:edit", args=[lead.pk]), data)
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.name == "新名字"


def test_convert_then_convert_again_is_409(sales: User) -> None:
    lead = crm_factories.lead(sales, name="赵六", company="赵氏集团")
    client = _client(sales)
    response = client.post(reverse("leads:convert", args=[lead.pk]), {"account_id": ""})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.status == Lead.Status.CONVERTED
    assert lead.converted_account is not None and lead.converted_account.name == "赵氏集团"
    detail = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert reverse("customers:account_detail", args=[lead.converted_account_id]) in detail
    response = client.post(reverse("leads:convert", args=[lead.pk]), {"account_id": ""})
    assert response.status_code == 409
    assert "已经转化" in response.content.decode() or "already been converted" in (
        response.content.decode()
    )


def test_convert_into_picked_account(sales: User) -> None:
    account = crm_factories.account(sales, name="已有客户")
    lead = crm_factories.lead(sales, company="已有客户")
    response = _client(sales).post(
        reverse("leads:convert", args=[lead.pk]), {"account_id": str(account.pk)}
    )
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.converted_account_id == account.pk


def test_reveal_masked_field_is_audited(sales: User) -> None:
    lead = crm_factories.lead(sales, mobile="13812345678")
    viewer = factories.user("service", username="cs1")
    client = _client(viewer)
    detail = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert "138****5678" in detail
    assert "13812345678" not in detail
    response = client.post(reverse("leads:reveal", args=[lead.pk, "mobile"]))
    assert response.status_code == 200
    assert "13812345678" in response.content.decode()
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.REVEAL, entity="lead", object_id=str(lead.pk), actor=viewer
    ).exists()
    assert client.post(reverse("leads:reveal", args=[lead.pk, "name"])).status_code == 400


def test_list_shows_masked_values(sales: User) -> None:
    crm_factories.lead(sales, mobile="13812345679")
    body = _client(factories.user("service")).get(reverse("leads:list")).content.decode()
    assert "138****5679" in body and "13812345679" not in body


def test_transfer_and_delete(sales: User, other: User) -> None:
    lead = crm_factories.lead(sales)
    client = _client(sales)
    response = client.post(reverse("leads:transfer", args=[lead.pk]), {"to_user": ""})
    lead.refresh_from_db()
    assert response.status_code == 302 and lead.owner_id == sales.pk
    response = client.post(reverse("leads:transfer", args=[lead.pk]), {"to_user": other.pk})
    assert response.status_code == 302
    assert response["Location"] == reverse("leads:list")
    lead.refresh_from_db()
    assert lead.owner_id == other.pk
    admin = factories.admin()
    admin_client = _client(admin)
    admin_client.post(reverse("leads:transfer", args=[lead.pk]), {"to_user": "pool"})
    lead.refresh_from_db()
    assert lead.owner_id is None
    response = admin_client.post(reverse("leads:delete", args=[lead.pk]))
    assert response.status_code == 302
    assert not Lead.objects.filter(pk=lead.pk).exists()


def test_list_query_count_is_pinned(sales: User, django_assert_max_num_queries: Any) -> None:
    for _ in range(30):
        crm_factories.lead(sales)
    client = _client(sales)
    client.get(reverse("leads:list"))  # warm caches (session, grants)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("leads:list") + "?view=mine&sort=-score")
    assert response.status_code == 200
    assert len(response.context["rows"]) == 30


def test_detail_has_follow_up_form_and_timeline(sales: User) -> None:
    lead = crm_factories.lead(sales)
    client = _client(sales)
    body = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert reverse("activities:followup_create") in body
    assert 'name="target_entity" value="lead"' in body
    assert reverse("activities:timeline") in body
    response = client.get(
        reverse("activities:timeline"), {"entity": "lead", "id": lead.pk}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200


def test_likely_duplicates_are_suggested_not_blocking(sales: User) -> None:
    existing = crm_factories.lead(sales, name="张伟", company="示例科技", mobile="13600000001")
    client = _client(sales)
    response = client.get(reverse("leads:likely"), {"name": "张伟", "company": "示例科技"})
    assert reverse("leads:detail", args=[existing.pk]) in response.content.decode()
    response = client.post(reverse("leads:create"), _lead_form(mobile="13600000002"))
    assert response.status_code == 302
    detail = client.get(response["Location"]).content.decode()
    assert reverse("leads:detail", args=[existing.pk]) in detail
