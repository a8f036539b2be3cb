"""Funnel figures worked out by hand (see fixtures.funnel_fixture), and its scope."""

from __future__ import annotations

import pytest

from guanxi.core.errors import ValidationFailed
from guanxi.reports import selectors
from guanxi.reports.periods import parse
from guanxi.reports.tests.fixtures import funnel_fixture
from guanxi.tests_support import factories

pytestmark = pytest.mark.django_db

JANUARY = parse({"date_from": "2026-01-01", "date_to": "2026-01-31"})


def test_funnel_counts_skips_once_and_back_moves_once() -> None:
    sales = factories.user("sales")
    peer = factories.user("sales")
    funnel_fixture(sales, peer)
    result = selectors.funnel(actor=sales, period=JANUARY)
    rows = {r["stage"]: r for r in result["stages"]}
    assert [r["stage"] for r in result["stages"]] == [
        "初步接触",
        "需求确认",
        "方案/报价",
        "商务谈判",
    ]
    # 初步接触: d1 d2 d3 d4 (d5 did not move in January, d6 is the peer's).
    assert rows["初步接触"]["count"] == 4 and rows["初步接触"]["amount"] == "1000.00"
    # 需求确认: d1, d2 (skipped it, then came back: once), d3 (won: passed it), d4.
    assert rows["需求确认"]["count"] == 4 and rows["需求确认"]["conversion_rate"] == 1.0
    # 方案/报价: d1, d2 (skipped), d3 (won).
    assert rows["方案/报价"]["count"] == 3 and rows["方案/报价"]["amount"] == "600.00"
    assert rows["方案/报价"]["conversion_rate"] == 0.75
    # 商务谈判: d2, d3.
    assert rows["商务谈判"]["count"] == 2 and rows["商务谈判"]["conversion_rate"] == 0.6667
    assert rows["初步接触"]["conversion_rate"] is None
    # Days in stage of deals leaving it in January: A = (5 + 5 + 23 + 1) / 4, B = (10+3+2)/3,
    # C: nobody left it, D: d2 left it once after 4 days.
    assert rows["初步接触"]["avg_days_in_stage"] == 8.5
    assert rows["需求确认"]["avg_days_in_stage"] == 5.0
    assert rows["方案/报价"]["avg_days_in_stage"] is None
    assert rows["商务谈判"]["avg_days_in_stage"] == 4.0
    assert result["won"] == {
        "count": 1,
        "amount": "300.00",
        "conversion_rate": 0.5,
        "win_rate": 0.5,
    }
    assert result["lost"] == {"count": 1, "amount": "400.00", "rate": 0.5}


def test_funnel_scope_owner_and_department() -> None:
    sales_dept = factories.department("销售一部")
    sales = factories.user("sales", department=sales_dept)
    peer = factories.user("sales")
    manager = factories.user("manager", department=sales_dept)
    funnel_fixture(sales, peer)
    admin = factories.admin()
    first = lambda r: r["stages"][0]["count"]  # noqa: E731
    # The peer's deal shows to the admin only; the manager's subtree holds only ``sales``.
    assert first(selectors.funnel(actor=admin, period=JANUARY)) == 5
    assert first(selectors.funnel(actor=manager, period=JANUARY)) == 4
    assert first(selectors.funnel(actor=peer, period=JANUARY)) == 1
    assert first(selectors.funnel(actor=admin, period=JANUARY, owner=peer.pk)) == 1
    assert first(selectors.funnel(actor=admin, period=JANUARY, department=sales_dept.pk)) == 4
    # A salesperson asking for a colleague's deals still gets only what they may see.
    assert first(selectors.funnel(actor=peer, period=JANUARY, owner=sales.pk)) == 0


def test_funnel_other_period_and_bad_input() -> None:
    sales = factories.user("sales")
    funnel_fixture(sales, factories.user("sales"))
    feb = selectors.funnel(
        actor=sales, period=parse({"date_from": "2026-02-01", "date_to": "2026-02-28"})
    )
    # Only d5 moved in February (B → C): it reached 初步接触 … 方案/报价.
    assert [r["count"] for r in feb["stages"]] == [1, 1, 1, 0]
    with pytest.raises(ValidationFailed) as exc:
        selectors.funnel(actor=sales, period=JANUARY, pipeline="x")
    assert exc.value.errors[0].field == "pipeline"
    with pytest.raises(ValidationFailed) as exc:
        parse({"date_from": "2026-02-30"})
    assert exc.value.errors[0].field == "date_from"
    with pytest.raises(ValidationFailed) as exc:
        parse({"date_from": "2026-02-03", "date_to": "2026-02-01"})
    assert exc.value.errors[0].field == "date_to"
