from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import NoReverseMatch
from django.utils import translation

from guanxi.core.pagination import Page
from guanxi.identity import selectors
from guanxi.tests_support import factories
from guanxi.web import context_processors
from guanxi.web.templatetags.web_tags import audit_changes

pytestmark = pytest.mark.django_db


def _render_page(page: Page) -> str:
    request = RequestFactory().get("/org/users/?q=zw&page=2")
    with translation.override("en"):
        return render_to_string("web/_pagination.html", {"page": page}, request=request)


def test_pagination_shows_lower_bound_when_count_is_inexact() -> None:
    html = _render_page(
        Page(items=list(range(50)), count=10000, count_exact=False, page=2, page_size=50)
    )
    assert "10,000+" in html
    assert "q=zw" in html and "page=3" in html and "page=1" in html
    assert "Page 2" in html and "of 200" not in html


def test_pagination_exact_count() -> None:
    html = _render_page(
        Page(items=list(range(7)), count=57, count_exact=True, page=2, page_size=50)
    )
    assert "51–57 of 57" in html
    assert "Page 2 of 2" in html
    assert 'rel="next"' not in html


def test_search_box_hidden_until_search_app_exists(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> str:
        raise NoReverseMatch(name)

    monkeypatch.setattr(context_processors, "reverse", missing)
    request = RequestFactory().get("/")
    request.user = factories.user("sales")
    assert context_processors.navigation(request)["search_url"] == ""
    monkeypatch.setattr(context_processors, "reverse", lambda name: "/search/")
    assert context_processors.navigation(request)["search_url"] == "/search/"


def test_history_partial_renders_changes() -> None:
    admin = factories.admin()
    user = factories.user("sales")
    from guanxi.identity import services

    services.user_update(actor=admin, user=user, data={"display_name": "赵敏"})
    events = selectors.record_history(actor=user, entity="user", object_id=user.pk)
    with translation.override("zh-hans"):
        html = render_to_string("web/_history.html", {"events": events})
    assert "赵敏" in html and "→" in html and "姓名" in html


def test_audit_changes_without_pair() -> None:
    assert audit_changes({"field": "mobile"}) == [("field", "mobile", None)]
    assert audit_changes({"is_active": [True, False]}, "user")[0][1:] in (
        ("是", "否"),
        ("Yes", "No"),
    )


def test_registered_nav_items_follow_permissions() -> None:
    from django.test import Client

    from guanxi.web import navigation

    navigation.register(navigation.NavItem("identity:audit", "AUDIT-LINK", admin_only=True))
    navigation.register(navigation.NavItem("nowhere:list", "MISSING-LINK"))
    try:
        admin_client, sales_client = Client(), Client()
        admin_client.force_login(factories.admin())
        sales_client.force_login(factories.user("sales"))
        admin_html = admin_client.get("/").content.decode()
        assert "AUDIT-LINK" in admin_html and "MISSING-LINK" not in admin_html
        assert "AUDIT-LINK" not in sales_client.get("/").content.decode()
    finally:
        navigation._items.pop("identity:audit", None)
        navigation._items.pop("nowhere:list", None)


def test_users_list_query_count(django_assert_max_num_queries: object) -> None:
    from django.test import Client

    dept = factories.department("华东区")
    for _ in range(30):
        factories.user("sales", department=dept)
    client = Client()
    client.force_login(factories.admin())
    with django_assert_max_num_queries(8):  # type: ignore[operator]
        assert client.get("/org/users/").status_code == 200
