"""Report builder: grouping with date buckets, measures, filters, scope and masking, saved
reports and the export — figures by hand."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest
from django.utils import timezone

from guanxi.core.errors import NotPermitted, OutOfScope, ValidationFailed
from guanxi.core.models import AuditEvent
from guanxi.identity.models import User
from guanxi.reports.builder import engine, selectors, services
from guanxi.sales.models import Deal
from guanxi.tests_support import crm_factories, factories
from guanxi.tests_support import org as org_support

pytestmark = pytest.mark.django_db


def won(owner: User, amount: str, when: dt.datetime) -> Deal:
    deal = crm_factories.deal(owner, amount=amount)
    Deal.objects.filter(pk=deal.pk).update(status=Deal.Status.WON, won_at=when)
    return deal


def day(m: int, d: int, h: int = 12) -> dt.datetime:
    return timezone.make_aware(dt.datetime(2026, m, d, h))


BY_MONTH = {
    "entity": "deal",
    "filters": [{"field": "status", "op": "eq", "value": "won"}],
    "dimensions": [{"field": "won_at", "bucket": "month"}],
    "measures": [
        {"op": "count"},
        {"op": "sum", "field": "amount"},
        {"op": "avg", "field": "amount"},
    ],
}


def fixture(o: org_support.Org) -> None:
    o.actor = o.give(o.actor, factories.role("sales"))
    won(o.actor, "100", day(1, 5))
    won(o.actor, "200", day(1, 31, 20))  # 20:00 in Shanghai: still January
    won(o.actor, "50.5", day(3, 2))
    won(o.peer, "1000", day(1, 10))
    crm_factories.deal(o.actor, amount="777")  # open: filtered out


def test_group_by_month_with_count_sum_average_in_scope() -> None:
    o = org_support.build()
    fixture(o)
    result = engine.run(actor=o.actor, definition=BY_MONTH)
    table = [([c["label"] for c in r["dimensions"]], r["values"]) for r in result["rows"]]
    assert table == [
        (["2026-01"], [2, Decimal("300.00"), Decimal("150.00")]),
        (["2026-03"], [1, Decimal("50.50"), Decimal("50.50")]),
    ]
    assert result["totals"] == [3, Decimal("350.50"), Decimal("116.83")]
    boss = engine.run(actor=o.admin, definition=BY_MONTH)
    assert boss["rows"][0]["values"][:2] == [3, Decimal("1300.00")]


def test_two_dimensions_week_and_owner_and_distinct() -> None:
    o = org_support.build()
    fixture(o)
    result = engine.run(
        actor=o.admin,
        definition={
            **BY_MONTH,
            "dimensions": [{"field": "won_at", "bucket": "quarter"}, {"field": "owner"}],
            "measures": [{"op": "distinct", "field": "account"}],
        },
    )
    table = [
        tuple(c["label"] for c in r["dimensions"]) + tuple(r["values"]) for r in result["rows"]
    ]
    assert sorted(table) == sorted([("2026-Q1", o.actor.label, 3), ("2026-Q1", o.peer.label, 1)])
    weeks = engine.run(
        actor=o.actor,
        definition={**BY_MONTH, "dimensions": [{"field": "won_at", "bucket": "week"}]},
    )
    assert [r["dimensions"][0]["label"] for r in weeks["rows"]] == [
        "2026-W02",
        "2026-W05",
        "2026-W10",
    ]


def test_masked_amounts_stay_masked() -> None:
    o = org_support.build()
    role = org_support.role(
        o.admin,
        {"deal": {"actions": ["view", "export"], "scope": "own", "masked_fields": ["amount"]}},
    )
    fixture(o)
    masked = o.give(o.actor, role)
    result = engine.run(actor=masked, definition=BY_MONTH)
    assert result["rows"][0]["values"][0] == 2
    assert "300" not in str(result["rows"][0]["values"][1])
    out = io.BytesIO()
    assert services.report_export(actor=masked, definition=BY_MONTH, out=out) == 2
    text = out.getvalue().decode("utf-8-sig")
    assert "300.00" not in text and "2026-01" in text
    entry = AuditEvent.objects.get(action="export")
    assert entry.changes["masked"] == ["amount"] and entry.changes["rows"] == 2


def test_drill_down_lists_the_cell_records_in_scope() -> None:
    o = org_support.build()
    fixture(o)
    result = engine.run(actor=o.actor, definition=BY_MONTH)
    url = result["rows"][0]["drill"]
    definition = parse_qs(urlparse(url).query)["definition"][0]
    _d, page = engine.records(actor=o.actor, definition=definition)
    assert sorted(str(x.amount) for x in page.items) == ["100.00", "200.00"]
    _d, page = engine.records(actor=o.admin, definition=definition)
    assert len(page.items) == 3  # the peer's January deal too


def test_bad_definitions_name_the_field() -> None:
    o = org_support.build()
    cases = [
        ({"entity": "invoice"}, "entity"),
        ({"entity": "deal", "dimensions": [{"field": "owner__password"}]}, "dimensions[0].field"),
        (
            {"entity": "deal", "dimensions": [{"field": "won_at", "bucket": "hour"}]},
            "dimensions[0].bucket",
        ),
        ({"entity": "deal", "measures": [{"op": "sum", "field": "status"}]}, "measures[0].field"),
        (
            {"entity": "deal", "filters": [{"field": "amount", "op": "gte", "value": "x"}]},
            "filters[0]",
        ),
        (
            {"entity": "deal", "filters": [{"field": "status", "op": "eq", "value": "maybe"}]},
            "filters[0]",
        ),
        (
            {"entity": "lead", "filters": [{"field": "custom.nope", "op": "eq", "value": "1"}]},
            "custom.nope",
        ),
    ]
    for definition, field in cases:
        with pytest.raises(ValidationFailed) as err:
            engine.run(actor=o.admin, definition=definition)
        assert err.value.errors[0].field == field, definition


def test_saved_reports_shared_with_roles() -> None:
    o = org_support.build()
    sales_role = factories.role("sales")
    report = services.saved_report_create(
        actor=o.boss, data={"name": "月度赢单", "definition": BY_MONTH}
    )
    with pytest.raises(OutOfScope):
        selectors.saved_report_get(actor=o.peer, pk=report.pk)
    services.saved_report_update(actor=o.boss, report=report, data={"shared_roles": ["sales"]})
    assert selectors.saved_report_get(actor=o.peer, pk=report.pk).name == "月度赢单"
    assert o.service not in sales_role.users.all()
    with pytest.raises(OutOfScope):
        selectors.saved_report_get(actor=o.service, pk=report.pk)
    with pytest.raises(NotPermitted):
        services.saved_report_update(actor=o.peer, report=report, data={"name": "x"})
    with pytest.raises(ValidationFailed):
        services.saved_report_update(actor=o.boss, report=report, data={"shared_roles": ["nope"]})
    services.saved_report_delete(actor=o.boss, report=report)
    assert AuditEvent.objects.filter(entity="saved_report").count() == 3


def test_export_csv_neutralises_formulas() -> None:
    admin = factories.admin()
    crm_factories.lead(admin, city="=HYPERLINK(1)")
    out = io.BytesIO()
    services.report_export(
        actor=admin,
        definition={"entity": "lead", "dimensions": [{"field": "city"}]},
        out=out,
    )
    rows = list(csv.reader(io.StringIO(out.getvalue().decode("utf-8-sig"))))
    assert rows[1] == ["'=HYPERLINK(1)", "1"]


def test_receipts_by_month_for_finance() -> None:
    from guanxi.finance.tests import factories as finance_factories

    admin = factories.admin()
    finance_factories.settings()
    c = finance_factories.contract(admin, plan=[("2026-02-01", "30000.00")])
    finance_factories.receipt(admin, c, "1000.00", received_on=dt.date(2026, 2, 1))
    finance_factories.receipt(admin, c, "500.00", received_on=dt.date(2026, 2, 20))
    finance_factories.receipt(admin, c, "250.00", received_on=dt.date(2026, 3, 1))
    result = engine.run(
        actor=admin,
        definition={
            "entity": "receipt",
            "dimensions": [{"field": "received_on", "bucket": "month"}],
            "measures": [{"op": "sum", "field": "amount"}],
        },
    )
    assert [(r["dimensions"][0]["label"], r["values"][0]) for r in result["rows"]] == [
        ("2026-02", Decimal("1500.00")),
        ("2026-03", Decimal("250.00")),
    ]
    contracts = engine.run(
        actor=admin, definition={"entity": "contract", "dimensions": [{"field": "status"}]}
    )
    assert [r["values"][0] for r in contracts["rows"]] == [1]
    with pytest.raises(NotPermitted):
        engine.run(actor=factories.user("service"), definition={"entity": "receipt"})
