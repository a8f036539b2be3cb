"""Money parsing for finance: Decimal amounts rounded half-up to the currency's minor unit."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

# ISO 4217 codes accepted for contracts, with their minor units.
MINOR_UNITS: dict[str, int] = {
    "CNY": 2,
    "HKD": 2,
    "TWD": 2,
    "MOP": 2,
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "JPY": 0,
    "KRW": 0,
    "SGD": 2,
    "AUD": 2,
    "CAD": 2,
    "CHF": 2,
}
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
    exp = Decimal(1).scaleb(-MINOR_UNITS.get(currency, 2))
    return amount.quantize(exp, rounding=ROUND_HALF_UP)


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
    """``¥12,000.50`` / ``USD 1,200.00`` for messages."""
    if amount is None:
        return "—"
    places = MINOR_UNITS.get(currency, 2)
    text = f"{amount:,.{places}f}"
    return f"¥{text}" if currency == "CNY" else f"{currency} {text}"
