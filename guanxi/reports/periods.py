"""Report periods: this week / month / quarter / year or a custom range, and the one before.

A period is a half-open range of days [start, end) in the current time zone; queries use the
aware datetimes of its bounds, so "this month" means the user's month, not UTC's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.core.errors import FieldError, ValidationFailed

PRESETS = [
    ("week", gettext_lazy("This week")),
    ("month", gettext_lazy("This month")),
    ("quarter", gettext_lazy("This quarter")),
    ("year", gettext_lazy("This year")),
    ("custom", gettext_lazy("Custom")),
]


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # exclusive
    preset: str = "custom"

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    @property
    def start_at(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.start, dt.time.min))

    @property
    def end_at(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.end, dt.time.min))

    def previous(self) -> Period:
        """The period of the same kind just before (same length for custom ranges)."""
        if self.preset == "month":
            return month_of(self.start - dt.timedelta(days=1))
        if self.preset == "quarter":
            return quarter_of(self.start - dt.timedelta(days=1))
        if self.preset == "year":
            return Period(dt.date(self.start.year - 1, 1, 1), self.start, "year")
        length = self.end - self.start
        return Period(self.start - length, self.start, self.preset)

    def query(self) -> str:
        return f"date_from={self.start:%Y-%m-%d}&date_to={self.last_day:%Y-%m-%d}"


def month_of(day: dt.date) -> Period:
    start = day.replace(day=1)
    end = dt.date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    return Period(start, end, "month")


def quarter_of(day: dt.date) -> Period:
    first = (day.month - 1) // 3 * 3 + 1
    start = dt.date(day.year, first, 1)
    end = dt.date(day.year + (first == 10), (first + 2) % 12 + 1, 1)
    return Period(start, end, "quarter")


def preset(name: str, today: dt.date | None = None) -> Period:
    today = today or timezone.localdate()
    if name == "week":
        start = today - dt.timedelta(days=today.weekday())
        return Period(start, start + dt.timedelta(days=7), "week")
    if name == "quarter":
        return quarter_of(today)
    if name == "year":
        return Period(dt.date(today.year, 1, 1), dt.date(today.year + 1, 1, 1), "year")
    return month_of(today)


def _date(field: str, value: Any) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationFailed([FieldError(field, _("Enter a date as YYYY-MM-DD."))]) from None


def parse(params: Any, default: str = "month") -> Period:
    """A period from ``period`` (week/month/quarter/year) or ``date_from``/``date_to``
    (inclusive days); 422 naming the field on a bad date or a reversed range."""
    name = str(params.get("period") or "").strip()
    date_from, date_to = params.get("date_from") or "", params.get("date_to") or ""
    if name and name not in dict(PRESETS):
        raise ValidationFailed(
            [FieldError("period", _("Choose one of: week, month, quarter, year, custom."))]
        )
    if (date_from or date_to) and name in ("", "custom"):
        base = preset(default)
        start = _date("date_from", date_from) if date_from else base.start
        last = _date("date_to", date_to) if date_to else base.last_day
        if last < start:
            raise ValidationFailed(
                [FieldError("date_to", _("The end date is before the start date."))]
            )
        if (last - start).days > 3660:
            raise ValidationFailed([FieldError("date_to", _("The range is at most ten years."))])
        return Period(start, last + dt.timedelta(days=1), "custom")
    return preset(name if name and name != "custom" else default)


def sales_period(period: Period) -> Any:
    """The sales forecast's month / quarter / year for a report period: the same one for
    the presets, the quarter of the start day for a week or a custom range."""
    from guanxi.sales import periods as sales_periods

    kind = {"month": sales_periods.MONTH, "year": sales_periods.YEAR}.get(
        period.preset, sales_periods.QUARTER
    )
    return sales_periods.current(kind, today=period.start)
