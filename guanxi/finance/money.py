"""Money input for finance: amounts and currencies as users and integrations send them,
cleaned into ``guanxi.core.money`` terms (Decimal, half-up to the minor unit)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from guanxi.core import money as core_money

# The currencies of core.money (ISO 4217 with their minor units).
MINOR_UNITS = core_money.MINOR_UNITS
DEFAULT_CURRENCY = "CNY"
MAX_AMOUNT = Decimal("99999999999999.99")


def clean_currency(value: Any) -> str:
    """An ISO currency code (upper case); ValueError with a message otherwise."""
    code = str(value or DEFAULT_CURRENCY).strip().upper()
    if code not in MINOR_UNITS:
        raise ValueError(
            _("Unknown currency %(code)s; use one of %(all)s.")
            % {"code": code, "all": ", ".join(MINOR_UNITS)}
        )
    return code


def quantize(amount: Decimal, currency: str = DEFAULT_CURRENCY) -> Decimal:
    return core_money.quantize(amount, currency)


def clean_amount(
    value: Any, currency: str = DEFAULT_CURRENCY, *, allow_zero: bool = False
) -> Decimal:
    """A positive amount (or zero when allowed), rounded half-up to the minor unit.

    Accepts ``Decimal``, ``int`` and strings such as ``"12,000.50"``; floats are refused
    being inexact. Raises ValueError with a user-facing message.
    """
    if value is None or value == "":
        raise ValueError(_("This field is required."))
    if isinstance(value, float | bool):
        raise ValueError(_('Send amounts as decimal strings, e.g. "1200.50".'))
    text = str(value).strip().replace(",", "").replace("，", "").replace("¥", "")
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(_("Enter an amount, e.g. 1200.50.")) from exc
    if not amount.is_finite():
        raise ValueError(_("Enter an amount, e.g. 1200.50."))
    amount = quantize(amount, currency)
    if amount < 0 or (amount == 0 and not allow_zero):
        raise ValueError(_("The amount must be greater than zero."))
    if amount > MAX_AMOUNT:
        raise ValueError(_("The amount is too large."))
    return amount


def fmt(amount: Decimal | None, currency: str = DEFAULT_CURRENCY) -> str:
    """``¥12,000.50`` / ``$1,200.00`` for messages."""
    if amount is None:
        return "—"
    return core_money.format_money(amount, currency)
