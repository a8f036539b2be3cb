"""The /reports API (scope, 422, 403), the report pages, dashboards and drill-down links."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from guanxi.reports import charts
from guanxi.reports.tests.fixtures import at, deal_with_history, funnel_fixture
from guanxi.sales.models import Stage
from guanxi.tests_support import crm_factories, factories

pytestmark = pytest.mark.django_db
JAN = {"date_from": "2026-01-01", "date_to": "2026-01-31"}


def test_funnel_api_scope_and_errors(api_client: Any) -> None:
    sales = factories.user("sales")
    peer = factories.user("sales")
    funnel_fixture(sales, peer)
    body = api_client.login(sales).get("/api/v1/reports/funnel", **JAN).json()
    assert [s["count"] for s in body["stages"]] == [4, 4, 3, 2]
    assert body["won"]["count"] == 1 and body["lost"]["amount"] == "400.00"
    peer_body = api_client.login(peer).get("/api/v1/reports/funnel", **JAN).json()
    assert [s["count"] for s in peer_body["stages"]] == [1, 0, 0, 0]
    bad = api_client.login(sales).get("/api/v1/reports/funnel", date_from="2026-01-40")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "date_from"
    bad = api_client.get("/api/v1/reports/funnel", pipeline="999999")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "pipeline"
    service = factories.user("service")
    assert api_client.login(service).get("/api/v1/reports/funnel").status_code == 403


def test_channels_costs_api(api_client: Any) -> None:
    admin = factories.admin()
    api_client.login(admin)
    created = api_client.post(
        "/api/v1/reports/campaign-costs", {"source": "baidu", "month": "2026-01", "amount": "800"}
    )
    assert created.status_code == 201 and created.json()["amount"] == "800.00"
    again = api_client.post(
        "/api/v1/reports/campaign-costs", {"source": "baidu", "month": "2026-01", "amount": "900"}
    )
    assert again.status_code == 200 and again.json()["id"] == created.json()["id"]
    bad = api_client.post(
        "/api/v1/reports/campaign-costs", {"source": "baidu", "month": "2026-1x", "amount": "1"}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "month"
    rows = api_client.get("/api/v1/reports/channels", **JAN).json()["rows"]
    assert rows == [r for r in rows if r["source"] == "baidu"] and rows[0]["cost"] == "900.00"
    assert [c["month"] for c in api_client.get("/api/v1/reports/campaign-costs").json()] == [
        "2026-01"
    ]
    sales = factories.user("sales")
    assert api_client.login(sales).get("/api/v1/reports/campaign-costs").status_code == 403
    assert (
        api_client.delete(f"/api/v1/reports/campaign-costs/{created.json()['id']}").status_code
        == 403
    )
    api_client.login(admin)
    assert (
        api_client.delete(f"/api/v1/reports/campaign-costs/{created.json()['id']}").status_code
        == 204
    )


def test_other_report_apis(api_client: Any) -> None:
    sales = factories.user("sales")
    funnel_fixture(sales, factories.user("sales"))
    api_client.login(sales)
    perf = api_client.get("/api/v1/reports/performance", **JAN).json()
    assert perf["users"][0]["deals_won"] == 1
    assert api_client.get("/api/v1/reports/customers").json()["buyers"] == 1
    lost = api_client.get("/api/v1/reports/lost", **JAN).json()
    assert lost["count"] == 1 and lost["by_stage"][0]["stage"] == "需求确认"


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_report_pages_render_with_charts_and_tables() -> None:
    dept = factories.department("一部")
    manager = factories.user("manager", department=dept)
    sales = factories.user("sales", department=dept)
    funnel_fixture(sales, factories.user("sales"))
    client = _client(manager)
    for name in ("index", "funnel", "channels", "performance", "customers", "lost"):
        response = client.get(reverse(f"reports:{name}"), JAN)
        assert response.status_code == 200, name
    funnel_page = client.get(reverse("reports:funnel"), JAN).content.decode()
    assert "<svg" in funnel_page and 'id="funnel-table"' in funnel_page
    assert "reached_stage=" in funnel_page
    bad = client.get(reverse("reports:funnel"), {"date_from": "nope"})
    assert bad.status_code == 200 and "YYYY-MM-DD" in bad.content.decode()
    # Campaign costs: a manager enters one; a salesperson may not open the page.
    response = client.post(
        reverse("reports:campaign_costs"),
        {"source": "baidu", "month": "2026-01", "amount": "12.5", "currency": "CNY"},
    )
    assert response.status_code == 302
    assert _client(sales).get(reverse("reports:campaign_costs")).status_code == 403
    bad = client.post(
        reverse("reports:campaign_costs"),
        {"source": "baidu", "month": "2026-99", "amount": "1", "currency": "CNY"},
    )
    assert bad.status_code == 200 and "YYYY-MM" in bad.content.decode()


def test_dashboards_per_role_and_drill_down() -> None:
    dept = factories.department("一部")
    manager = factories.user("manager", department=dept)
    sales = factories.user("sales", department=dept)
    deals = funnel_fixture(sales, factories.user("sales"))
    account = crm_factories.account(sales, lifecycle_stage="customer")
    crm_factories.lead(sales)
    # Salesperson: their pipeline, leads by age and the customer at risk.
    page = _client(sales).get("/").content.decode()
    assert 'id="dashboard-sales"' in page and 'id="dashboard-manager"' not in page
    assert account.name in page
    # Manager: team funnel for January, drill into the deals that reached 方案/报价.
    client = _client(manager)
    page = client.get("/", {"view": "manager", **JAN}).content.decode()
    assert 'id="team-funnel"' in page and 'id="quality-card"' in page
    assert 'id="forecast-card"' in page
    quality = client.get(reverse("reports:quality_card"))
    assert quality.status_code == 200 and "%" in quality.content.decode()
    stage = Stage.objects.get(pipeline__name="新客户", name="方案/报价")
    drill = client.get(
        reverse("sales:deal_list"),
        {"reached_stage": stage.pk, "reached_from": "2026-01-01", "reached_to": "2026-01-31"},
    )
    names = {d.name for d in drill.context["page"].items}
    assert names == {deals["d1"].name, deals["d2"].name, deals["d3"].name}
    # Lost-reason drill-down: the lost deal only.
    lost = client.get(
        reverse("sales:deal_list"),
        {
            "status": "lost",
            "loss_reason": deals["d4"].loss_reason_id,
            "closed_from": "2026-01-01",
            "closed_to": "2026-01-31",
        },
    )
    assert [d.pk for d in lost.context["page"].items] == [deals["d4"].pk]
    # Management view for an administrator, with the previous period's comparison.
    admin_page = _client(factories.admin()).get("/", {"period": "month"})
    assert 'id="dashboard-management"' in admin_page.content.decode()


def test_revenue_comparison_with_previous_period() -> None:
    from guanxi.reports import dashboard
    from guanxi.reports.periods import parse

    admin = factories.admin()
    sales = factories.user("sales")
    deal_with_history(sales, "100", [("初步接触", at(11, 1, 2025)), ("赢单", at(12, 3, 2025))])
    deal_with_history(sales, "300", [("初步接触", at(12, 1, 2025)), ("赢单", at(1, 3))])
    data = dashboard.management_dashboard(actor=admin, period=parse({"period": "", **JAN}))
    assert data["won"].current == 300 and data["won"].previous == 100
    assert data["won"].change == 2.0
    assert data["new_customers"].current == 1


def test_charts_escape_and_label() -> None:
    svg = charts.bar("<x>", ["a<b", "c"], [1, 2])
    assert "<title>&lt;x&gt;</title>" in svg and "a&lt;b" in svg and "<script" not in svg
    for chart in (
        charts.line("t", ["1", "2"], [charts.Series("s", [1, 3])]),
        charts.funnel("t", ["a", "b"], [5, 2]),
        charts.donut("t", ["a", "b"], [1, 0]),
        charts.heat_map("t", ["r"], ["c1", "c2"], [[1, 2]]),
        charts.stacked_bar("t", ["a"], [charts.Series("x", [1]), charts.Series("y", [2])]),
    ):
        assert chart.startswith("<svg") and 'role="img"' in chart


def test_campaign_cost_scope_own_hides_colleagues_costs(api_client: Any) -> None:
    from guanxi.reports import services
    from guanxi.tests_support import org

    admin = factories.admin()
    own = org.role(
        admin, {"campaign_cost": {"actions": ["view", "create", "edit", "delete"], "scope": "own"}}
    )
    alice = factories.user("sales")
    alice.roles.add(own)
    bob = factories.user("sales")
    bob.roles.add(own)
    cost, _created = services.campaign_cost_save(
        actor=alice, data={"source": "douyin", "month": "2026-05", "amount": "10"}
    )
    api_client.login(bob)
    assert api_client.get("/api/v1/reports/campaign-costs").json() == []
    assert api_client.delete(f"/api/v1/reports/campaign-costs/{cost.pk}").status_code == 404
    api_client.login(alice)
    assert [c["id"] for c in api_client.get("/api/v1/reports/campaign-costs").json()] == [cost.pk]


def test_forecast_card_uses_the_periods_quarter() -> None:
    from guanxi.reports import dashboard
    from guanxi.reports.periods import parse

    sales = factories.user("sales")
    deal_with_history(sales, "300", [("初步接触", at(1, 2)), ("赢单", at(1, 25))])
    card = dashboard.forecast_card(actor=sales, period=parse({"period": "", **JAN}))
    assert card["period"] == "2026-Q1"
    [total] = card["totals"]
    assert total.committed == 300 and total.currency == "CNY"
    from guanxi.reports.periods import sales_period

    assert sales_period(parse({"period": "year"})).kind == "year"
