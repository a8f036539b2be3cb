"""The JSON API contract (DESIGN §3): auth, list shape, errors, scope, permissions."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from guanxi.core.models import AuditEvent, CustomField
from guanxi.identity import services
from guanxi.identity.models import ApiToken, Department, User
from guanxi.tests_support import factories
from guanxi.tests_support import org as org_support
from guanxi.tests_support.api import ApiClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def org() -> org_support.Org:
    return org_support.build()


def _as(user: User) -> ApiClient:
    return ApiClient().login(user)


# --- authentication -------------------------------------------------------------------


def test_me_returns_the_caller(org):
    r = _as(org.peer).get("me")
    assert r.status_code == 200, r.content
    assert r.json() == {
        "id": org.peer.pk,
        "username": "peer",
        "display_name": org.peer.display_name,
        "department": {"id": org.sales_dept.pk, "name": "销售部"},
        "roles": ["sales"],
    }


def test_bad_token_is_401(org):
    client = ApiClient()
    client.headers = {"Authorization": "Bearer gx_not-a-real-token"}
    r = client.get("me")
    assert r.status_code == 401
    assert r.json()["detail"]
    assert r["WWW-Authenticate"] == "Bearer"


def test_revoked_token_is_401(org):
    client = _as(org.peer)
    assert client.get("me").status_code == 200
    token = ApiToken.objects.get(user=org.peer)
    services.token_revoke(actor=org.peer, token=token)
    assert client.get("me").status_code == 401


def test_token_of_inactive_user_is_401(org):
    client = _as(org.peer)
    User.objects.filter(pk=org.peer.pk).update(is_active=False)
    assert client.get("me").status_code == 401


def test_token_last_used_at_is_updated(org):
    client = _as(org.peer)
    token = ApiToken.objects.get(user=org.peer)
    assert token.last_used_at is None
    assert client.get("me").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert timezone.now() - token.last_used_at < dt.timedelta(seconds=30)


def test_session_auth_works_for_the_browser_with_csrf(org):
    # given a logged-in browser that enforces CSRF
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(org.admin)
    # then reads work
    r = browser.get("/api/v1/me")
    assert r.status_code == 200
    assert r.json()["username"] == "admin"
    # and a write without the CSRF token is refused and changes nothing
    before = Department.objects.count()
    r = browser.post(
        "/api/v1/departments", data={"name": "市场部"}, content_type="application/json"
    )
    assert r.status_code == 403
    assert Department.objects.count() == before
    # and a write with it succeeds
    secret = "a" * 32
    browser.cookies["csrftoken"] = secret
    r = browser.post(
        "/api/v1/departments",
        data={"name": "市场部"},
        content_type="application/json",
        headers={"X-CSRFToken": secret},
    )
    assert r.status_code == 201, r.content
    assert Department.objects.filter(name="市场部").exists()


def test_no_session_and_no_token_is_401():
    assert Client().get("/api/v1/users").status_code == 401


def test_openapi_and_docs_are_served():
    r = Client().get("/api/v1/openapi.json")
    assert r.status_code == 200
    schema = r.json()
    assert "/api/v1/me" in schema["paths"]
    assert "/api/v1/notes" in schema["paths"]
    assert Client().get("/api/v1/docs").status_code == 200


# --- users ----------------------------------------------------------------------------


def test_users_list_shape(org):
    r = _as(org.admin).get("users")
    assert r.status_code == 200, r.content
    body = r.json()
    assert set(body) == {"items", "count", "count_exact", "page", "page_size"}
    assert body["count"] == User.objects.count()
    assert body["count_exact"] is True
    assert (body["page"], body["page_size"]) == (1, 50)
    item = body["items"][0]
    assert {"id", "username", "display_name", "email", "mobile", "department", "roles"} <= set(item)


def test_users_page_size_over_200_is_422(org):
    r = _as(org.admin).get("users", page_size=201)
    assert r.status_code == 422
    body = r.json()
    assert body["detail"]
    assert body["errors"] == [{"field": "page_size", "message": body["errors"][0]["message"]}]


def test_users_page_zero_is_422(org):
    r = _as(org.admin).get("users", page=0)
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["page"]


def test_users_pagination(org):
    r = _as(org.admin).get("users", page=2, page_size=2)
    body = r.json()
    assert body["count"] == User.objects.count()
    assert len(body["items"]) == 2
    assert (body["page"], body["page_size"]) == (2, 2)


def test_sales_sees_only_department_users_with_mobile_masked(org):
    r = _as(org.peer).get("users")
    assert r.status_code == 200
    body = r.json()
    assert {u["username"] for u in body["items"]} == {"actor", "peer"}
    assert body["count"] == 2
    for item in body["items"]:
        assert "****" in item["mobile"]
        assert "@" in item["email"] and "***" not in item["email"]


def test_admin_sees_mobile_unmasked(org):
    r = _as(org.admin).get(f"users/{org.peer.pk}")
    assert r.json()["mobile"] == org.peer.mobile


def test_user_detail_in_scope_is_masked(org):
    r = _as(org.peer).get(f"users/{org.actor.pk}")
    assert r.status_code == 200
    assert r.json()["mobile"] == org.actor.mobile[:3] + "****" + org.actor.mobile[-4:]


def test_user_detail_outside_scope_is_404(org):
    client = _as(org.peer)
    assert client.get(f"users/{org.service.pk}").status_code == 404
    assert client.get(f"users/{org.east.pk}").status_code == 404
    assert client.get("users/999999").status_code == 404


def test_create_user_by_sales_is_403_and_changes_nothing(org):
    client = _as(org.peer)
    before_users, before_events = User.objects.count(), AuditEvent.objects.count()
    r = client.post("users", {"username": "newbie", "password": "Zx9-long-pass"})
    assert r.status_code == 403
    assert r.json()["detail"]
    assert User.objects.count() == before_users
    assert AuditEvent.objects.count() == before_events
    assert not User.objects.filter(username="newbie").exists()


def test_create_user_by_admin_is_201_with_audit_event(org):
    r = _as(org.admin).post(
        "users",
        {
            "username": "newbie",
            "password": "Zx9-long-pass",
            "display_name": "新人",
            "email": "Newbie@Example.com",
            "department_id": org.east_dept.pk,
            "roles": ["sales"],
        },
    )
    assert r.status_code == 201, r.content
    body = r.json()
    user = User.objects.get(username="newbie")
    assert body["id"] == user.pk
    assert body["email"] == "newbie@example.com"
    assert body["department"] == {"id": org.east_dept.pk, "name": "华东区"}
    assert body["roles"] == ["sales"]
    event = AuditEvent.objects.get(action="create", entity="user", object_id=str(user.pk))
    assert event.actor_id == org.admin.pk
    assert event.changes["username"] == [None, "newbie"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"username": "bad name!"}, "username"),
        ({"username": "ok", "email": "nope"}, "email"),
        ({"username": "ok", "roles": ["wizard"]}, "roles"),
        ({"username": "ok", "department_id": 999999}, "department_id"),
        ({"username": "ok", "password": "123"}, "password"),
        ({"username": "ok", "time_zone": "Mars/Base"}, "time_zone"),
        ({}, "username"),
        ({"username": ["list"]}, "username"),
    ],
)
def test_create_user_validation_error_names_the_field(org, payload, field):
    before = User.objects.count()
    r = _as(org.admin).post("users", payload)
    assert r.status_code == 422, r.content
    body = r.json()
    assert body["detail"]
    assert field in [e["field"] for e in body["errors"]]
    assert all(set(e) == {"field", "message"} for e in body["errors"])
    assert User.objects.count() == before


def test_create_user_with_taken_username_is_422(org):
    r = _as(org.admin).post("users", {"username": "PEER"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "username"


def test_patch_own_profile_and_not_own_roles(org):
    client = _as(org.peer)
    r = client.patch(f"users/{org.peer.pk}", {"display_name": "小王"})
    assert r.status_code == 200, r.content
    assert r.json()["display_name"] == "小王"
    r = client.patch(f"users/{org.peer.pk}", {"roles": ["admin"]})
    assert r.status_code == 403
    assert list(User.objects.get(pk=org.peer.pk).roles.values_list("code", flat=True)) == ["sales"]


def test_patch_colleague_by_sales_is_403_and_changes_nothing(org):
    r = _as(org.peer).patch(f"users/{org.actor.pk}", {"display_name": "x"})
    assert r.status_code == 403
    assert User.objects.get(pk=org.actor.pk).display_name != "x"


def test_patch_moves_a_user_and_changes_what_they_see(org):
    admin = _as(org.admin)
    mover = _as(org.peer)
    assert {u["username"] for u in mover.get("users").json()["items"]} == {"actor", "peer"}
    r = admin.patch(f"users/{org.peer.pk}", {"department_id": org.service_dept.pk})
    assert r.status_code == 200, r.content
    assert r.json()["department"] == {"id": org.service_dept.pk, "name": "客服部"}
    assert {u["username"] for u in mover.get("users").json()["items"]} == {"peer", "service"}
    event = AuditEvent.objects.filter(entity="user", object_id=str(org.peer.pk)).first()
    assert event is not None
    assert event.changes["department"] == [org.sales_dept.pk, org.service_dept.pk]


def test_patch_department_to_null_is_422(org):
    r = _as(org.admin).patch(f"users/{org.peer.pk}", {"department_id": None})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "department_id"
    assert User.objects.get(pk=org.peer.pk).department_id == org.sales_dept.pk


# --- custom fields --------------------------------------------------------------------


def test_custom_field_create_by_admin(org):
    r = _as(org.admin).post(
        "custom-fields",
        {
            "entity": "note",
            "key": "region",
            "label_zh": "区域",
            "kind": "select",
            "options": [{"value": "east", "label_zh": "华东"}, {"value": "north"}],
        },
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["entity"], body["key"], body["kind"]) == ("note", "region", "select")
    assert body["options"][1] == {"value": "north", "label_zh": "north", "label_en": ""}
    field = CustomField.objects.get(entity="note", key="region")
    assert AuditEvent.objects.filter(
        entity="custom_field", action="create", object_id=str(field.pk)
    ).exists()
    listed = _as(org.peer).get("custom-fields", entity="note").json()
    assert [f["key"] for f in listed] == ["region"]


def test_custom_field_create_by_sales_is_403(org):
    r = _as(org.peer).post("custom-fields", {"entity": "note", "key": "region", "label_zh": "区域"})
    assert r.status_code == 403
    assert not CustomField.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"entity": "spaceship", "key": "a", "label_zh": "甲"}, "entity"),
        ({"entity": "note", "key": "Bad Key", "label_zh": "甲"}, "key"),
        ({"entity": "note", "key": "a", "label_zh": ""}, "label_zh"),
        ({"entity": "note", "key": "a", "label_zh": "甲", "kind": "colour"}, "kind"),
        ({"entity": "note", "key": "a", "label_zh": "甲", "kind": "select"}, "options"),
    ],
)
def test_custom_field_validation(org, payload, field):
    r = _as(org.admin).post("custom-fields", payload)
    assert r.status_code == 422
    assert field in [e["field"] for e in r.json()["errors"]]
    assert not CustomField.objects.exists()


def test_custom_field_duplicate_key_is_422(org):
    client = _as(org.admin)
    payload = {"entity": "note", "key": "region", "label_zh": "区域"}
    assert client.post("custom-fields", payload).status_code == 201
    r = client.post("custom-fields", payload)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "key"


def test_custom_field_delete_deactivates(org):
    client = _as(org.admin)
    field_id = client.post(
        "custom-fields", {"entity": "note", "key": "region", "label_zh": "区域"}
    ).json()["id"]
    assert _as(org.peer).delete(f"custom-fields/{field_id}").status_code == 403
    assert CustomField.objects.get(pk=field_id).active
    assert client.delete(f"custom-fields/{field_id}").status_code == 204
    assert not CustomField.objects.get(pk=field_id).active


# --- departments ----------------------------------------------------------------------


def test_department_create_and_delete(org):
    client = _as(org.admin)
    r = client.post("departments", {"name": "华南区", "parent_id": org.sales_dept.pk})
    assert r.status_code == 201, r.content
    body = r.json()
    dept = Department.objects.get(pk=body["id"])
    assert body["parent_id"] == org.sales_dept.pk
    assert body["path"] == f"{org.sales_dept.path}{dept.pk}/"
    assert client.delete(f"departments/{dept.pk}").status_code == 204
    assert not Department.objects.filter(pk=dept.pk).exists()
    assert AuditEvent.objects.filter(
        entity="department", action="delete", object_id=str(dept.pk)
    ).exists()


def test_department_create_without_parent_goes_under_root(org):
    r = _as(org.admin).post("departments", {"name": "市场部"})
    assert r.status_code == 201
    assert r.json()["parent_id"] == org.root.pk


def test_department_duplicate_name_is_422(org):
    r = _as(org.admin).post("departments", {"name": "销售部"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "name"


def test_department_delete_non_empty_is_409_and_keeps_it(org):
    client = _as(org.admin)
    # 销售部 has a sub-department and members; 客服部 has members
    for dept in (org.sales_dept, org.service_dept, org.root):
        r = client.delete(f"departments/{dept.pk}")
        assert r.status_code == 409, dept
        assert r.json()["detail"]
        assert Department.objects.filter(pk=dept.pk).exists()


def test_department_delete_missing_is_404(org):
    assert _as(org.admin).delete("departments/999999").status_code == 404


def test_department_write_by_sales_is_403(org):
    client = _as(org.peer)
    before = Department.objects.count()
    assert client.post("departments", {"name": "市场部"}).status_code == 403
    empty = factories.department("空部门")
    assert client.delete(f"departments/{empty.pk}").status_code == 403
    assert Department.objects.count() == before + 1


def test_departments_list_has_member_counts(org):
    r = _as(org.peer).get("departments")
    counts = {d["name"]: d["member_count"] for d in r.json()}
    assert counts["销售部"] == 2
    assert counts["华东区"] == 1


# --- audit trail ----------------------------------------------------------------------


def test_audit_events_for_admin(org):
    r = _as(org.admin).get("audit-events", entity="department")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"items", "count", "count_exact", "page", "page_size"}
    assert body["count"] == AuditEvent.objects.filter(entity="department").count() > 0
    assert {"id", "created_at", "actor", "action", "entity", "changes"} <= set(body["items"][0])


def test_audit_events_for_sales_is_403(org):
    r = _as(org.peer).get("audit-events")
    assert r.status_code == 403


# --- roles and tokens -----------------------------------------------------------------


def test_role_create_by_admin_and_refused_for_sales(org):
    payload = {
        "code": "auditor",
        "name_zh": "审计",
        "grants": {"user": {"actions": ["view"], "scope": "all", "masked_fields": ["mobile"]}},
    }
    assert _as(org.peer).post("roles", payload).status_code == 403
    r = _as(org.admin).post("roles", payload)
    assert r.status_code == 201, r.content
    assert r.json()["grants"]["user"] == {
        "actions": ["view"],
        "scope": "all",
        "masked_fields": ["mobile"],
        "can_reveal": False,
    }


def test_role_with_unknown_scope_is_422(org):
    r = _as(org.admin).post(
        "roles", {"code": "x", "name_zh": "x", "grants": {"user": {"scope": "galaxy"}}}
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "grants.user.scope"


def test_token_create_list_and_revoke(org):
    client = _as(org.peer)
    r = client.post("tokens", {"name": "脚本"})
    assert r.status_code == 201
    raw = r.json()["token"]
    assert raw.startswith("gx_")
    second = ApiClient()
    second.headers = {"Authorization": f"Bearer {raw}"}
    assert second.get("me").status_code == 200
    assert {t["name"] for t in client.get("tokens").json()} == {"tests", "脚本"}
    assert client.delete(f"tokens/{r.json()['id']}").status_code == 204
    assert second.get("me").status_code == 401
    # someone else's token is not found
    other = _as(org.actor)
    other_id = ApiToken.objects.get(user=org.actor).pk
    assert client.delete(f"tokens/{other_id}").status_code == 404
    assert other.get("me").status_code == 200


# --- query counts ---------------------------------------------------------------------


def test_users_list_query_count_is_bounded(org, django_assert_max_num_queries):
    # given more users than fit on a page (so the list also has to count)
    for i in range(30):
        factories.user("sales", department=org.sales_dept, username=f"bulk{i}")
    client = _as(org.peer)
    # the first call of a token in a minute also stamps last_used_at: one UPDATE more
    with django_assert_max_num_queries(6):
        assert client.get("users", page_size=10).status_code == 200
    # then: token, grants, page, roles of the page, bounded count
    with django_assert_max_num_queries(5):
        r = client.get("users", page_size=10)
    assert r.status_code == 200
    assert r.json()["count"] == 32
    admin = _as(org.admin)
    admin.get("me")
    with django_assert_max_num_queries(5):
        assert admin.get("users", page_size=10).status_code == 200
