"""Channels with campaign costs, sales performance, customers and lost deals by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from guanxi.activities import services as activity_services
from guanxi.core.errors import NotPermitted, ValidationFailed
from guanxi.core.models import AuditEvent
from guanxi.leads import services as lead_services
from guanxi.leads.models import Lead, LeadSource
from guanxi.reports import selectors, services
from guanxi.reports.models import CampaignCost
from guanxi.reports.periods import parse
from guanxi.reports.tests.fixtures import at, deal_with_history, funnel_fixture
from guanxi.tests_support import crm_factories, factories

pytestmark = pytest.mark.django_db

JANUARY = parse({"date_from": "2026-01-01", "date_to": "2026-01-31"})


def _leads(owner: object, source: str, days: list[tuple[int, int]]) -> list[Lead]:
    out = []
    for month, day in days:
        lead = crm_factories.lead(owner, source=source)  # type: ignore[arg-type]
        Lead.objects.filter(pk=lead.pk).update(created_at=at(month, day))
        out.append(lead)
    return out


def test_channels_with_costs_roi_and_cac() -> None:
    admin = factories.admin()
    sales = factories.user("sales")
    baidu = _leads(sales, "baidu", [(1, 3), (1, 4), (1, 20), (2, 1)])
    _leads(sales, "website", [(1, 5), (1, 6)])
    lead_services.lead_convert(actor=sales, lead=baidu[0])
    source = LeadSource.objects.get(code="baidu")
    deal_with_history(
        sales, "300", [("初步接触", at(1, 2)), ("赢单", at(1, 25))], source_id=source.pk
    )
    services.campaign_cost_save(
        actor=admin, data={"source": "baidu", "month": "2026-01", "amount": "1000"}
    )
    services.campaign_cost_save(
        actor=admin, data={"source": "baidu", "month": "2026-02", "amount": "999"}
    )
    services.campaign_cost_save(
        actor=admin, data={"source": "website", "month": "2026-01", "amount": "50"}
    )
    rows = {r["source"]: r for r in selectors.channels(actor=admin, period=JANUARY)["rows"]}
    assert rows["baidu"] == {
        "source": "baidu",
        "source_id": source.pk,
        "source_name": "百度",
        "leads": 3,
        "converted": 1,
        "conversion_rate": 0.3333,
        "deals_won": 1,
        "customers": 1,
        "won_amount": "300.00",
        "cost": "1000.00",
        "cost_per_lead": "333.33",
        "cac": "1000.00",
        "roi": -0.7,
    }
    assert rows["website"]["leads"] == 2 and rows["website"]["converted"] == 0
    assert rows["website"]["cost_per_lead"] == "25.00"
    assert rows["website"]["cac"] is None and rows["website"]["roi"] == -1.0
    # A salesperson sees their own leads and deals but not the company's costs.
    mine = {r["source"]: r for r in selectors.channels(actor=sales, period=JANUARY)["rows"]}
    assert mine["baidu"]["leads"] == 3 and mine["baidu"]["cost"] is None
    other = factories.user("sales")
    assert selectors.channels(actor=other, period=JANUARY)["rows"] == []


def test_campaign_cost_service_validates_replaces_audits_and_needs_permission() -> None:
    admin = factories.admin()
    cost, created = services.campaign_cost_save(
        actor=admin, data={"source": "baidu", "month": "2026-01", "amount": "10.005"}
    )
    assert created and str(cost.amount) == "10.01"
    again, created = services.campaign_cost_save(
        actor=admin, data={"source": "baidu", "month": "2026-1", "amount": "20"}
    )
    assert not created and again.pk == cost.pk and CampaignCost.objects.count() == 1
    assert AuditEvent.objects.filter(entity="campaign_cost").count() == 2
    for field, data in [
        ("source", {"source": "nope", "month": "2026-01", "amount": "1"}),
        ("month", {"source": "baidu", "month": "2026-13", "amount": "1"}),
        ("amount", {"source": "baidu", "month": "2026-01", "amount": "-1"}),
        ("amount", {"source": "baidu", "month": "2026-01", "amount": "abc"}),
    ]:
        with pytest.raises(ValidationFailed) as exc:
            services.campaign_cost_save(actor=admin, data=data)
        assert [e.field for e in exc.value.errors] == [field]
    with pytest.raises(NotPermitted):
        services.campaign_cost_save(
            actor=factories.user("sales"),
            data={"source": "baidu", "month": "2026-03", "amount": "1"},
        )
    services.campaign_cost_delete(actor=admin, pk=cost.pk)
    assert not CampaignCost.objects.exists()


def test_performance_per_user_and_department() -> None:
    dept = factories.department("一部")
    sales = factories.user("sales", department=dept)
    peer = factories.user("sales", department=dept)
    manager = factories.user("manager", department=dept)
    _leads(sales, "website", [(1, 3), (1, 9), (2, 3)])
    account = crm_factories.account(sales)
    for day in (4, 5):
        activity_services.activity_create(
            actor=sales,
            target_entity="account",
            target_id=account.pk,
            kind="call",
            content="电话",
            occurred_at=at(1, day),
        )
    # Won in January after 10 and 20 days; the account of the first had no earlier win.
    deal_with_history(
        sales, "100", [("初步接触", at(1, 1)), ("赢单", at(1, 11))], account_id=account.pk
    )
    deal_with_history(
        sales, "250", [("初步接触", at(1, 2)), ("赢单", at(1, 22))], account_id=account.pk
    )
    earlier = crm_factories.account(peer)
    deal_with_history(
        peer,
        "50",
        [("初步接触", at(11, 1, 2025)), ("赢单", at(12, 1, 2025))],
        account_id=earlier.pk,
    )
    deal_with_history(
        peer, "70", [("初步接触", at(1, 1)), ("赢单", at(1, 4))], account_id=earlier.pk
    )
    result = selectors.performance(actor=manager, period=JANUARY)
    users = {r["user_id"]: r for r in result["users"]}
    assert users[sales.pk] | {} == users[sales.pk]
    assert {
        k: users[sales.pk][k]
        for k in (
            "followups",
            "new_leads",
            "new_customers",
            "deals_won",
            "won_amount",
            "avg_cycle_days",
        )
    } == {
        "followups": 2,
        "new_leads": 2,
        "new_customers": 1,
        "deals_won": 2,
        "won_amount": "350.00",
        "avg_cycle_days": 15.0,
    }
    # The peer's account had bought before January: not a new customer.
    assert users[peer.pk]["new_customers"] == 0 and users[peer.pk]["deals_won"] == 1
    assert [r["user_id"] for r in result["users"]] == [sales.pk, peer.pk]
    [department] = result["departments"]
    assert department["deals_won"] == 3 and department["won_amount"] == "420.00"
    assert department["avg_cycle_days"] == round((10 + 20 + 3) / 3, 1)
    # A salesperson's report holds only themselves.
    mine = selectors.performance(actor=peer, period=JANUARY)
    assert [r["user_id"] for r in mine["users"]] == [peer.pk]


def test_customers_and_lost() -> None:
    sales = factories.user("sales")
    peer = factories.user("sales")
    deals = funnel_fixture(sales, peer)
    a = crm_factories.account(sales, industry="制造业", tier="A")
    deal_with_history(sales, "10", [("初步接触", at(1, 1)), ("赢单", at(1, 2))], account_id=a.pk)
    deal_with_history(sales, "20", [("初步接触", at(1, 1)), ("赢单", at(1, 3))], account_id=a.pk)
    result = selectors.customers(actor=sales)
    # Buyers: d3's account (once) and ``a`` (twice).
    assert result["buyers"] == 2 and result["repeat_buyers"] == 1
    assert result["repeat_purchase_rate"] == 0.5
    assert result["top_customers"][0]["account_id"] == deals["d3"].account_id
    assert {"value": "制造业", "count": 1} in result["distribution"]["industry"]
    lost = selectors.lost(actor=sales, period=JANUARY)
    assert lost["count"] == 1
    assert lost["by_reason"][0]["reason"] == "价格" and lost["by_reason"][0]["amount"] == "400.00"
    assert lost["by_stage"] == [{"stage": "需求确认", "count": 1}]
    assert {c["competitor"] for c in lost["by_competitor"]} == {"纷享销客", "销售易"}
    assert selectors.lost(actor=peer, period=JANUARY)["count"] == 0


def test_performance_receipts_and_finance_cards() -> None:
    import datetime as dt

    from guanxi.finance.tests import factories as finance_factories
    from guanxi.reports import dashboard

    admin = factories.admin()
    sales = factories.user("sales")
    contract = finance_factories.contract(sales, amount="1000.00")
    finance_factories.receipt(sales, contract, "300.00", received_on=dt.date(2026, 1, 10))
    finance_factories.receipt(sales, contract, "200.00", received_on=dt.date(2026, 2, 10))
    users = {r["user_id"]: r for r in selectors.performance(actor=admin, period=JANUARY)["users"]}
    assert users[sales.pk]["receipts"] == "300.00"
    cards = dashboard.finance_cards(actor=admin, period=JANUARY)
    assert cards["received"].current == Decimal("300.00")
    february = parse({"date_from": "2026-02-01", "date_to": "2026-02-28"})
    assert dashboard.finance_cards(actor=admin, period=february)["received"].previous == Decimal(
        "300.00"
    )
    assert cards["receivables"][0]["total"] == Decimal("500.00")
    # A salesperson sees their own receipts; a colleague none.
    other = factories.user("sales")
    assert dashboard.finance_cards(actor=other, period=JANUARY)["received"].current == 0


def test_performance_target_attainment() -> None:
    from guanxi.sales import targets

    admin = factories.admin()
    sales = factories.user("sales")
    deal_with_history(sales, "300", [("初步接触", at(1, 2)), ("赢单", at(1, 25))])
    targets.target_create(
        actor=admin,
        data={
            "measure": "won_amount",
            "user_id": sales.pk,
            "year": 2026,
            "month": 1,
            "value": "1200",
        },
    )
    month = parse({"period": "", "date_from": "2026-01-01", "date_to": "2026-01-31"})
    users = {r["user_id"]: r for r in selectors.performance(actor=admin, period=month)["users"]}
    # A custom range stands for the quarter of its start: Q1's target is January's 1200.
    assert users[sales.pk]["target_attainment"] == "25.0"
