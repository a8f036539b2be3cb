"""The lead API contract (DESIGN §3): create, dedup, validation, masking, conversion."""

from __future__ import annotations

from typing import Any

import pytest

from guanxi.core.models import AuditEvent
from guanxi.customers.models import Account, Contact
from guanxi.leads.models import Lead, LeadSource
from guanxi.tests_support import crm_factories, factories

pytestmark = pytest.mark.django_db


def test_sources_are_seeded() -> None:
    names = set(LeadSource.objects.values_list("name_zh", flat=True))
    assert {"官网", "展会", "广告", "百度", "抖音", "小红书", "转介绍", "电话", "名片扫描"} <= names


def test_create_lead_returns_contract_shape(api_client: Any) -> None:
    sales = factories.user("sales")
    api = api_client.login(sales)
    resp = api.post(
        "leads",
        {
            "name": "张伟",
            "company": "杭州云栖科技有限公司",
            "mobile": "138 0013 8000",
            "phone": "0571-8888 6666 转 123",
            "email": " Zhang.Wei@Example.COM ",
            "source": "baidu",
            "tags": ["重点", "重点", "华东"],
        },
    )
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["owner"] == {"id": sales.pk, "username": sales.username}
    assert body["mobile"] == "138 0013 8000"
    assert body["mobile_e164"] == "+8613800138000"
    assert body["phone_e164"] == "+8657188886666"
    assert body["phone_ext"] == "123"
    assert body["email"] == "Zhang.Wei@Example.COM"
    assert body["source"] == "baidu"
    assert body["status"] == "new"
    assert body["name_pinyin"] == "zhangwei"
    assert body["name_initials"] == "zw"
    assert body["tags"] == ["重点", "华东"]
    assert body["custom"] == {}
    for key in ("id", "created_at", "updated_at"):
        assert body[key]
    lead = Lead.objects.get(pk=body["id"])
    assert lead.email_norm == "zhang.wei@example.com"
    event = AuditEvent.objects.get(entity="lead", object_id=str(lead.pk), action="create")
    assert event.changes["name"] == [None, "张伟"]


def test_invalid_phone_is_422_naming_the_field(api_client: Any) -> None:
    api = api_client.login(factories.user("sales"))
    resp = api.post("leads", {"name": "李娜", "mobile": "12345"})
    assert resp.status_code == 422
    assert [e["field"] for e in resp.json()["errors"]] == ["mobile"]


def test_scientific_notation_phone_is_rejected(api_client: Any) -> None:
    api = api_client.login(factories.user("sales"))
    resp = api.post("leads", {"name": "李娜", "mobile": "1.38001E+10"})
    assert resp.status_code == 422
    body = resp.json()
    assert body["errors"][0]["field"] == "mobile"
    assert "科学计数法" in body["errors"][0]["message"]
    assert not Lead.objects.exists()


def test_invalid_email_and_missing_name_are_all_named(api_client: Any) -> None:
    api = api_client.login(factories.user("sales"))
    resp = api.post("leads", {"name": " ", "email": "not-an-email", "source": "nope"})
    assert resp.status_code == 422
    assert {e["field"] for e in resp.json()["errors"]} == {"name", "email", "source"}


def test_duplicate_phone_is_409_with_contract_body(api_client: Any) -> None:
    sales = factories.user("sales")
    first = crm_factories.lead(sales, mobile="13800138000")
    api = api_client.login(sales)
    resp = api.post("leads", {"name": "王芳", "mobile": "+86 138-0013-8000"})
    assert resp.status_code == 409
    body = resp.json()
    assert body["detail"]
    assert body["duplicate_of"] == {"type": "lead", "id": first.pk}
    assert body["match"] == "phone"
    resp = api.post("leads?allow_duplicate=true", {"name": "王芳", "mobile": "+8613800138000"})
    assert resp.status_code == 201


def test_mobile_matches_landline_field_too() -> None:
    sales = factories.user("sales")
    crm_factories.lead(sales, mobile="", phone="13900001111")
    from guanxi.core.errors import DuplicateRecord

    with pytest.raises(DuplicateRecord):
        crm_factories.lead(sales, mobile="139 0000 1111")


def test_duplicate_email_is_case_insensitive(api_client: Any) -> None:
    sales = factories.user("sales")
    first = crm_factories.lead(sales, mobile="", email="Li.Na@QQ.com")
    resp = api_client.login(sales).post("leads", {"name": "李娜", "email": "li.na@qq.COM "})
    assert resp.status_code == 409
    assert resp.json()["match"] == "email"
    assert resp.json()["duplicate_of"]["id"] == first.pk


def test_duplicate_across_lead_and_contact(api_client: Any) -> None:
    sales = factories.user("sales")
    contact = crm_factories.contact(sales, mobile="13600136000")
    api = api_client.login(sales)
    resp = api.post("leads", {"name": "赵磊", "mobile": "13600136000"})
    assert resp.status_code == 409
    assert resp.json()["duplicate_of"] == {"type": "contact", "id": contact.pk}
    lead = crm_factories.lead(sales, mobile="", email="boss@corp.cn")
    resp = api.post("contacts", {"name": "钱总", "email": "BOSS@corp.cn"})
    assert resp.status_code == 409
    assert resp.json()["duplicate_of"] == {"type": "lead", "id": lead.pk}
    assert resp.json()["match"] == "email"


def test_duplicate_outside_scope_does_not_reveal_the_id(api_client: Any) -> None:
    a, b = factories.user("sales"), factories.user("sales")
    crm_factories.lead(a, mobile="13700137000")
    resp = api_client.login(b).post("leads", {"name": "x", "mobile": "13700137000"})
    assert resp.status_code == 409
    assert resp.json()["duplicate_of"]["id"] is None
    assert resp.json()["duplicate_of"]["type"] == "lead"


def test_update_checks_duplicates_and_audits_diff(api_client: Any) -> None:
    sales = factories.user("sales")
    crm_factories.lead(sales, mobile="13500135000")
    lead = crm_factories.lead(sales, mobile="13500135001", status="new")
    api = api_client.login(sales)
    resp = api.patch(f"leads/{lead.pk}", {"mobile": "13500135000"})
    assert resp.status_code == 409
    resp = api.patch(f"leads/{lead.pk}", {"status": "contacted", "score": 30})
    assert resp.status_code == 200, resp.content
    assert resp.json()["status"] == "contacted"
    event = AuditEvent.objects.filter(entity="lead", object_id=str(lead.pk), action="update").get()
    assert event.changes == {"score": [0, 30], "status": ["new", "contacted"]}


def test_update_audits_custom_fields() -> None:
    from guanxi.core.models import CustomField
    from guanxi.leads import services

    CustomField.objects.create(entity="lead", key="budget", label_zh="预算", kind="number")
    sales = factories.user("sales")
    lead = crm_factories.lead(sales, custom={"budget": "100"})
    services.lead_update(actor=sales, lead=lead, data={"custom": {"budget": 200}})
    event = AuditEvent.objects.filter(entity="lead", object_id=str(lead.pk), action="update").get()
    assert event.changes == {"custom.budget": [100, 200]}


def test_delete_needs_permission_and_scope(api_client: Any) -> None:
    dept = factories.department("一部")
    sales = factories.user("sales", department=dept)
    lead = crm_factories.lead(sales)
    assert api_client.login(sales).delete(f"leads/{lead.pk}").status_code == 403
    manager = factories.user("manager", department=dept)
    other_lead = crm_factories.lead(
        factories.user("sales", department=factories.department("别部"))
    )
    api = api_client.login(manager)
    assert api.delete(f"leads/{lead.pk}").status_code == 204
    assert api.delete(f"leads/{other_lead.pk}").status_code == 404
    assert AuditEvent.objects.filter(
        entity="lead", action="delete", object_id=str(lead.pk)
    ).exists()


def test_convert_creates_account_and_contact_and_is_409_twice(api_client: Any) -> None:
    sales = factories.user("sales")
    lead = crm_factories.lead(
        sales, name="周杰", company="深圳前海微众科技", mobile="13312345678", email="zj@wz.cn"
    )
    api = api_client.login(sales)
    resp = api.post(f"leads/{lead.pk}/convert", {})
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["deal"] is None
    assert body["account"]["name"] == "深圳前海微众科技"
    assert body["contact"]["name"] == "周杰"
    assert body["contact"]["mobile_e164"] == "+8613312345678"
    assert body["contact"]["account"]["id"] == body["account"]["id"]
    lead.refresh_from_db()
    assert lead.status == "converted"
    assert lead.converted_account_id == body["account"]["id"]
    assert lead.converted_contact_id == body["contact"]["id"]
    for entity, pk in (
        ("lead", lead.pk),
        ("account", body["account"]["id"]),
        ("contact", body["contact"]["id"]),
    ):
        assert AuditEvent.objects.filter(
            entity=entity, object_id=str(pk), action="convert"
        ).exists()
    again = api.post(f"leads/{lead.pk}/convert", {})
    assert again.status_code == 409
    assert Account.objects.count() == 1
    assert Contact.objects.count() == 1


def test_convert_reuses_existing_account_by_name_or_id(api_client: Any) -> None:
    sales = factories.user("sales")
    account = crm_factories.account(sales, name="北京字节跳动")
    lead1 = crm_factories.lead(sales, company="北京字节跳动")
    lead2 = crm_factories.lead(sales, company="别的公司")
    api = api_client.login(sales)
    assert api.post(f"leads/{lead1.pk}/convert", {}).json()["account"]["id"] == account.pk
    resp = api.post(f"leads/{lead2.pk}/convert", {"account_id": account.pk})
    assert resp.json()["account"]["id"] == account.pk
    assert Account.objects.count() == 1


def test_convert_other_users_lead_is_404(api_client: Any) -> None:
    lead = crm_factories.lead(factories.user("sales"))
    resp = api_client.login(factories.user("sales")).post(f"leads/{lead.pk}/convert", {})
    assert resp.status_code == 404


def test_page_size_is_capped(api_client: Any) -> None:
    api = api_client.login(factories.user("sales"))
    assert api.get("leads", page_size=201).status_code == 422
    assert api.get("leads", page_size=200).status_code == 200


def test_list_filters_and_search(api_client: Any) -> None:
    sales = factories.user("sales")
    crm_factories.lead(sales, name="张伟", company="阿里巴巴", source="douyin", status="qualified")
    crm_factories.lead(sales, name="李强", company="腾讯", mobile="13911112222", email="lq@qq.com")
    api = api_client.login(sales)

    def names(**params: Any) -> list[str]:
        resp = api.get("leads", **params)
        assert resp.status_code == 200, resp.content
        return [i["name"] for i in resp.json()["items"]]

    assert names(q="张伟") == ["张伟"]
    assert names(q="zhangwei") == ["张伟"]
    assert names(q="zw") == ["张伟"]
    assert names(q="腾讯") == ["李强"]
    assert names(q="2222") == ["李强"]
    assert names(q="139-1111-2222") == ["李强"]
    assert names(q="LQ@qq") == ["李强"]
    assert names(source="douyin") == ["张伟"]
    assert names(status="qualified") == ["张伟"]
    assert names(owner="me", sort="name") == ["李强", "张伟"]
    assert names(owner="none") == []
    assert api.get("leads", sort="bogus").status_code == 422


def test_custom_field_filter(api_client: Any) -> None:
    from guanxi.core.models import CustomField

    CustomField.objects.create(
        entity="lead",
        key="region",
        label_zh="区域",
        kind="select",
        options=[{"value": "east"}, {"value": "west"}],
    )
    sales = factories.user("sales")
    crm_factories.lead(sales, name="东", custom={"region": "east"})
    crm_factories.lead(sales, name="西", custom={"region": "west"})
    resp = api_client.login(sales).get("leads", **{"custom.region": "east"})
    assert [i["name"] for i in resp.json()["items"]] == ["东"]


@pytest.mark.parametrize("role_code", ["service", "readonly"])
def test_masking_for_service_and_readonly_roles(api_client: Any, role_code: str) -> None:
    sales = factories.user("sales")
    lead = crm_factories.lead(sales, mobile="13800138000", phone="010-12345678", email="ab@qq.com")
    api = api_client.login(factories.user(role_code))
    item = api.get("leads").json()["items"][0]
    detail = api.get(f"leads/{lead.pk}").json()
    for data in (item, detail):
        assert data["mobile"] == "138****8000"
        assert data["mobile_e164"] == "+86****8000"
        assert "12345678" not in data["phone"]
        assert data["email"] == "a***@qq.com"
    assert api.post("leads", {"name": "x"}).status_code == 403
    # The owner sees it unmasked.
    own = api_client.login(sales).get(f"leads/{lead.pk}").json()
    assert own["mobile"] == "13800138000"


def test_transfer_needs_scope_and_is_audited(api_client: Any) -> None:
    a, b = factories.user("sales"), factories.user("sales")
    mine = crm_factories.lead(a)
    theirs = crm_factories.lead(b)
    api = api_client.login(a)
    resp = api.post("leads/transfer", {"ids": [mine.pk, theirs.pk], "to_user_id": b.pk})
    assert resp.status_code == 404
    resp = api.post("leads/transfer", {"ids": [mine.pk], "to_user_id": b.pk})
    assert resp.json() == {"transferred": 1}
    mine.refresh_from_db()
    assert mine.owner_id == b.pk
    event = AuditEvent.objects.get(entity="lead", object_id=str(mine.pk), action="transfer")
    assert event.changes == {"owner": [a.pk, b.pk]}
    assert api.get(f"leads/{mine.pk}").status_code == 404


def test_user_owning_leads_cannot_be_deleted() -> None:
    from guanxi.core.errors import Conflict
    from guanxi.identity import services as identity

    sales = factories.user("sales")
    crm_factories.lead(sales)
    assert identity.user_owned_records(sales) == {"lead": 1}
    with pytest.raises(Conflict):
        identity.user_delete(actor=factories.admin(), user=sales)


@pytest.mark.parametrize("path", ["leads", "accounts", "contacts"])
def test_list_endpoints_use_at_most_five_queries(
    api_client: Any, django_assert_max_num_queries: Any, path: str
) -> None:
    manager = factories.user("manager")
    for _ in range(60):
        account = crm_factories.account(manager)
        crm_factories.lead(manager)
        crm_factories.contact(manager, account_id=account.pk)
    api = api_client.login(manager)
    api.get(path)  # token last-used update happens at most once a minute
    with django_assert_max_num_queries(5):
        resp = api.get(path, page=2, page_size=50)
    assert resp.status_code == 200
    assert len(resp.json()["items"]) == 10
    assert resp.json()["count"] == 60


def test_tag_filter_handles_chinese_tags(api_client: Any) -> None:
    sales = factories.user("sales")
    crm_factories.lead(sales, name="甲", tags=["重点客户", "vip"])
    crm_factories.lead(sales, name="乙", tags=["重点"])
    api = api_client.login(sales)
    assert [i["name"] for i in api.get("leads", tag="重点").json()["items"]] == ["乙"]
    assert [i["name"] for i in api.get("leads", tag="vip").json()["items"]] == ["甲"]


def test_likely_duplicates_suggest_same_name_or_pinyin_at_company() -> None:
    from guanxi.leads.dedup import likely_duplicates

    sales = factories.user("sales")
    a = crm_factories.lead(sales, name="张伟", company="阿里巴巴")
    b = crm_factories.lead(sales, name="章伟", company="阿里巴巴")
    crm_factories.lead(sales, name="张伟", company="腾讯")
    found = likely_duplicates(name="张伟", company="阿里巴巴", actor=sales)
    assert [(d.type, d.id, d.match) for d in found] == [
        ("lead", a.pk, "name"),
        ("lead", b.pk, "pinyin"),
    ]
    assert likely_duplicates(name="张伟", company="") == []


def test_duplicates_endpoint(api_client: Any) -> None:
    a, b = factories.user("sales"), factories.user("sales")
    lead = crm_factories.lead(a, name="张伟", company="阿里巴巴", email="zw@ali.com")
    other = crm_factories.lead(
        a, name="张伟", company="阿里巴巴", allow_duplicate=True, email="ZW@ali.com"
    )
    hidden = crm_factories.lead(b, name="章伟", company="阿里巴巴")
    body = api_client.login(a).get(f"leads/{lead.pk}/duplicates").json()
    assert body["exact"] == {"type": "lead", "id": other.pk, "match": "email", "visible": True}
    assert {"type": "lead", "id": None, "match": "pinyin", "visible": False} in body["likely"]
    assert hidden.pk not in [d["id"] for d in body["likely"]]
