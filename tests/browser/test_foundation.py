"""Foundation journeys in a real browser, at desktop and phone size: log in, switch the
language, create a department and a user, and find both in the audit trail."""

from __future__ import annotations

from typing import Any

import pytest

from guanxi.core.models import AuditEvent
from guanxi.identity.models import Department, User
from guanxi.tests_support import factories
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _open_menu_if_phone(page: Any) -> None:
    if page.viewport_name == "phone":
        page.click("button.menu-button")


def test_admin_journey(page: Any, live_server: Any) -> None:
    factories.admin(username="boss", password="Secret-pass-42")
    base = live_server.url

    login(page, base, "boss", "Secret-pass-42")
    assert page.locator("html").get_attribute("lang") == "zh-hans"

    # Switch to English from the user menu; the choice sticks to the user.
    page.click("details.user-menu summary")
    page.click("button[name=language][value=en]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert User.objects.get(username="boss").language == "en"

    # Create a department under the root through the sidebar.
    _open_menu_if_phone(page)
    page.click("#sidebar >> text=Departments")
    page.fill("form.inline input[name=name]", "华北区")
    page.click("form.inline button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("text=华北区").first.is_visible()
    dept = Department.objects.get(name="华北区")

    # Create a salesperson in it.
    page.goto(f"{base}/org/users/new/")
    page.fill("input[name=username]", "xiaoming")
    page.fill("input[name=display_name]", "小明")
    page.fill("input[name=password]", "Another-pass-77")
    page.select_option("select[name=department]", str(dept.pk))
    page.check(f"input[name=roles][value='{factories.role('sales').pk}']")
    page.click("form button.primary")
    page.wait_for_load_state()
    created = User.objects.get(username="xiaoming")
    assert created.department_id == dept.pk
    assert list(created.roles.values_list("code", flat=True)) == ["sales"]

    # Both writes are in the audit trail page.
    assert AuditEvent.objects.filter(
        entity="user", object_id=str(created.pk), action="create"
    ).exists()
    _open_menu_if_phone(page)
    page.click("#sidebar >> text=Audit trail")
    page.wait_for_load_state()
    body = page.inner_text("main")
    assert "xiaoming" in body
    assert "华北区" in body


def test_wrong_password_then_lockout_message(page: Any, live_server: Any) -> None:
    factories.user("sales", username="lina", password="Right-pass-123")
    page.goto(f"{live_server.url}/login/")
    for _ in range(5):
        page.fill("input[name=username]", "lina")
        page.fill("input[name=password]", "wrong-password")
        page.click("button[type=submit]")
        page.wait_for_load_state()
    assert page.locator("[role=alert]").first.is_visible()
    text = page.inner_text("[role=alert]")
    assert "锁定" in text or "locked" in text
