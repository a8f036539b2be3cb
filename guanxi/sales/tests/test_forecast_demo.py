"""Demo targets: every demo salesperson and sales department has a year of targets."""

from __future__ import annotations

import pytest

from guanxi.core.demo import DemoContext, load_organisation
from guanxi.sales import forecast, periods
from guanxi.sales.forecast_demo import load_targets
from guanxi.sales.models import SalesTarget

pytestmark = pytest.mark.django_db


def test_demo_targets_load_once() -> None:
    ctx = DemoContext(log=lambda _msg: None)
    load_organisation(ctx)
    load_targets(ctx)
    year = periods.company_today().year
    assert SalesTarget.objects.filter(year=year).count() == 7 * 12 * 3 + 3 * 12 * 2
    zhangwei = ctx.users["zhangwei"]
    months = SalesTarget.objects.filter(user=zhangwei, measure="won_amount", year=year)
    assert months.count() == 12 and {t.currency for t in months} == {"CNY"}
    load_targets(ctx)
    assert SalesTarget.objects.filter(year=year).count() == 7 * 12 * 3 + 3 * 12 * 2
    report = forecast.attainment(
        actor=ctx.users["manager"], period=periods.current(), measure="won_amount"
    )
    assert {ln.label for ln in report.departments} >= {"销售部", "华东区", "华南区"}
    assert report.departments[0].target is not None
