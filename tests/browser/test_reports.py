"""A manager opens the dashboard, changes the period and drills from a funnel stage into
the deal list, in a real browser at desktop and phone size."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from guanxi.reports.tests.fixtures import funnel_fixture
from guanxi.sales.models import Stage
from guanxi.tests_support import factories
from tests.browser.conftest import login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_manager_changes_period_and_drills_into_funnel_stage(page: Any, live_server: Any) -> None:
    dept = factories.department("华南区")
    manager = factories.user("manager", department=dept, username="mgr")
    sales = factories.user("sales", department=dept, username="rep")
    deals = funnel_fixture(sales, factories.user("sales", username="other"))
    login(page, live_server.url, "mgr", "secret-pass-123")
    # The manager's dashboard opens on this month: nothing moved in December 2026.
    page.goto(f"{live_server.url}/?view=manager&period=month&date_from=&date_to=")
    funnel = page.locator("#team-funnel")
    assert funnel.locator("svg[role=img]").count() == 1
    # Pick a custom range covering January 2026 and show it.
    page.select_option("#period-select", "custom")
    page.fill("input[name=date_from]", "2026-01-01")
    page.fill("input[name=date_to]", "2026-01-31")
    page.click("#period-picker button[type=submit]")
    page.wait_for_url("**date_from=2026-01-01**")
    counts = page.locator("#funnel-table tbody tr td:nth-child(2) a").all_inner_texts()
    assert counts == ["4", "4", "3", "2"]
    # Then "this year" from the preset list (the page reloads on its own).
    page.select_option("#period-select", "year")
    page.wait_for_url("**period=year**")
    # 2026 adds d5, which moved on to 方案/报价 in February.
    assert page.locator("#funnel-table tbody tr td:nth-child(2) a").all_inner_texts() == [
        "5",
        "5",
        "4",
        "2",
    ]
    stage = Stage.objects.get(pipeline__name="新客户", name="方案/报价")
    page.click(f"#funnel-table a[data-stage='{stage.pk}']")
    page.wait_for_url("**reached_stage=**")
    assert page.locator("#drill-note").is_visible()

    def listed(key: str) -> bool:
        href = reverse("sales:deal_detail", args=[deals[key].pk])
        return page.locator(f"table a[href='{href}']").count() > 0

    assert all(listed(k) for k in ("d1", "d2", "d3", "d5"))
    assert not any(listed(k) for k in ("d4", "d6"))
    assert manager.pk  # the manager saw only their department's deals (d6 is elsewhere)
