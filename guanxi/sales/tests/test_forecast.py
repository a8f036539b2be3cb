"""Forecast and attainment, with every expected figure worked out by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from guanxi.core.errors import NotPermitted
from guanxi.identity.models import User
from guanxi.sales import forecast, targets
from guanxi.sales.models import Pipeline, SalesTarget
from guanxi.sales.periods import parse
from guanxi.sales.tests.forecast_fixtures import at, deal
from guanxi.tests_support import factories, org

pytestmark = pytest.mark.django_db

WON = SalesTarget.Measure.WON_AMOUNT.value
NEW = SalesTarget.Measure.NEW_CUSTOMERS.value
Q4 = parse("2026-Q4")


@pytest.fixture
def o() -> org.Org:
    o = org.build()
    # peer (销售部), CNY and USD
    deal(o.peer, 100000, status="won", won_at=at(2026, 10, 15))  # committed
    deal(o.peer, 50000, status="won", won_at=at(2026, 9, 30, 23, 30))  # Q3 (Beijing time)
    deal(o.peer, 20000, status="won", won_at=at(2026, 12, 31, 23, 30))  # last minutes of Q4
    deal(o.peer, 7000, status="won", won_at=at(2027, 1, 1, 0, 10))  # already 2027 in Beijing
    deal(o.peer, 80000, probability=25, close=dt.date(2026, 11, 20))  # stage says 10 %
    deal(o.peer, 10000, currency="USD", probability=50, close=dt.date(2026, 12, 1))
    deal(o.peer, 99999, status="lost", close=dt.date(2026, 11, 1))  # lost: never counts
    deal(o.peer, 30000, probability=90, close=dt.date(2027, 1, 5))  # next quarter
    # east (华东区)
    deal(o.east, 40000, status="won", won_at=at(2026, 11, 2))
    deal(o.east, 60000, probability=70, close=dt.date(2026, 10, 31))
    return o


def line_of(report: forecast.Forecast, label: str, currency: str = "CNY") -> forecast.ForecastLine:
    return next(ln for ln in report.lines if ln.label == label and ln.currency == currency)


def set_targets(
    actor: User, kind: str, subject_id: int, months: dict[int, str], measure: str = WON
) -> None:
    currency = "CNY" if measure != NEW else ""
    targets.target_grid_save(
        actor=actor,
        measure=measure,
        year=2026,
        rows=[targets.GridRow(kind, subject_id, currency, dict(months))],
    )


def test_forecast_by_owner(o: org.Org) -> None:
    set_targets(o.admin, "user", o.peer.pk, {10: "50000", 11: "50000", 12: "50000"})
    set_targets(o.admin, "user", o.boss.pk, {12: "1000"})  # a target, no deals yet
    report = forecast.deal_forecast(actor=o.admin, period=Q4, group_by="owner")
    boss = line_of(report, o.boss.label)
    assert (boss.committed, boss.best_case, boss.target) == (0, 0, Decimal("1000"))
    assert boss.attainment == Decimal("0.0")
    assert line_of(forecast.deal_forecast(actor=o.peer, period=Q4), o.peer.label).target == Decimal(
        "150000"
    )
    assert o.boss.label not in {
        ln.label for ln in forecast.deal_forecast(actor=o.peer, period=Q4).lines
    }
    peer = line_of(report, o.peer.label)
    assert peer.committed == Decimal("120000")  # 100,000 + 20,000
    assert peer.won_count == 2
    assert peer.open_amount == Decimal("80000")
    assert peer.weighted == Decimal("20000")  # 80,000 × 25 % (the deal's, not the stage's)
    assert peer.best_case == Decimal("200000")
    assert peer.target == Decimal("150000")
    assert peer.attainment == Decimal("80.0")
    usd = line_of(report, o.peer.label, "USD")
    assert (usd.committed, usd.weighted, usd.best_case) == (0, Decimal("5000"), Decimal("10000"))
    assert usd.target is None
    east = line_of(report, o.east.label)
    assert (east.committed, east.weighted, east.best_case) == (
        Decimal("40000"),
        Decimal("42000"),
        Decimal("100000"),
    )
    totals = {t.currency: t for t in report.totals}
    assert list(totals) == ["CNY", "USD"]  # CNY first, never added to USD
    assert totals["CNY"].committed == Decimal("160000")
    assert totals["CNY"].weighted == Decimal("62000")
    assert totals["CNY"].best_case == Decimal("300000")
    assert totals["CNY"].target == Decimal("151000")
    assert totals["USD"].best_case == Decimal("10000")

    data = report.as_dict()
    row = next(r for r in data["rows"] if r["group"]["id"] == o.peer.pk and r["currency"] == "CNY")
    assert row["committed"] == "120000.00" and row["weighted"] == "20000.00"
    assert row["best_case"] == "200000.00" and row["attainment"] == "80.0"


def test_forecast_months_of_the_quarter(o: org.Org) -> None:
    report = forecast.deal_forecast(actor=o.admin, period=Q4, group_by="owner")
    months = {(m.id, m.currency): m for m in report.months}
    assert months[("2026-10", "CNY")].committed == Decimal("100000")
    assert months[("2026-10", "CNY")].weighted == Decimal("42000")
    assert months[("2026-11", "CNY")].committed == Decimal("40000")
    assert months[("2026-11", "CNY")].weighted == Decimal("20000")
    assert months[("2026-12", "CNY")].committed == Decimal("20000")
    assert months[("2026-12", "USD")].best_case == Decimal("10000")
    assert forecast.deal_forecast(actor=o.admin, period=parse("2026-10")).months == []


def test_forecast_by_department_rolls_up_the_tree(o: org.Org) -> None:
    set_targets(o.admin, "department", o.sales_dept.pk, {10: "100000", 11: "100000", 12: "120000"})
    report = forecast.deal_forecast(actor=o.admin, period=Q4, group_by="department")
    sales = line_of(report, "销售部")
    assert sales.committed == Decimal("160000")  # peer + east (华东区 is below 销售部)
    assert sales.target == Decimal("320000") and sales.attainment == Decimal("50.0")
    east = line_of(report, "华东区")
    assert east.committed == Decimal("40000") and east.depth == sales.depth + 1
    assert line_of(report, "销售部", "USD").weighted == Decimal("5000")


def test_forecast_by_pipeline_and_pipeline_filter(o: org.Org) -> None:
    renewal = Pipeline.objects.get(is_default=False)
    deal(o.peer, 5000, status="won", won_at=at(2026, 10, 2), pipeline=renewal)
    report = forecast.deal_forecast(actor=o.admin, period=Q4, group_by="pipeline")
    assert line_of(report, renewal.label).committed == Decimal("5000")
    default = Pipeline.objects.get(is_default=True)
    assert line_of(report, default.label).committed == Decimal("160000")
    only = forecast.deal_forecast(actor=o.admin, period=Q4, pipeline=renewal)
    assert [t.committed for t in only.totals] == [Decimal("5000")]


def test_weighted_rounds_once_half_up() -> None:
    o = org.build()
    deal(o.peer, "0.50", probability=15, close=dt.date(2026, 10, 10))  # 0.075
    deal(o.peer, "0.10", probability=15, close=dt.date(2026, 10, 11))  # 0.015
    report = forecast.deal_forecast(actor=o.admin, period=Q4)
    assert report.as_dict()["totals"][0]["weighted"] == "0.09"  # 0.090, not 0.08 + 0.02


def test_salesperson_forecast_is_own_deals_only(o: org.Org, api_client: Any) -> None:
    report = forecast.deal_forecast(actor=o.peer, period=Q4)
    assert {ln.id for ln in report.lines} == {o.peer.pk}
    assert {t.currency: t.committed for t in report.totals} == {
        "CNY": Decimal("120000"),
        "USD": Decimal("0"),
    }
    body = api_client.login(o.peer).get("forecast", period="2026-Q4").json()
    assert {r["group"]["id"] for r in body["rows"]} == {o.peer.pk}


def test_forecast_without_deal_access_is_refused(o: org.Org) -> None:
    nobody = o.give(o.actor)
    with pytest.raises(NotPermitted):
        forecast.deal_forecast(actor=nobody, period=Q4)


def test_masked_amounts_stay_hidden(o: org.Org) -> None:
    role = org.role(
        o.admin,
        {"deal": {"actions": ["view"], "scope": "all", "masked_fields": ["amount"]}},
    )
    viewer = o.give(o.actor, role)
    data = forecast.deal_forecast(actor=viewer, period=Q4).as_dict()
    assert data["amount_masked"] is True
    assert {r["committed"] for r in data["rows"]} == {"****"}
    assert all(r["attainment"] is None for r in data["rows"])


# --- Attainment --------------------------------------------------------------------------


@pytest.fixture
def ranked(o: org.Org) -> org.Org:
    set_targets(o.admin, "user", o.peer.pk, {10: "50000", 11: "50000", 12: "50000"})  # 80 %
    set_targets(o.admin, "user", o.east.pk, {10: "100000"})  # 40,000 / 100,000 = 40 %
    o.actor = o.give(o.actor, factories.role("sales"))
    set_targets(o.admin, "user", o.actor.pk, {11: "10000"})  # nothing won: 0 %
    set_targets(o.admin, "department", o.sales_dept.pk, {10: "100000", 11: "100000", 12: "120000"})
    return o


def test_attainment_percentages_and_ranks(ranked: org.Org) -> None:
    o = ranked
    report = forecast.attainment(actor=o.admin, period=Q4, measure=WON)
    lines = {ln.id: ln for ln in report.users}
    peer, east, actor = lines[o.peer.pk], lines[o.east.pk], lines[o.actor.pk]
    assert (peer.actual, peer.target, peer.percent) == (
        Decimal("120000"),
        Decimal("150000"),
        Decimal("80.0"),
    )
    assert (east.actual, east.percent) == (Decimal("40000"), Decimal("40.0"))
    assert (actor.actual, actor.percent) == (Decimal("0"), Decimal("0.0"))
    assert peer.others == {}  # the USD deal is open, not won
    assert [ln.id for ln in report.users] == [o.peer.pk, o.east.pk, o.actor.pk]
    assert (peer.company_rank, east.company_rank, actor.company_rank) == (1, 2, 3)
    assert peer.company_of == 3
    assert (peer.rank, peer.rank_of) == (1, 2)  # 销售部: peer and actor
    assert (actor.rank, actor.rank_of) == (2, 2)
    assert (east.rank, east.rank_of) == (1, 1)  # alone in 华东区
    depts = {ln.label: ln for ln in report.departments}
    assert depts["销售部"].actual == Decimal("160000")
    assert depts["销售部"].percent == Decimal("50.0")
    assert depts["华东区"].actual == Decimal("40000") and depts["华东区"].target is None


def test_salesperson_sees_own_line_and_rank_only(ranked: org.Org, api_client: Any) -> None:
    o = ranked
    report = forecast.attainment(actor=o.peer, period=Q4, measure=WON)
    assert [ln.id for ln in report.users] == [o.peer.pk]
    assert report.departments == []
    assert report.me is not None
    assert (report.me.rank, report.me.rank_of) == (1, 2)
    assert (report.me.company_rank, report.me.company_of) == (1, 3)
    body = api_client.login(o.peer).get("attainment", period="2026-Q4").json()
    assert [u["id"] for u in body["users"]] == [o.peer.pk]
    assert body["departments"] == []
    assert body["me"]["company_rank"] == 1 and body["me"]["actual"] == "120000.00"
    text = str(body)
    assert "40000" not in text and o.east.label not in text


def test_manager_sees_own_subtree(ranked: org.Org) -> None:
    o = ranked
    east_manager = factories.user("manager", department=o.east_dept, username="eastboss")
    report = forecast.attainment(actor=east_manager, period=Q4, measure=WON)
    assert {ln.id for ln in report.users} == {o.east.pk}  # the manager has no result
    assert report.me is not None and report.me.target is None
    assert [ln.label for ln in report.departments] == ["华东区"]
    sales_manager = factories.user("manager", department=o.sales_dept, username="salesboss")
    report = forecast.attainment(actor=sales_manager, period=Q4, measure=WON)
    assert {ln.id for ln in report.users} == {o.peer.pk, o.east.pk, o.actor.pk}
    assert [ln.label for ln in report.departments] == ["销售部", "华东区"]


def test_new_customers_count_first_wins_only(o: org.Org) -> None:
    old = deal(o.peer, 1000, status="won", won_at=at(2026, 8, 1))  # account won before Q4
    deal(o.peer, 2000, status="won", won_at=at(2026, 10, 9), account_id=old.account_id)
    first = deal(o.east, 3000, status="won", won_at=at(2026, 10, 3))
    # peer wins the same account later in the quarter: still east's new customer
    deal(
        o.peer, 4000, status="won", won_at=at(2026, 11, 3), account_id=first.account_id, by=o.admin
    )
    set_targets(o.admin, "user", o.east.pk, {10: "4"}, measure=NEW)
    report = forecast.attainment(actor=o.admin, period=Q4, measure=NEW)
    lines = {ln.id: ln for ln in report.users}
    # east: the new account above + its own account from the fixture (won 2026-11-02)
    assert lines[o.east.pk].actual == 2
    assert lines[o.east.pk].percent == Decimal("50.0")
    assert lines[o.east.pk].currency == ""
    # peer: accounts first won on 10-15 and 12-31 in the fixture; not the Q3 account
    assert lines[o.peer.pk].actual == 2
    api = report.as_dict()
    assert next(u for u in api["users"] if u["id"] == o.east.pk)["actual"] == 2


def test_attainment_groups_other_currencies(o: org.Org) -> None:
    deal(o.east, 900, currency="USD", status="won", won_at=at(2026, 12, 1))
    set_targets(o.admin, "user", o.east.pk, {12: "80000"})
    line = next(
        ln
        for ln in forecast.attainment(actor=o.admin, period=Q4, measure=WON).users
        if ln.id == o.east.pk
    )
    assert line.currency == "CNY" and line.actual == Decimal("40000")
    assert line.others == {"USD": Decimal("900")}
    assert line.percent == Decimal("50.0")


def test_receipts_attainment(o: org.Org, api_client: Any) -> None:
    from guanxi.finance.tests import factories as finance

    finance.settings(threshold="1000000.00")
    mine = finance.contract(o.peer, amount="30000.00")
    finance.receipt(o.peer, mine, "10000.00", received_on=dt.date(2026, 10, 10))
    finance.receipt(o.peer, mine, "5000.00", received_on=dt.date(2026, 9, 30))  # Q3
    theirs = finance.contract(o.east, amount="20000.00", currency="USD")
    finance.receipt(o.east, theirs, "3000.00", received_on=dt.date(2026, 11, 1))
    set_targets(o.admin, "user", o.peer.pk, {10: "10000", 11: "5000", 12: "5000"}, "receipts")
    report = forecast.attainment(actor=o.admin, period=Q4, measure="receipts")
    lines = {ln.id: ln for ln in report.users}
    assert (lines[o.peer.pk].actual, lines[o.peer.pk].percent) == (
        Decimal("10000"),
        Decimal("50.0"),
    )
    assert (lines[o.east.pk].currency, lines[o.east.pk].actual) == ("USD", Decimal("3000"))
    assert lines[o.east.pk].percent is None
    depts = {ln.label: ln for ln in report.departments}
    assert depts["销售部"].actual == Decimal("10000")
    assert depts["销售部"].others == {"USD": Decimal("3000")}
    body = api_client.login(o.peer).get("attainment", period="2026-Q4", measure="receipts")
    assert body.status_code == 200
    assert [u["id"] for u in body.json()["users"]] == [o.peer.pk]
    assert body.json()["me"]["actual"] == "10000.00"
