from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from guanxi.core.models import AuditEvent, CustomField
from guanxi.identity.models import ApiToken, Department, Role, User
from guanxi.tests_support import factories

pytestmark = pytest.mark.django_db

ADMIN_PAGES = [
    ("identity:departments", {}),
    ("identity:user_create", {}),
    ("identity:roles", {}),
    ("identity:role_create", {}),
    ("identity:audit", {}),
    ("identity:custom_fields", {}),
    ("identity:custom_field_create", {}),
]
EVERYONE_PAGES = [
    ("web:home", {}),
    ("identity:profile", {}),
    ("identity:tokens", {}),
    ("identity:users", {}),
]


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(("name", "kwargs"), ADMIN_PAGES + EVERYONE_PAGES)
def test_admin_opens_every_page(name: str, kwargs: dict[str, Any]) -> None:
    response = _client(factories.admin()).get(reverse(name, kwargs=kwargs))
    assert response.status_code == 200, response.content[:500]


def test_admin_opens_record_pages() -> None:
    admin = factories.admin()
    client = _client(admin)
    other = factories.user("sales")
    role = Role.objects.get(code="sales")
    assert client.get(reverse("identity:user_edit", args=[other.pk])).status_code == 200
    assert client.get(reverse("identity:role_edit", args=[role.pk])).status_code == 200


@pytest.mark.parametrize(("name", "kwargs"), ADMIN_PAGES)
def test_sales_is_refused_admin_pages(name: str, kwargs: dict[str, Any]) -> None:
    response = _client(factories.user("sales")).get(reverse(name, kwargs=kwargs))
    assert response.status_code == 403
    assert "没有权限".encode() in response.content or b"permission" in response.content


def test_sales_is_refused_user_edit() -> None:
    other = factories.user("sales")
    response = _client(factories.user("sales")).get(reverse("identity:user_edit", args=[other.pk]))
    assert response.status_code == 403


@pytest.mark.parametrize(("name", "kwargs"), EVERYONE_PAGES)
def test_sales_opens_own_pages(name: str, kwargs: dict[str, Any]) -> None:
    response = _client(factories.user("sales")).get(reverse(name, kwargs=kwargs))
    assert response.status_code == 200


def test_anonymous_is_sent_to_login() -> None:
    response = Client().get(reverse("identity:profile"))
    assert response.status_code == 302
    assert reverse("identity:login") in response["Location"]


def test_create_department_is_audited() -> None:
    client = _client(factories.admin())
    response = client.post(reverse("identity:departments"), {"name": "华南区"})
    assert response.status_code == 302
    dept = Department.objects.get(name="华南区")
    assert AuditEvent.objects.filter(
        entity="department", action="create", object_id=str(dept.pk)
    ).exists()


def test_department_errors_are_shown() -> None:
    client = _client(factories.admin())
    factories.department("华东区")
    response = client.post(reverse("identity:departments"), {"name": "华东区"})
    assert response.status_code == 400
    assert "已存在".encode() in response.content


def test_delete_department_with_members_is_refused() -> None:
    client = _client(factories.admin())
    dept = factories.department("华东区")
    factories.user("sales", department=dept)
    response = client.post(reverse("identity:department_delete", args=[dept.pk]), follow=True)
    assert Department.objects.filter(pk=dept.pk).exists()
    assert "成员".encode() in response.content


def test_rename_and_move_department() -> None:
    client = _client(factories.admin())
    east = factories.department("华东区")
    north = factories.department("华北区")
    client.post(
        reverse("identity:department_edit", args=[east.pk]),
        {"name": "华东大区", "parent": north.pk},
    )
    east.refresh_from_db()
    assert east.name == "华东大区"
    assert east.parent_id == north.pk


def test_create_user_is_audited() -> None:
    client = _client(factories.admin())
    dept = factories.department("华东区")
    sales = Role.objects.get(code="sales")
    response = client.post(
        reverse("identity:user_create"),
        {
            "username": "zhangwei",
            "display_name": "张伟",
            "email": "zw@example.com",
            "mobile": "13800138000",
            "password": "Lotus-blossom-88",
            "department": dept.pk,
            "roles": [sales.pk],
        },
    )
    assert response.status_code == 302, response.content[:2000]
    user = User.objects.get(username="zhangwei")
    assert user.department == dept
    assert list(user.roles.values_list("code", flat=True)) == ["sales"]
    assert AuditEvent.objects.filter(
        entity="user", action="create", object_id=str(user.pk)
    ).exists()


def test_user_create_shows_service_error_next_to_field() -> None:
    client = _client(factories.admin())
    taken = factories.user("sales")
    response = client.post(
        reverse("identity:user_create"),
        {
            "username": taken.username,
            "password": "Lotus-blossom-88",
            "department": Department.objects.first().pk,  # type: ignore[union-attr]
            "roles": [Role.objects.get(code="sales").pk],
        },
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert "username" in form.errors


def test_user_edit_shows_history_and_saves() -> None:
    admin = factories.admin()
    client = _client(admin)
    other = factories.user("sales")
    response = client.post(
        reverse("identity:user_edit", args=[other.pk]),
        {
            "username": other.username,
            "display_name": "李娜",
            "email": other.email,
            "mobile": other.mobile,
            "department": other.department_id,
            "roles": [Role.objects.get(code="manager").pk],
        },
    )
    assert response.status_code == 302
    other.refresh_from_db()
    assert other.display_name == "李娜"
    page = client.get(reverse("identity:user_edit", args=[other.pk]))
    assert "李娜".encode() in page.content
    assert len(page.context["events"]) >= 1


def test_deactivate_and_delete_user() -> None:
    client = _client(factories.admin())
    other = factories.user("sales")
    client.post(reverse("identity:user_set_active", args=[other.pk]), {"active": "0"})
    other.refresh_from_db()
    assert other.is_active is False
    client.post(reverse("identity:user_set_active", args=[other.pk]), {"active": "1"})
    other.refresh_from_db()
    assert other.is_active is True
    client.post(reverse("identity:user_delete", args=[other.pk]))
    assert not User.objects.filter(pk=other.pk).exists()


def test_create_role_with_grid_is_audited() -> None:
    client = _client(factories.admin())
    response = client.post(
        reverse("identity:role_create"),
        {
            "code": "intern",
            "name_zh": "实习生",
            "name_en": "Intern",
            "description": "",
            "grant-user-actions": ["view"],
            "grant-user-scope": "department",
            "grant-user-masked": ["mobile", "email"],
        },
    )
    assert response.status_code == 302, response.content[:2000]
    role = Role.objects.get(code="intern")
    grant = role.grants.get(entity="user")
    assert grant.actions == ["view"]
    assert grant.scope == "department"
    assert sorted(grant.masked_fields) == ["email", "mobile"]
    assert AuditEvent.objects.filter(
        entity="role", action="create", object_id=str(role.pk)
    ).exists()


def test_builtin_role_cannot_be_deleted() -> None:
    client = _client(factories.admin())
    role = factories.role("sales")
    client.post(reverse("identity:role_delete", args=[role.pk]))
    assert Role.objects.filter(pk=role.pk).exists()


def test_language_switch_persists_and_next_page_is_english() -> None:
    user = factories.user("sales")
    client = _client(user)
    assert "个人资料".encode() in client.get(reverse("identity:profile")).content
    response = client.post(
        reverse("identity:set_language"), {"language": "en", "next": reverse("identity:profile")}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.language == "en"
    page = client.get(reverse("identity:profile"))
    assert b"Change password" in page.content
    assert b'lang="en"' in page.content


def test_profile_update_and_password_change() -> None:
    user = factories.user("sales")
    client = _client(user)
    response = client.post(
        reverse("identity:profile"),
        {
            "display_name": "王芳",
            "email": "wf@example.com",
            "mobile": "13900001111",
            "language": "zh-hans",
            "time_zone": "Asia/Tokyo",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.display_name, user.time_zone) == ("王芳", "Asia/Tokyo")
    wrong = client.post(
        reverse("identity:password"),
        {
            "old_password": "nope-nope-nope",
            "new_password": "Lotus-blossom-88",
            "new_password2": "Lotus-blossom-88",
        },
    )
    assert wrong.status_code == 400
    assert "old_password" in wrong.context["password_form"].errors
    ok = client.post(
        reverse("identity:password"),
        {
            "old_password": "secret-pass-123",
            "new_password": "Lotus-blossom-88",
            "new_password2": "Lotus-blossom-88",
        },
    )
    assert ok.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Lotus-blossom-88")


def test_lockout_after_five_wrong_passwords() -> None:
    user = factories.user("sales")
    client = Client()
    for _ in range(4):
        r = client.post(reverse("identity:login"), {"username": user.username, "password": "x"})
        assert "不正确".encode() in r.content
    r = client.post(reverse("identity:login"), {"username": user.username, "password": "x"})
    assert "锁定".encode() in r.content
    r = client.post(
        reverse("identity:login"), {"username": user.username, "password": "secret-pass-123"}
    )
    assert "锁定".encode() in r.content
    assert "_auth_user_id" not in client.session


def test_login_and_logout() -> None:
    user = factories.user("sales")
    client = Client()
    r = client.post(
        reverse("identity:login"), {"username": user.username, "password": "secret-pass-123"}
    )
    assert r.status_code == 302
    assert client.post(reverse("identity:logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_token_shown_once_then_only_hint() -> None:
    user = factories.user("sales")
    client = _client(user)
    response = client.post(reverse("identity:tokens"), {"name": "ERP"})
    raw = response.context["raw_token"]
    assert raw.startswith("gx_")
    assert raw.encode() in response.content
    token = ApiToken.objects.get(user=user)
    again = client.get(reverse("identity:tokens"))
    assert raw.encode() not in again.content
    assert token.hint.encode() in again.content
    client.post(reverse("identity:token_revoke", args=[token.pk]))
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_other_users_token_cannot_be_revoked() -> None:
    owner = factories.user("sales")
    from guanxi.identity import services

    token, _raw = services.token_create(actor=owner, user=owner, name="x")
    response = _client(factories.user("sales")).post(
        reverse("identity:token_revoke", args=[token.pk])
    )
    assert response.status_code == 404


def test_users_list_masks_mobile_for_sales() -> None:
    dept = factories.department("华东区")
    colleague = factories.user("sales", department=dept, mobile="13812345678")
    sales = factories.user("sales", department=dept)
    content = _client(sales).get(reverse("identity:users")).content
    assert b"138****5678" in content
    assert b"13812345678" not in content
    assert colleague.username.encode() in content
    admin_view = _client(factories.admin()).get(reverse("identity:users")).content
    assert b"13812345678" in admin_view


def test_users_list_filters() -> None:
    east = factories.department("华东区")
    factories.user("sales", department=east, display_name="张伟")
    factories.user("sales", display_name="李娜")
    client = _client(factories.admin())
    content = client.get(reverse("identity:users"), {"department": east.pk}).content.decode()
    assert "张伟" in content and "李娜" not in content
    content = client.get(reverse("identity:users"), {"q": "李娜"}).content.decode()
    assert "李娜" in content and "张伟" not in content


def test_audit_page_filters_and_renders_changes() -> None:
    admin = factories.admin()
    client = _client(admin)
    client.post(reverse("identity:departments"), {"name": "西南区"})
    response = client.get(reverse("identity:audit"), {"entity": "department", "action": "create"})
    assert response.status_code == 200
    assert "西南区".encode() in response.content
    assert "→".encode() in response.content


def test_custom_field_create_edit_deactivate() -> None:
    client = _client(factories.admin())
    response = client.post(
        reverse("identity:custom_field_create"),
        {
            "entity": "user",
            "key": "region",
            "label_zh": "大区",
            "label_en": "Region",
            "kind": "select",
            "position": 1,
            "options": "east|华东|East\nnorth|华北|North",
            "active": "on",
        },
    )
    assert response.status_code == 302, response.content[:3000]
    field = CustomField.objects.get(key="region")
    assert [o["value"] for o in field.options] == ["east", "north"]
    assert field.options[0]["label_zh"] == "华东"
    bad = client.post(
        reverse("identity:custom_field_create"),
        {"entity": "user", "key": "Bad Key", "label_zh": "x", "kind": "text", "active": "on"},
    )
    assert bad.status_code == 400
    assert "key" in bad.context["form"].errors
    client.post(reverse("identity:custom_field_deactivate", args=[field.pk]))
    field.refresh_from_db()
    assert field.active is False


def test_layout_has_navigation_and_search_guard() -> None:
    content = _client(factories.admin()).get(reverse("web:home")).content.decode()
    assert reverse("identity:audit") in content
    assert "htmx-2.min.js" in content
    sales_content = _client(factories.user("sales")).get(reverse("web:home")).content.decode()
    assert reverse("identity:audit") not in sales_content
