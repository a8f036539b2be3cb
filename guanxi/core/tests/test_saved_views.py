"""Saved views (场景) and column choice: privacy and sharing, each viewer's own scope,
defaults, validation, masking in columns, and the list pages' pinned query counts."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from guanxi.core import saved_views
from guanxi.core.errors import NotPermitted, OutOfScope, ValidationFailed
from guanxi.core.models import AuditEvent, CustomField, SavedView
from guanxi.core.services import customfield_save
from guanxi.identity.models import User
from guanxi.tests_support import crm_factories, factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def dept() -> Any:
    return factories.department("销售一部")


@pytest.fixture
def sales(dept: Any) -> User:
    return factories.user("sales", department=dept, username="sales1")


@pytest.fixture
def colleague(dept: Any) -> User:
    return factories.user("sales", department=dept, username="sales2")


@pytest.fixture
def manager(dept: Any) -> User:
    return factories.user("manager", department=dept, username="boss1")


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_private_view_is_visible_to_its_owner_only(sales: User, colleague: User) -> None:
    view = saved_views.saved_view_create(
        actor=sales,
        entity="lead",
        data={"name": "甲组视图", "query": {"status": "new"}, "columns": ["status", "mobile"]},
    )
    assert [v.name for v in saved_views.list_context(actor=sales, entity="lead").views] == [
        "甲组视图"
    ]
    assert saved_views.list_context(actor=colleague, entity="lead").views == []
    with pytest.raises(OutOfScope):
        saved_views.saved_view_get_for_user(actor=colleague, pk=view.pk)
    assert AuditEvent.objects.filter(entity="saved_view", object_id=str(view.pk)).exists()
    # Opening someone else's private view by id shows the plain list, not its filters.
    body = _client(colleague).get(reverse("leads:list") + f"?sv={view.pk}").content.decode()
    assert "甲组视图" not in body


def test_only_admins_and_managers_may_share(sales: User, manager: User) -> None:
    with pytest.raises(NotPermitted):
        saved_views.saved_view_create(
            actor=sales, entity="lead", data={"name": "共享", "visibility": "everyone"}
        )
    assert not SavedView.objects.exists()
    view = saved_views.saved_view_create(
        actor=manager, entity="lead", data={"name": "团队新线索", "visibility": "everyone"}
    )
    assert view.visibility == "everyone"


def test_shared_view_shows_each_viewer_only_their_scope(
    sales: User, colleague: User, manager: User
) -> None:
    crm_factories.lead(sales, name="甲的线索", tags=["重点"])
    crm_factories.lead(colleague, name="乙的线索", tags=["重点"])
    crm_factories.lead(sales, name="甲的普通线索")
    view = saved_views.saved_view_create(
        actor=manager,
        entity="lead",
        data={"name": "重点线索", "query": {"tag": "重点"}, "visibility": "everyone"},
    )
    ctx = saved_views.list_context(actor=sales, entity="lead")
    assert [(v.name, v.mine) for v in ctx.views] == [("重点线索", False)]
    body = _client(sales).get(reverse("leads:list") + f"?sv={view.pk}").content.decode()
    assert "甲的线索" in body
    assert "乙的线索" not in body  # a colleague's lead stays out of scope
    assert "甲的普通线索" not in body  # the view's filter applies
    body = _client(manager).get(reverse("leads:list") + f"?sv={view.pk}").content.decode()
    assert "甲的线索" in body and "乙的线索" in body


def test_view_shared_with_roles(sales: User, manager: User) -> None:
    service = factories.user("service", username="kefu")
    service_role = factories.role("service")
    view = saved_views.saved_view_create(
        actor=manager,
        entity="lead",
        data={"name": "客服看", "visibility": "roles", "role_ids": [service_role.pk]},
    )
    assert [v.id for v in saved_views.list_context(actor=service, entity="lead").views] == [view.pk]
    assert saved_views.list_context(actor=sales, entity="lead").views == []
    with pytest.raises(ValidationFailed) as exc:
        saved_views.saved_view_create(
            actor=manager, entity="lead", data={"name": "无角色", "visibility": "roles"}
        )
    assert exc.value.errors[0].field == "role_ids"


def test_rename_and_delete_own_views_only(sales: User, manager: User) -> None:
    shared = saved_views.saved_view_create(
        actor=manager, entity="lead", data={"name": "经理的", "visibility": "everyone"}
    )
    with pytest.raises(NotPermitted):
        saved_views.saved_view_update(actor=sales, view=shared, data={"name": "改名"})
    with pytest.raises(NotPermitted):
        saved_views.saved_view_delete(actor=sales, view=shared)
    own = saved_views.saved_view_create(actor=sales, entity="lead", data={"name": "我的"})
    client = _client(sales)
    response = client.post(reverse("web:view_update", args=[own.pk]), {"name": "我的新线索"})
    assert response.status_code == 302
    own.refresh_from_db()
    assert own.name == "我的新线索"
    assert client.post(reverse("web:view_delete", args=[shared.pk])).status_code == 403
    assert client.post(reverse("web:view_delete", args=[own.pk])).status_code == 302
    assert not SavedView.objects.filter(pk=own.pk).exists()
    assert SavedView.objects.filter(pk=shared.pk).exists()


def test_validation_names_the_field(sales: User) -> None:
    saved_views.saved_view_create(actor=sales, entity="lead", data={"name": "A"})
    cases: list[tuple[dict[str, Any], str]] = [
        ({"name": "A"}, "name"),
        ({"name": ""}, "name"),
        ({"name": "B", "columns": ["nope"]}, "columns"),
        ({"name": "B", "query": {"drop_table": "1"}}, "query"),
        ({"name": "B", "visibility": "world"}, "visibility"),
    ]
    for data, field in cases:
        with pytest.raises(ValidationFailed) as exc:
            saved_views.saved_view_create(actor=sales, entity="lead", data=data)
        assert exc.value.errors[0].field == field, data


def test_default_view_opens_on_a_bare_url(sales: User) -> None:
    crm_factories.lead(sales, name="红队线索", status="new")
    crm_factories.lead(sales, name="蓝队线索", status="contacted")
    client = _client(sales)
    response = client.post(
        reverse("web:view_create", args=["lead"]),
        {"name": "只看新", "query": "status=new&page=3", "make_default": "1"},
    )
    view = SavedView.objects.get(name="只看新")
    assert view.query == {"status": "new"}  # paging is never saved
    assert response["Location"] == reverse("leads:list") + f"?sv={view.pk}"
    body = client.get(reverse("leads:list")).content.decode()
    assert "红队线索" in body and "蓝队线索" not in body
    body = client.get(reverse("leads:list") + "?view=").content.decode()
    assert "蓝队线索" in body  # the "All" tab still reaches the plain list
    client.post(reverse("web:view_default", args=["lead"]), {"default_view_id": ""})
    assert "蓝队线索" in client.get(reverse("leads:list")).content.decode()


def test_columns_are_remembered_and_masked_values_stay_masked(sales: User) -> None:
    admin = factories.admin()
    customfield_save(
        actor=admin,
        field=None,
        data={
            "entity": "lead",
            "key": "budget",
            "label_zh": "预算",
            "kind": CustomField.Kind.SELECT,
            "options": [{"value": "big", "label_zh": "大单"}],
        },
    )
    crm_factories.lead(sales, name="张三", mobile="13812345678", custom={"budget": "big"})
    client = _client(sales)
    response = client.post(
        reverse("web:columns", args=["lead"]),
        {"columns": ["custom.budget", "mobile", "status"], "next": reverse("leads:list")},
    )
    assert response.status_code == 302
    page = client.get(reverse("leads:list"))
    assert [c.key for c in page.context["columns"]] == ["custom.budget", "mobile", "status"]
    body = page.content.decode()
    assert "大单" in body and "13812345678" in body
    # Read-only staff see phones masked, in every column.
    viewer = factories.user("readonly", username="viewer")
    _client(viewer).post(reverse("web:columns", args=["lead"]), {"columns": ["mobile", "phone"]})
    body = _client(viewer).get(reverse("leads:list")).content.decode()
    assert "13812345678" not in body and "138****5678" in body
    response = client.post(reverse("web:columns", args=["lead"]), {"columns": ["bogus"]})
    assert response.status_code == 302  # flashed error, nothing saved
    assert next(c.key for c in client.get(reverse("leads:list")).context["columns"]) == (
        "custom.budget"
    )


def test_saved_view_columns_apply_when_opened(sales: User) -> None:
    view = saved_views.saved_view_create(
        actor=sales, entity="account", data={"name": "按城市", "columns": ["city", "tier"]}
    )
    crm_factories.account(sales, name="天空公司", city="杭州")
    page = _client(sales).get(reverse("customers:account_list") + f"?sv={view.pk}")
    assert [c.key for c in page.context["columns"]] == ["city", "tier"]
    assert "杭州" in page.content.decode()


def test_list_pages_keep_their_pinned_query_counts(
    sales: User, manager: User, django_assert_max_num_queries: Any
) -> None:
    for i in range(60):
        crm_factories.lead(sales, tags=["重点"] if i % 2 else [])
    saved_views.saved_view_create(
        actor=manager,
        entity="lead",
        data={
            "name": "共享重点",
            "query": {"tag": "重点"},
            "columns": ["tags", "owner", "source", "mobile"],
            "visibility": "everyone",
        },
    )
    view = saved_views.saved_view_create(
        actor=sales,
        entity="lead",
        data={"name": "我的重点", "query": {"tag": "重点", "sort": "-score"}},
    )
    saved_views.list_preference_save(
        actor=sales, entity="lead", columns=["owner", "source", "status", "tags"]
    )
    client = _client(sales)
    client.get(reverse("leads:list"))  # warm caches (session, grants, views)
    with django_assert_max_num_queries(6):  # session, user, grants, sources, page, bell
        response = client.get(reverse("leads:list") + f"?sv={view.pk}")
    assert response.status_code == 200
    assert len(response.context["rows"]) == 30


def test_views_api(api_client: Any, sales: User, colleague: User, manager: User) -> None:
    client = api_client.login(sales)
    response = client.post(
        "views",
        {"entity": "lead", "name": "API 视图", "query": {"status": "new"}, "columns": ["status"]},
    )
    assert response.status_code == 201, response.content
    view_id = response.json()["id"]
    listed = client.get("views", entity="lead").json()
    assert [v["name"] for v in listed] == ["API 视图"]
    response = client.post("views", {"entity": "lead", "name": "x", "visibility": "everyone"})
    assert response.status_code == 403
    response = client.post("views", {"entity": "lead", "name": "y", "columns": ["nope"]})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "columns"
    assert client.patch(f"views/{view_id}", {"name": "改名"}).json()["name"] == "改名"
    other = api_client.__class__().login(colleague)
    assert other.get(f"views/{view_id}").status_code == 404
    assert other.get("views", entity="lead").json() == []
    response = client.put("list-preferences/lead", {"columns": ["mobile", "status"]})
    assert response.json()["columns"] == ["mobile", "status"]
    columns = client.get("lists/lead/columns").json()
    assert next(c for c in columns if c["key"] == "status")["default"] is True
    assert next(c for c in columns if c["key"] == "title")["default"] is False
    assert client.delete(f"views/{view_id}").status_code == 204


def test_list_api_applies_a_saved_view_within_scope(
    api_client: Any, sales: User, colleague: User, manager: User
) -> None:
    crm_factories.lead(sales, name="甲沪", city="上海")
    crm_factories.lead(sales, name="甲京", city="北京")
    crm_factories.lead(colleague, name="乙沪", city="上海")
    shared = saved_views.saved_view_create(
        actor=manager,
        entity="lead",
        data={"name": "上海", "query": {"city": "上海", "sort": "name"}, "visibility": "everyone"},
    )
    private = saved_views.saved_view_create(
        actor=manager, entity="lead", data={"name": "私有", "query": {"city": "北京"}}
    )
    client = api_client.login(sales)
    names = [i["name"] for i in client.get("leads", saved_view=shared.pk).json()["items"]]
    assert names == ["甲沪"]  # the view's filter, the caller's own scope
    names = [
        i["name"] for i in client.get("leads", saved_view=shared.pk, city="北京").json()["items"]
    ]
    assert names == ["甲京"]  # parameters given win over the view's
    assert client.get("leads", saved_view=private.pk).status_code == 404
    boss = api_client.__class__().login(manager)
    names = [i["name"] for i in boss.get("leads", saved_view=shared.pk).json()["items"]]
    assert sorted(names) == ["乙沪", "甲沪"]
    assert boss.get("accounts", saved_view=shared.pk).status_code == 422
