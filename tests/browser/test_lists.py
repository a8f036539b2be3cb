"""List tools in a real browser, at desktop and phone size: choose and order columns,
save them with the filters as a view (场景), then tag two leads in bulk and undo it."""

from __future__ import annotations

from typing import Any

import pytest

from guanxi.core.models import SavedView
from guanxi.leads.models import Lead
from guanxi.tests_support import crm_factories, factories
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_saved_view_with_columns_and_bulk_tags(page: Any, live_server: Any) -> None:
    sales = factories.user("sales", username="zhaolei", password="Sales-pass-123")
    first = crm_factories.lead(sales, name="甲客户", company="甲公司", city="上海")
    second = crm_factories.lead(sales, name="乙客户", company="乙公司", city="上海")
    third = crm_factories.lead(sales, name="丙客户", company="丙公司", city="北京")
    base = live_server.url
    login(page, base, "zhaolei", "Sales-pass-123")

    # Filter by city, then choose columns: add 城市, drop 手机, move 城市 to the front.
    page.goto(f"{base}/leads/?view=&city=上海")
    assert "丙客户" not in page.inner_text("table")
    page.click("details.column-chooser summary")
    chooser = page.locator("details.column-chooser")
    chooser.locator("input[value=city]").check()
    chooser.locator("input[value=mobile]").uncheck()
    city = chooser.locator("li", has=page.locator("input[value=city]"))
    for _ in range(20):  # up to the top of the list
        city.locator("[data-move=up]").click()
    assert chooser.locator("li input").first.get_attribute("value") == "city"
    with page.expect_navigation():
        chooser.locator("button.primary").click()
    headers = page.locator("table thead th").all_inner_texts()
    assert headers[2] == "城市" and "手机" not in headers

    # Save the filters and columns as a view; it appears next to the built-in ones.
    page.click("details.save-view summary")
    page.fill("details.save-view input[name=name]", "上海线索")
    page.click("details.save-view button.primary")
    page.wait_for_url("**/leads/?sv=*")
    view = SavedView.objects.get(owner=sales, name="上海线索")
    assert view.query.get("city") == "上海"
    assert view.columns[0] == "city" and "mobile" not in view.columns
    assert page.locator(".view-tabs a[aria-current=page]").inner_text().startswith("上海线索")
    assert "丙客户" not in page.inner_text("table")

    # Tag two leads in bulk, then undo.
    page.locator(f"input[data-row-check][value='{first.pk}']").check()
    page.locator(f"input[data-row-check][value='{second.pk}']").check()
    assert "2" in page.inner_text("[data-bulk-count]")
    page.click("button[data-bulk-action][value=add_tags]")
    page.wait_for_url("**/lists/lead/bulk/")
    page.fill("#bulk-tags", "展会")
    page.click("form.bulk-confirm button.primary")
    page.wait_for_url("**/leads/?sv=*")
    assert set(Lead.objects.filter(tags=["展会"]).values_list("pk", flat=True)) == {
        first.pk,
        second.pk,
    }
    third.refresh_from_db()
    assert third.tags == []
    assert "展会" in page.inner_text("table")
    with page.expect_navigation():
        page.click(".undo-bar button")
    assert not Lead.objects.exclude(tags=[]).exists()


def test_bulk_edit_a_field_for_all_matching(page: Any, live_server: Any) -> None:
    manager = factories.user("manager", username="wangjl", password="Boss-pass-123")
    leads = [crm_factories.lead(manager, city="杭州") for _ in range(3)]
    other = crm_factories.lead(manager, city="南京")
    base = live_server.url
    login(page, base, "wangjl", "Boss-pass-123")
    page.goto(f"{base}/leads/?view=&city=杭州&page=1")
    page.locator("[data-select-page]").check()
    page.click("button[data-bulk-action][value=edit]")
    page.wait_for_url("**/lists/lead/bulk/")
    page.select_option("[data-bulk-field]", "status")
    page.select_option("#bulk-value-status", "qualified")
    assert page.locator("#bulk-value-city").is_disabled()  # only the chosen field's value posts
    page.click("form.bulk-confirm button.primary")
    page.wait_for_url("**/leads/?*")
    assert {x.status for x in Lead.objects.filter(pk__in=[x.pk for x in leads])} == {"qualified"}
    other.refresh_from_db()
    assert other.status == "new"
    assert "已更新 3 条" in page.inner_text(".messages")
