"""Reporting periods (month, quarter, year) for targets, attainment and the forecast.

A period is written ``2026`` (year), ``2026-Q4`` (quarter) or ``2026-11`` (month). Its
boundaries are calendar dates in the company's time zone (``settings.TIME_ZONE``), so a
deal won at 2026-09-30 23:30 Beijing time counts for September everywhere, whatever the
viewer's own time zone.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.errors import FieldError, ValidationFailed

MONTH, QUARTER, YEAR = "month", "quarter", "year"
KINDS = (MONTH, QUARTER, YEAR)
MIN_YEAR, MAX_YEAR = 2000, 2100

_PATTERN = re.compile(r"^(\d{4})(?:-(?:[Qq]([1-4])|(\d{1,2})))?$")


@dataclass(frozen=True)
class Period:
    """A month, quarter or year; ``start`` inclusive, ``end`` exclusive (dates)."""

    kind: str
    year: int
    number: int  # month 1-12, quarter 1-4, or 0 for a year

    @property
    def key(self) -> str:
        if self.kind == MONTH:
            return f"{self.year}-{self.number:02d}"
        if self.kind == QUARTER:
            return f"{self.year}-Q{self.number}"
        return str(self.year)

    @property
    def months(self) -> list[int]:
        """The months (1-12) of ``year`` the period covers."""
        if self.kind == MONTH:
            return [self.number]
        if self.kind == QUARTER:
            first = (self.number - 1) * 3 + 1
            return [first, first + 1, first + 2]
        return list(range(1, 13))

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, self.months[0], 1)

    @property
    def end(self) -> dt.date:
        """The first day after the period."""
        last = self.months[-1]
        return dt.date(self.year + 1, 1, 1) if last == 12 else dt.date(self.year, last + 1, 1)

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """Aware datetimes [start, end) at midnight in the company's time zone."""
        zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        return (
            dt.datetime.combine(self.start, dt.time.min, tzinfo=zone),
            dt.datetime.combine(self.end, dt.time.min, tzinfo=zone),
        )

    @property
    def label(self) -> str:
        if self.kind == MONTH:
            return _("%(year)s-%(month)02d") % {"year": self.year, "month": self.number}
        if self.kind == QUARTER:
            return _("Q%(quarter)s %(year)s") % {"quarter": self.number, "year": self.year}
        return _("Year %(year)s") % {"year": self.year}

    def shifted(self, steps: int) -> Period:
        """The period ``steps`` periods of the same kind later (earlier when negative)."""
        if self.kind == YEAR:
            return Period(YEAR, self.year + steps, 0)
        size = 12 if self.kind == MONTH else 4
        index = self.year * size + (self.number - 1) + steps
        return Period(self.kind, index // size, index % size + 1)

    def month_periods(self) -> list[Period]:
        return [Period(MONTH, self.year, m) for m in self.months]

    def __str__(self) -> str:
        return self.key


def parse(value: str | None, *, field: str = "period", default: Period | None = None) -> Period:
    """``2026``, ``2026-Q4`` or ``2026-11`` → Period; ValidationFailed naming ``field``."""
    text = (value or "").strip()
    if not text:
        if default is not None:
            return default
        raise ValidationFailed([FieldError(field, _("This field is required."))])
    match = _PATTERN.match(text)
    if match is None:
        raise ValidationFailed(
            [FieldError(field, _("Use a year (2026), a quarter (2026-Q4) or a month (2026-11)."))]
        )
    year = int(match.group(1))
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValidationFailed(
            [
                FieldError(
                    field,
                    _("The year must be between %(min)s and %(max)s.")
                    % {"min": MIN_YEAR, "max": MAX_YEAR},
                )
            ]
        )
    if match.group(2):
        return Period(QUARTER, year, int(match.group(2)))
    if match.group(3):
        month = int(match.group(3))
        if not 1 <= month <= 12:
            raise ValidationFailed([FieldError(field, _("The month must be between 1 and 12."))])
        return Period(MONTH, year, month)
    return Period(YEAR, year, 0)


def company_today() -> dt.date:
    return timezone.now().astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE)).date()


def current(kind: str = QUARTER, today: dt.date | None = None) -> Period:
    """The month, quarter or year that contains ``today`` (company time zone)."""
    day = today or company_today()
    if kind == MONTH:
        return Period(MONTH, day.year, day.month)
    if kind == QUARTER:
        return Period(QUARTER, day.year, (day.month - 1) // 3 + 1)
    return Period(YEAR, day.year, 0)
