"""Global search: every matching mode, scope, masking, the API, the page and query counts."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from guanxi.core import permissions
from guanxi.identity.models import User
from guanxi.search import selectors
from guanxi.tests_support import crm_factories, factories, org

pytestmark = pytest.mark.django_db


def ids(result: dict[str, Any], entity_type: str) -> set[int]:
    for group in result["groups"]:
        if group["type"] == entity_type:
            return {item["id"] for item in group["items"]}
    raise AssertionError(f"no {entity_type} group")


def fresh(user: User) -> User:
    permissions.forget(user)
    return User.objects.select_related("department").get(pk=user.pk)


@pytest.fixture
def world() -> dict[str, Any]:
    o = org.build()
    lead = crm_factories.lead(
        o.admin,
        name="张伟",
        company="上海星辰科技有限公司",
        mobile="+86 138-0013-8000",
        email="Zhang.Wei@Example.COM",
        owner_id=o.peer.pk,
    )
    other = crm_factories.lead(o.admin, name="李娜", company="北京远航", owner_id=o.peer.pk)
    account = crm_factories.account(o.admin, name="张伟贸易有限公司", owner_id=o.peer.pk)
    contact = crm_factories.contact(
        o.admin, name="张伟", mobile="13900139000", email="zw@corp.cn", owner_id=o.peer.pk
    )
    hidden = crm_factories.lead(
        o.admin, name="张伟", company="隐藏公司", mobile="13700137001", owner_id=o.boss.pk
    )
    return {
        "org": o,
        "lead": lead,
        "other": other,
        "account": account,
        "contact": contact,
        "hidden": hidden,
    }


@pytest.mark.parametrize(
    "q",
    [
        "张伟",
        "张",
        "zhangwei",
        "ZhangWei",
        "zhang",
        "zw",
        "ZW",
        "13800138000",
        "+86 138-0013-8000",
        "138 0013 8000",
        "8000",
        "138000",
        "zhang.wei@example.com",
        "ZHANG.WEI@",
        "上海星辰",
    ],
)
def test_each_mode_finds_the_lead(world: dict[str, Any], q: str) -> None:
    admin = fresh(world["org"].admin)
    result = selectors.search_global(admin, q)
    assert world["lead"].pk in ids(result, "lead"), (q, result["kind"])
    assert world["other"].pk not in ids(result, "lead")


def test_modes_are_classified(world: dict[str, Any]) -> None:
    assert selectors.plan("张伟").kind == "text"
    assert selectors.plan("zw").kind == "text"
    assert selectors.plan("+86 138-0013-8000").kind == "phone"
    assert selectors.plan("8000").kind == "tail"
    assert selectors.plan("a@b").kind == "email"
    assert selectors.plan("  ").kind == "empty"


def test_accounts_and_contacts(world: dict[str, Any]) -> None:
    admin = fresh(world["org"].admin)
    result = selectors.search_global(admin, "张伟")
    assert ids(result, "account") == {world["account"].pk}
    assert ids(result, "contact") == {world["contact"].pk}
    assert ids(selectors.search_global(admin, "zwmy"), "account") == {world["account"].pk}
    assert ids(selectors.search_global(admin, "9000"), "contact") == {world["contact"].pk}
    assert ids(selectors.search_global(admin, "ZW@corp"), "contact") == {world["contact"].pk}
    assert ids(selectors.search_global(admin, "+86 139 0013 9000"), "contact") == {
        world["contact"].pk
    }


def test_short_or_unknown_tail_finds_nothing(world: dict[str, Any]) -> None:
    admin = fresh(world["org"].admin)
    assert ids(selectors.search_global(admin, "1234"), "lead") == set()
    assert ids(selectors.search_global(admin, "王"), "lead") == set()
    assert selectors.search_global(admin, "")["groups"][0]["items"] == []


@pytest.mark.parametrize("q", ["张伟", "zhangwei", "zw", "13700137001", "7001", "隐藏"])
def test_salesperson_never_finds_out_of_scope_lead(world: dict[str, Any], q: str) -> None:
    o = world["org"]
    peer = fresh(o.peer)  # built-in sales role: own scope
    found = ids(selectors.search_global(peer, q), "lead")
    assert world["hidden"].pk not in found
    boss = fresh(o.boss)
    assert world["hidden"].pk in ids(selectors.search_global(boss, q), "lead")


def test_salesperson_sees_only_own_records(world: dict[str, Any]) -> None:
    o = world["org"]
    east = fresh(o.east)
    result = selectors.search_global(east, "张伟")
    assert all(not group["items"] for group in result["groups"])


def test_service_role_sees_masked_contact_points(world: dict[str, Any]) -> None:
    service = fresh(world["org"].service)
    result = selectors.search_global(service, "8000")
    (item,) = [i for g in result["groups"] if g["type"] == "lead" for i in g["items"]]
    assert item["mobile"].endswith("****8000")
    assert "0013" not in item["mobile"]
    assert "0013" not in str(item["mobile_e164"])
    assert item["email"].startswith("Z***@")
    contact = selectors.search_global(service, "zw@corp.cn")["groups"][2]["items"][0]
    assert contact["email"] == "z***@corp.cn"
    assert "13900139000" not in str(contact)


def test_no_view_grant_means_no_group(world: dict[str, Any]) -> None:
    o = world["org"]
    role = org.role(o.admin, {"lead": {"actions": ["view"], "scope": "all"}})
    actor = o.give(o.actor, role)
    result = selectors.search_global(actor, "张伟")
    assert [g["type"] for g in result["groups"]] == ["lead"]


def test_limit_and_more(world: dict[str, Any]) -> None:
    o = world["org"]
    for n in range(4):
        crm_factories.lead(o.admin, name=f"张伟{n}", owner_id=o.peer.pk, allow_duplicate=True)
    peer = fresh(o.peer)
    group = selectors.search_global(peer, "张伟", limit_per_type=3)["groups"][0]
    assert len(group["items"]) == 3
    assert group["more"] is True
    group = selectors.search_global(peer, "张伟", limit_per_type=10)["groups"][0]
    assert len(group["items"]) == 5
    assert group["more"] is False


@pytest.mark.parametrize(
    ("q", "expected"), [("张伟", 5), ("zw", 8), ("8000", 5), ("13800138000", 3)]
)
def test_query_count_is_pinned(world: dict[str, Any], q: str, expected: int) -> None:
    """Grants (1) + one query per branch tried: name (and company for leads) for Chinese,
    pinyin + initials + name (+ company) for Latin, two tail columns, one exact phone (the
    accounts' customer scores are joined, not fetched per account)."""
    peer = fresh(world["org"].peer)
    with CaptureQueriesContext(connection) as ctx:
        selectors.search_global(peer, q)
    assert len(ctx.captured_queries) == expected, [c["sql"] for c in ctx.captured_queries]


def test_api(world: dict[str, Any], api_client: Any) -> None:
    o = world["org"]
    body = api_client.login(o.peer).get("search", q="zhangwei").json()
    assert body["q"] == "zhangwei"
    assert [g["type"] for g in body["groups"]] == ["lead", "account", "contact"]
    assert {i["id"] for i in body["groups"][0]["items"]} == {world["lead"].pk}
    assert body["groups"][0]["more"] is False
    service = api_client.login(o.service).get("search", q="13800138000").json()
    masked = service["groups"][0]["items"][0]
    assert masked["mobile"].endswith("****8000")
    assert "0013" not in masked["mobile"] + masked["mobile_e164"]


def test_api_needs_auth() -> None:
    assert Client().get("/api/v1/search", {"q": "x"}).status_code == 401


def test_page(world: dict[str, Any]) -> None:
    client = Client()
    client.force_login(world["org"].peer)
    response = client.get("/search/", {"q": "张伟"})
    assert response.status_code == 200
    html = response.content.decode()
    assert f"/leads/{world['lead'].pk}/" in html
    assert f"/contacts/{world['contact'].pk}/" in html
    assert "隐藏公司" not in html
    assert client.get("/search/").status_code == 200


def test_page_requires_login() -> None:
    assert Client().get("/search/", {"q": "x"}).status_code == 302


def test_unprivileged_user_gets_no_groups() -> None:
    user = factories.UserFactory(username="nobody")
    assert selectors.search_global(fresh(user), "张伟")["groups"] == []
