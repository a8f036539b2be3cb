"""A sales manager in a real browser, at desktop and phone size: spreads a yearly target
over the months of the targets grid (sums update live), fixes a bad cell, saves, and sees
the attainment and the forecast of the quarter with bars."""

from __future__ import annotations

import importlib
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps

from guanxi.sales.models import Pipeline, SalesTarget
from guanxi.sales.periods import current
from guanxi.sales.tests.forecast_fixtures import at, deal
from guanxi.tests_support import factories
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_targets_attainment_forecast(page: Any, live_server: Any) -> None:
    sales_dept = factories.department("销售部")
    factories.user("manager", department=sales_dept, username="wang", password="Manager-pass-123")
    seller = factories.user(
        "sales", department=sales_dept, username="zhangwei", display_name="张伟"
    )
    if not Pipeline.objects.exists():  # a transactional test flushed the seeded pipelines
        seed = importlib.import_module(
            "guanxi.sales.migrations.0002_seed_pipelines_and_loss_reasons"
        )
        seed.seed(apps, None)
    quarter = current("quarter")
    start = quarter.start
    deal(seller, 30000, status="won", won_at=at(start.year, start.month, start.day, 10))
    deal(seller, 50000, probability=40, close=quarter.last_day)
    base = live_server.url
    login(page, base, "wang", "Manager-pass-123")

    page.goto(f"{base}/sales/targets/?year={quarter.year}&measure=won_amount&kind=user")
    row = page.locator(f"tr:has(input[name=user-{seller.pk}-1])")
    page.once("dialog", lambda dialog: dialog.accept("120000"))
    row.locator("button[data-spread]").click()
    assert row.locator(f"input[name=user-{seller.pk}-12]").input_value() == "10000.00"
    assert row.locator("[data-year-total]").inner_text() == "120,000.00"
    assert row.locator("[data-quarter='1']").inner_text() == "30,000.00"
    row.locator(f"input[name=user-{seller.pk}-2]").fill("很多")
    page.click("form.targets-form button.primary")
    page.locator("[aria-invalid=true]").first.wait_for()
    assert SalesTarget.objects.count() == 0
    row = page.locator(f"tr:has(input[name=user-{seller.pk}-1])")
    row.locator(f"input[name=user-{seller.pk}-2]").fill("10000")
    page.click("form.targets-form button.primary")
    page.locator(".msg-success").wait_for()
    assert SalesTarget.objects.filter(user=seller).count() == 12
    assert sum(t.value for t in SalesTarget.objects.filter(user=seller)) == Decimal("120000")

    page.goto(f"{base}/sales/attainment/?period={quarter.key}")
    text = page.inner_text("main")
    assert "张伟" in text and "100.0%" in text  # 30,000 won of a 30,000 quarter

    page.goto(f"{base}/sales/forecast/?period={quarter.key}&group_by=owner")
    text = page.inner_text("main")
    assert "30,000.00" in text and "20,000.00" in text  # committed, weighted 50,000 × 40 %
    assert page.locator(".fc-bar .fc-committed").count() >= 1
