"""Turning spreadsheet cells into field values: dates in the shapes people type, Excel
serial numbers, tiers written as "A（重点客户）", tags, whole numbers.

Each function returns the value or raises ValueError with a message for the user.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

from django.utils.translation import gettext as _

from guanxi.importing.reader import Cell, cell_text

EXCEL_EPOCH = dt.datetime(1899, 12, 30)  # noqa: DTZ001  (naive: the importer makes it aware)
DATE_ORDERS = ("MDY", "DMY")

_CN_DATE = re.compile(
    r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?"
    r"(?:\s*(\d{1,2})\s*[:：时点]\s*(\d{1,2})?\s*分?(?:\s*[:：]?\s*(\d{1,2})\s*秒?)?)?$"
)
_YMD = re.compile(
    r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"
    r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*([AaPp][Mm])?)?(?:Z|[+-]\d{2}:?\d{2})?$"
)
_XY_YEAR = re.compile(
    r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})"
    r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?$"
)
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")


def _clock(hour: str | None, minute: str | None, second: str | None, ampm: str | None) -> dt.time:
    h = int(hour or 0)
    m = int(minute or 0)
    s = int(second or 0)
    if ampm:
        if not 1 <= h <= 12:
            raise ValueError
        h = h % 12 + (12 if ampm.lower() == "pm" else 0)
    return dt.time(h, m, s)


def parse_datetime(value: Cell, *, order: str = "MDY") -> dt.datetime | None:
    """A naive datetime from a cell (None when empty). ``order`` settles 01/05/2026."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)  # noqa: DTZ001
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _serial(float(value))
    text = str(value).strip()
    if not text:
        return None
    try:
        if _NUMBER.match(text) and not _COMPACT.match(text):
            return _serial(float(text))
        if m := _COMPACT.match(text):
            return dt.datetime(int(m[1]), int(m[2]), int(m[3]))  # noqa: DTZ001
        if m := _CN_DATE.match(text):
            return dt.datetime.combine(
                dt.date(int(m[1]), int(m[2]), int(m[3])), _clock(m[4], m[5], m[6], None)
            )
        if m := _YMD.match(text):
            return dt.datetime.combine(
                dt.date(int(m[1]), int(m[2]), int(m[3])), _clock(m[4], m[5], m[6], m[7])
            )
        if m := _XY_YEAR.match(text):
            a, b = int(m[1]), int(m[2])
            month, day = (a, b) if order == "MDY" else (b, a)
            if month > 12 and day <= 12:
                month, day = day, month  # 25/12/2026 is unambiguous whatever the order
            return dt.datetime.combine(
                dt.date(int(m[3]), month, day), _clock(m[4], m[5], m[6], m[7])
            )
    except ValueError:
        pass
    raise ValueError(
        _("Not a date: %(v)s (use 2026-01-05, 2026/1/5, 2026年1月5日 or 01/05/2026 09:30 PM).")
        % {"v": text[:40]}
    )


def _serial(number: float) -> dt.datetime:
    """Excel's serial day number (1 = 1900-01-01; the 1900 leap-year bug included)."""
    if not 1 <= number < 2958466:
        raise ValueError(_("Not a date: %(v)s.") % {"v": cell_text(number)})
    return EXCEL_EPOCH + dt.timedelta(days=number)


def aware(value: dt.datetime, zone: str) -> dt.datetime:
    return value.replace(tzinfo=zoneinfo.ZoneInfo(zone))


def parse_date(value: Cell, *, order: str = "MDY") -> dt.date | None:
    parsed = parse_datetime(value, order=order)
    return parsed.date() if parsed else None


def parse_tier(value: Cell) -> str:
    """A / B / C from "A", "a级", "A（重点客户）", "A类"; '' when empty."""
    text = cell_text(value).strip().upper()
    if not text:
        return ""
    if text[0] in "ABC" and (len(text) == 1 or not text[1].isascii() or not text[1].isalpha()):
        return text[0]
    words = {"重点": "A", "普通": "B", "一般": "B", "非优先": "C", "低": "C"}
    for word, tier in words.items():
        if word in text:
            return tier
    raise ValueError(_("Not a tier (A, B or C): %(v)s.") % {"v": text[:40]})


def parse_tags(value: Cell) -> list[str]:
    text = cell_text(value)
    if not text:
        return []
    tags: list[str] = []
    for item in re.split(r"[,，;；、|]", text):
        tag = item.strip()
        if len(tag) > 50:
            raise ValueError(_("A tag has at most 50 characters."))
        if tag and tag not in tags:
            tags.append(tag)
    return tags


def parse_integer(value: Cell) -> int:
    if value is None or value == "":
        return 0
    if isinstance(value, float) and value.is_integer():
        return int(value)
    try:
        return int(cell_text(value))
    except ValueError as exc:
        raise ValueError(_("Enter a whole number.")) from exc
