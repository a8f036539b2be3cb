"""Money: Decimal amounts with an ISO 4217 currency, rounded half-up to the minor unit.

Never use floats for money. Every amount shown, stored or summed as a total goes through
:func:`quantize` for its currency, so the screen, the API and the PDF agree to the fen.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext_lazy as _

# Currencies offered in forms, with their minor-unit digits.
MINOR_UNITS: dict[str, int] = {
    "CNY": 2,
    "USD": 2,
    "EUR": 2,
    "HKD": 2,
    "GBP": 2,
    "JPY": 0,
    "KRW": 0,
}
DEFAULT_CURRENCY = "CNY"
SYMBOLS: dict[str, str] = {
    "CNY": "¥",
    "USD": "$",
    "EUR": "€",
    "HKD": "HK$",
    "GBP": "£",
    "JPY": "JP¥",
    "KRW": "₩",
}
CURRENCY_CHOICES: list[tuple[str, Any]] = [
    ("CNY", _("CNY — Chinese yuan")),
    ("USD", _("USD — US dollar")),
    ("EUR", _("EUR — euro")),
    ("HKD", _("HKD — Hong Kong dollar")),
    ("GBP", _("GBP — pound sterling")),
    ("JPY", _("JPY — Japanese yen")),
    ("KRW", _("KRW — South Korean won")),
]
HUNDRED = Decimal(100)


def minor_unit(currency: str) -> int:
    """Digits after the point for ``currency`` (unknown ISO codes: 2)."""
    return MINOR_UNITS.get(currency.upper(), 2)


def exponent(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_unit(currency))


def quantize(amount: Decimal, currency: str) -> Decimal:
    """``amount`` rounded half-up to ``currency``'s minor unit (¥0.005 → ¥0.01)."""
    return amount.quantize(exponent(currency), rounding=ROUND_HALF_UP)


def to_decimal(value: Any) -> Decimal:
    """A finite Decimal from a Decimal, int or string (never a float); ValueError otherwise."""
    if isinstance(value, float):
        raise ValueError("money must not be a float")
    try:
        result = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, TypeError) as exc:
        raise ValueError(f"not a number: {value!r}") from exc
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


def has_more_digits(amount: Decimal, currency: str) -> bool:
    """Whether ``amount`` has more decimals than ``currency`` allows (¥1.234, ¥1.5 JPY)."""
    return amount != amount.quantize(exponent(currency))


def format_money(amount: Decimal | None, currency: str, *, symbol: bool = True) -> str:
    """``¥1,234.50`` (grouped, rounded to the minor unit); an empty string for None."""
    if amount is None:
        return ""
    value = quantize(amount, currency)
    digits = minor_unit(currency)
    text = f"{value:,.{digits}f}"
    if not symbol:
        return text
    sign = SYMBOLS.get(currency.upper())
    if sign is None:
        return f"{currency} {text}"
    if text.startswith("-"):
        return f"-{sign}{text[1:]}"
    return f"{sign}{text}"
