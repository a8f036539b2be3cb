"""Forecast, attainment and targets pages, the home panel and the /forecast API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from guanxi.identity.models import User
from guanxi.sales import targets
from guanxi.sales.models import SalesTarget
from guanxi.sales.periods import current
from guanxi.sales.tests.forecast_fixtures import at, deal
from guanxi.tests_support import factories, org

pytestmark = pytest.mark.django_db


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def o() -> org.Org:
    o = org.build()
    deal(o.peer, 100000, status="won", won_at=at(2026, 10, 15))
    deal(o.peer, 80000, probability=25, close=dt.date(2026, 11, 20))
    deal(o.east, 40000, status="won", won_at=at(2026, 11, 2))
    deal(o.east, 10000, currency="USD", probability=50, close=dt.date(2026, 12, 1))
    return o


def test_forecast_page_renders_table_and_bars(o: org.Org) -> None:
    response = client_for(o.admin).get(
        reverse("forecast:forecast"), {"period": "2026-Q4", "group_by": "owner"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "fc-bar" in html and "forecast.css" in html
    assert "100,000.00" in html  # peer's committed, grouped
    assert "USD" in html and "2026-11" in html  # currency line and month breakdown
    assert o.east.label in html
    assert "销售预测" in html and "加权预测" in html  # the Chinese UI (default language)


def test_forecast_page_by_department_and_bad_input(o: org.Org) -> None:
    c = client_for(o.admin)
    html = c.get(reverse("forecast:forecast"), {"period": "2026-Q4", "group_by": "department"})
    assert "华东区" in html.content.decode()
    bad = c.get(reverse("forecast:forecast"), {"period": "2026-Q9", "group_by": "colour"})
    assert bad.status_code == 200
    text = bad.content.decode()
    assert "msg-error" in text  # both mistakes are reported, the default period is shown


def test_forecast_page_scoped_for_salesperson(o: org.Org) -> None:
    html = client_for(o.peer).get(reverse("forecast:forecast"), {"period": "2026-Q4"})
    text = html.content.decode()
    assert o.peer.label in text and o.east.label not in text and "40,000.00" not in text


def test_attainment_page(o: org.Org) -> None:
    targets.target_grid_save(
        actor=o.admin,
        measure="won_amount",
        year=2026,
        rows=[targets.GridRow("user", o.peer.pk, "CNY", {10: "200000"})],
    )
    html = client_for(o.admin).get(reverse("forecast:attainment"), {"period": "2026-Q4"})
    text = html.content.decode()
    assert html.status_code == 200 and "50.0%" in text and "华东区" in text
    mine = client_for(o.peer).get(reverse("forecast:attainment"), {"period": "2026-Q4"})
    text = mine.content.decode()
    assert "50.0%" in text and o.east.label not in text
    for measure in ("new_customers", "receipts"):
        page = client_for(o.admin).get(
            reverse("forecast:attainment"), {"period": "2026-Q4", "measure": measure}
        )
        assert page.status_code == 200


def test_pages_refused_without_grants(o: org.Org) -> None:
    nobody = o.give(o.actor)
    c = client_for(nobody)
    for name in ("forecast:forecast", "forecast:attainment", "forecast:targets"):
        assert c.get(reverse(name)).status_code == 403


def test_targets_grid_save_and_errors(o: org.Org) -> None:
    manager = factories.user("manager", department=o.sales_dept, username="boss2")
    c = client_for(manager)
    page = c.get(reverse("forecast:targets"), {"year": 2026})
    assert page.status_code == 200
    assert f'name="user-{o.peer.pk}-1"' in page.content.decode()
    key = f"user-{o.peer.pk}"
    data = {"year": "2026", "measure": "won_amount", "kind": "user", "row": [str(o.peer.pk)]}
    data.update({f"{key}-currency": "CNY", f"{key}-1": "1000", f"{key}-2": "2,000.5"})
    saved = c.post(reverse("forecast:targets"), data)
    assert saved.status_code == 302
    assert dict(SalesTarget.objects.filter(user=o.peer).values_list("month", "value")) == {
        1: Decimal("1000.00"),
        2: Decimal("2000.50"),
    }
    page = c.get(saved["Location"]).content.decode()
    assert "3,000.50" in page  # Q1 sum of the months
    bad = c.post(reverse("forecast:targets"), {**data, f"{key}-3": "很多"})
    assert bad.status_code == 200
    text = bad.content.decode()
    assert 'aria-invalid="true"' in text and 'value="很多"' in text
    assert SalesTarget.objects.filter(user=o.peer).count() == 2


def test_targets_grid_read_only_for_salesperson(o: org.Org) -> None:
    page = client_for(o.peer).get(reverse("forecast:targets"), {"year": 2026})
    text = page.content.decode()
    assert page.status_code == 200 and "cell-input" not in text and o.east.label not in text
    denied = client_for(o.peer).post(
        reverse("forecast:targets"),
        {
            "year": "2026",
            "measure": "won_amount",
            "kind": "user",
            "row": [str(o.peer.pk)],
            f"user-{o.peer.pk}-1": "1",
        },
    )
    assert denied.status_code == 403
    assert not SalesTarget.objects.exists()


def test_home_panel_shows_my_attainment(o: org.Org) -> None:
    month = current("month")
    targets.target_grid_save(
        actor=o.admin,
        measure="won_amount",
        year=month.year,
        rows=[targets.GridRow("user", o.peer.pk, "CNY", {month.number: "5000"})],
    )
    html = client_for(o.peer).get(reverse("web:home")).content.decode()
    assert "attain-panel" in html and "5,000.00" in html
    # Nothing to show for someone without targets or results: no panel.
    assert "attain-panel" not in client_for(o.boss).get(reverse("web:home")).content.decode()


def test_forecast_api(o: org.Org, api_client: Any) -> None:
    api = api_client.login(o.admin)
    body = api.get("forecast", period="2026-Q4", group_by="owner").json()
    assert body["period"] == {
        "key": "2026-Q4",
        "kind": "quarter",
        "start": "2026-10-01",
        "end": "2026-12-31",
    }
    assert body["currencies"] == ["CNY", "USD"]
    cny = next(t for t in body["totals"] if t["currency"] == "CNY")
    assert cny["committed"] == "140000.00" and cny["weighted"] == "20000.00"
    assert cny["best_case"] == "220000.00"
    assert [m["month"] for m in body["months"] if m["currency"] == "CNY"] == [
        "2026-10",
        "2026-11",
        "2026-12",
    ]
    by_pipeline = api.get("forecast", period="2026-11", group_by="pipeline").json()
    assert by_pipeline["rows"][0]["group"]["type"] == "pipeline"
    for params, field in (
        ({"period": "2026-13"}, "period"),
        ({"period": "Q4"}, "period"),
        ({"group_by": "colour"}, "group_by"),
        ({"pipeline": "999999"}, "pipeline"),
    ):
        response = api.get("forecast", **params)
        assert response.status_code == 422, params
        assert response.json()["errors"][0]["field"] == field
    assert api.get("attainment", measure="profit").status_code == 422
    nobody = o.give(o.actor)
    assert api_client.login(nobody).get("forecast").status_code == 403
