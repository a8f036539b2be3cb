"""Money arithmetic of quotes: rounding half-up to the minor unit, totals that add up."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guanxi.core import money
from guanxi.sales.quotes.totals import compute, line_amounts

CURRENCIES = ["CNY", "USD", "EUR", "JPY"]


@dataclass
class Line:
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal
    tax_rate: Decimal


quantities = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(100000), places=4)
prices = st.decimals(min_value=Decimal(0), max_value=Decimal(10_000_000), places=2)
percents = st.decimals(min_value=Decimal(0), max_value=Decimal(100), places=2)
rates = st.sampled_from([Decimal(0), Decimal(3), Decimal(6), Decimal(9), Decimal(13)])
lines = st.lists(st.builds(Line, quantities, prices, percents, rates), min_size=0, max_size=12)


def _in_minor_unit(amount: Decimal, currency: str) -> bool:
    return amount == amount.quantize(money.exponent(currency))


@settings(max_examples=300, deadline=None)
@given(lines, st.sampled_from(CURRENCIES))
def test_totals_add_up_to_the_minor_unit(items: list[Line], currency: str) -> None:
    t = compute(items, currency)
    figures = [t.subtotal, t.discount, t.net, t.tax, t.total]
    for a in t.lines:
        figures += [a.gross, a.discount, a.net, a.tax, a.total]
        assert a.net == a.gross - a.discount
        assert a.total == a.net + a.tax
        assert Decimal(0) <= a.discount <= a.gross
    for g in t.by_rate:
        figures += [g.net, g.tax]
    assert all(_in_minor_unit(f, currency) for f in figures)
    assert t.subtotal == sum((a.gross for a in t.lines), Decimal(0))
    assert t.discount == sum((a.discount for a in t.lines), Decimal(0))
    assert t.tax == sum((a.tax for a in t.lines), Decimal(0))
    assert t.net == t.subtotal - t.discount
    assert t.total == t.net + t.tax
    assert sum((g.net for g in t.by_rate), Decimal(0)) == t.net
    assert sum((g.tax for g in t.by_rate), Decimal(0)) == t.tax
    assert t.max_discount == max((i.discount for i in items), default=Decimal(0))


@settings(max_examples=200, deadline=None)
@given(lines, st.sampled_from(CURRENCIES), st.randoms())
def test_order_of_lines_does_not_change_totals(
    items: list[Line], currency: str, rnd: object
) -> None:
    shuffled = list(items)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    a, b = compute(items, currency), compute(shuffled, currency)
    assert (a.subtotal, a.discount, a.tax, a.total) == (b.subtotal, b.discount, b.tax, b.total)


@settings(max_examples=200, deadline=None)
@given(quantities, prices, rates, st.sampled_from(CURRENCIES))
def test_line_matches_exact_arithmetic_within_half_a_unit(
    quantity: Decimal, price: Decimal, rate: Decimal, currency: str
) -> None:
    a = line_amounts(
        quantity=quantity, unit_price=price, discount=Decimal(0), tax_rate=rate, currency=currency
    )
    half = money.exponent(currency) / 2
    assert abs(a.gross - quantity * price) <= half
    assert abs(a.tax - a.net * rate / 100) <= half


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("0.005", "CNY", "0.01"),
        ("0.015", "CNY", "0.02"),
        ("2.675", "USD", "2.68"),  # a float would give 2.67
        ("-0.005", "CNY", "-0.01"),
        ("0.5", "JPY", "1"),
        ("1.4999", "JPY", "1"),
        ("99.994", "EUR", "99.99"),
    ],
)
def test_round_half_up(amount: str, currency: str, expected: str) -> None:
    assert money.quantize(Decimal(amount), currency) == Decimal(expected)
    assert str(money.quantize(Decimal(amount), currency)) == expected


def test_worked_example() -> None:
    """3 × ¥33.33 at 10 % off and 13 % VAT, plus 1 × ¥0.05 at 6 %: checked by hand."""
    t = compute(
        [
            Line(Decimal(3), Decimal("33.33"), Decimal(10), Decimal(13)),
            Line(Decimal(1), Decimal("0.05"), Decimal(0), Decimal(6)),
        ],
        "CNY",
    )
    # 99.99 gross; 9.999 → 10.00 off; 89.99 net; 11.6987 → 11.70 tax; 0.05 × 6 % = 0.003 → 0.00
    assert [(a.gross, a.discount, a.net, a.tax) for a in t.lines] == [
        (Decimal("99.99"), Decimal("10.00"), Decimal("89.99"), Decimal("11.70")),
        (Decimal("0.05"), Decimal("0.00"), Decimal("0.05"), Decimal("0.00")),
    ]
    assert (t.subtotal, t.discount, t.net, t.tax, t.total) == (
        Decimal("100.04"),
        Decimal("10.00"),
        Decimal("90.04"),
        Decimal("11.70"),
        Decimal("101.74"),
    )
    assert [(g.rate, g.net, g.tax) for g in t.by_rate] == [
        (Decimal(6), Decimal("0.05"), Decimal("0.00")),
        (Decimal(13), Decimal("89.99"), Decimal("11.70")),
    ]


def test_yen_has_no_minor_unit() -> None:
    t = compute([Line(Decimal(3), Decimal(333), Decimal("12.5"), Decimal(10))], "JPY")
    # 999 gross; 124.875 → 125 off; 874 net; 87.4 → 87 tax
    assert (t.subtotal, t.discount, t.tax, t.total) == (
        Decimal(999),
        Decimal(125),
        Decimal(87),
        Decimal(961),
    )


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        ("1234.5", "CNY", "¥1,234.50"),
        ("-3", "USD", "-$3.00"),
        ("1234.5", "JPY", "JP¥1,235"),
        ("1", "XYZ", "XYZ 1.00"),
    ],
)
def test_format_money(amount: str, currency: str, text: str) -> None:
    assert money.format_money(Decimal(amount), currency) == text


def test_floats_are_refused() -> None:
    with pytest.raises(ValueError, match="float"):
        money.to_decimal(0.1)
    with pytest.raises(ValueError):
        money.to_decimal("NaN")
    assert money.has_more_digits(Decimal("1.5"), "JPY")
    assert not money.has_more_digits(Decimal("1.50"), "CNY")
