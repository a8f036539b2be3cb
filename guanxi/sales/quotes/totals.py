"""Quote arithmetic: one pure function the screen, the API and the PDF all render from.

Prices are net of tax. Per line: gross = quantity × unit price, rounded to the currency's
minor unit; discount = gross × discount %, rounded; net = gross − discount; tax = net ×
tax rate, rounded. Every total is the sum of the rounded line figures shown, so the
columns always add up to the fen, on screen and on paper.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from guanxi.core.money import HUNDRED, quantize

ZERO = Decimal(0)


class LineInput(Protocol):
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal
    tax_rate: Decimal


@dataclass(frozen=True)
class LineAmounts:
    gross: Decimal
    discount: Decimal
    net: Decimal
    tax: Decimal
    total: Decimal


@dataclass(frozen=True)
class TaxGroup:
    rate: Decimal
    net: Decimal
    tax: Decimal


@dataclass(frozen=True)
class Totals:
    currency: str
    lines: list[LineAmounts]
    subtotal: Decimal
    discount: Decimal
    net: Decimal
    tax: Decimal
    total: Decimal
    by_rate: list[TaxGroup] = field(default_factory=list)
    max_discount: Decimal = ZERO


def line_amounts(
    *, quantity: Decimal, unit_price: Decimal, discount: Decimal, tax_rate: Decimal, currency: str
) -> LineAmounts:
    gross = quantize(quantity * unit_price, currency)
    off = quantize(gross * discount / HUNDRED, currency)
    net = gross - off
    tax = quantize(net * tax_rate / HUNDRED, currency)
    return LineAmounts(gross=gross, discount=off, net=net, tax=tax, total=net + tax)


def compute(lines: Iterable[LineInput], currency: str) -> Totals:
    """Amounts per line, per tax rate (ascending) and overall, all in ``currency``."""
    amounts: list[LineAmounts] = []
    groups: dict[Decimal, list[Decimal]] = {}
    max_discount = ZERO
    for line in lines:
        a = line_amounts(
            quantity=line.quantity,
            unit_price=line.unit_price,
            discount=line.discount,
            tax_rate=line.tax_rate,
            currency=currency,
        )
        amounts.append(a)
        rate = line.tax_rate.normalize() if line.tax_rate else ZERO
        group = groups.setdefault(rate, [ZERO, ZERO])
        group[0] += a.net
        group[1] += a.tax
        max_discount = max(max_discount, line.discount)
    subtotal = sum((a.gross for a in amounts), ZERO)
    discount = sum((a.discount for a in amounts), ZERO)
    tax = sum((a.tax for a in amounts), ZERO)
    zero = quantize(ZERO, currency)
    return Totals(
        currency=currency,
        lines=amounts,
        subtotal=subtotal + zero,
        discount=discount + zero,
        net=subtotal - discount + zero,
        tax=tax + zero,
        total=subtotal - discount + tax + zero,
        by_rate=[TaxGroup(rate=r, net=g[0], tax=g[1]) for r, g in sorted(groups.items())],
        max_discount=max_discount,
    )
