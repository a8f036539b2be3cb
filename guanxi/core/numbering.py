"""Gap-free document numbers (quotes, contracts, invoices …): ``Q-2026-0001``.

A number is taken inside the caller's transaction while the sequence row is locked
(``SELECT … FOR UPDATE`` on PostgreSQL; SQLite serialises writers because every
transaction starts IMMEDIATE). Concurrent creates therefore queue on the row, each gets
the next number, and a create that rolls back releases its number with it: no gaps, no
duplicates. The counter restarts every year (in the site's time zone).

Sequences are declared once with :func:`define` (key, label, default pattern);
administrators may store another pattern per key (:func:`pattern_save`).
"""

from __future__ import annotations

import datetime as dt
import string
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core import audit, permissions
from guanxi.core.errors import FieldError, NotPermitted, ValidationFailed
from guanxi.core.models import NumberPattern, NumberSequence

if TYPE_CHECKING:
    from guanxi.identity.models import User

# Placeholders a pattern may use; ``seq`` is required.
FIELDS = ("year", "yy", "seq")
MAX_PATTERN_LENGTH = 60


@dataclass(frozen=True)
class Sequence:
    key: str
    label: Any
    default_pattern: str


_sequences: dict[str, Sequence] = {}


def define(key: str, label: Any, default_pattern: str) -> Sequence:
    """Declare a sequence (in ``AppConfig.ready``) so admins can see and change its pattern."""
    validate_pattern(default_pattern)
    seq = Sequence(key, label, default_pattern)
    _sequences[key] = seq
    return seq


def sequences() -> list[Sequence]:
    return sorted(_sequences.values(), key=lambda s: s.key)


def validate_pattern(pattern: str) -> None:
    """Raise ValidationFailed (field ``pattern``) unless ``pattern`` can number documents."""

    def fail(message: str) -> ValidationFailed:
        return ValidationFailed([FieldError("pattern", message)])

    if not pattern or not pattern.strip():
        raise fail(_("Enter a pattern."))
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise fail(_("A pattern has at most %(n)d characters.") % {"n": MAX_PATTERN_LENGTH})
    try:
        parsed = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        raise fail(_("Unbalanced braces: %(error)s") % {"error": exc}) from exc
    names = [name for _text, name, _spec, _conv in parsed if name is not None]
    unknown = [n for n in names if n not in FIELDS]
    if unknown:
        raise fail(
            _("Unknown placeholder {%(name)s}; use {year}, {yy} and {seq}.") % {"name": unknown[0]}
        )
    if "seq" not in names:
        raise fail(_("The pattern must contain {seq}, e.g. {seq:04d}."))
    try:
        pattern.format(year=2026, yy="26", seq=1)
    except (ValueError, TypeError) as exc:
        raise fail(_("The pattern cannot be formatted: %(error)s") % {"error": exc}) from exc


def pattern_for(key: str) -> str:
    """The pattern in force for ``key``: the administrator's, else the declared default."""
    stored = NumberPattern.objects.filter(key=key).values_list("pattern", flat=True).first()
    if stored:
        return stored
    if key in _sequences:
        return _sequences[key].default_pattern
    return f"{key.upper()}-{{year}}-{{seq:04d}}"


def render(pattern: str, *, year: int, seq: int) -> str:
    return pattern.format(year=year, yy=f"{year % 100:02d}", seq=seq)


def _period(at: dt.datetime | None) -> int:
    moment = at or timezone.now()
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return moment.year


def next_number(*, key: str, pattern: str | None = None, at: dt.datetime | None = None) -> str:
    """Take the next number of ``key`` for the year of ``at`` (default: now) and format it.

    ``pattern`` overrides the configured pattern for this call. Call it inside the
    transaction that creates the numbered record: the number belongs to that
    transaction and goes back to the pool if it rolls back.
    """
    fmt = pattern or pattern_for(key)
    year = _period(at)
    period = str(year)
    with transaction.atomic():
        locked = NumberSequence.objects.select_for_update()
        row = locked.filter(key=key, period=period).first()
        if row is None:
            # First number of the year. A concurrent creator waits on the unique index and
            # then finds the row, instead of failing with an IntegrityError.
            NumberSequence.objects.bulk_create(
                [NumberSequence(key=key, period=period, last=0)], ignore_conflicts=True
            )
            row = locked.get(key=key, period=period)
        row.last += 1
        row.save(update_fields=["last"])
    return render(fmt, year=year, seq=row.last)


def current(key: str, *, at: dt.datetime | None = None) -> int:
    """The last number handed out for ``key`` in the year of ``at`` (0 if none yet)."""
    period = str(_period(at))
    value = (
        NumberSequence.objects.filter(key=key, period=period).values_list("last", flat=True).first()
    )
    return int(value or 0)


def pattern_save(*, actor: User, key: str, pattern: str) -> NumberPattern:
    """Store the administrator's pattern for ``key`` (admins only; audited)."""
    if not permissions.is_admin(actor):
        raise NotPermitted()
    if key not in _sequences:
        raise ValidationFailed([FieldError("key", _("Unknown sequence."))])
    pattern = pattern.strip()
    validate_pattern(pattern)
    with transaction.atomic():
        obj = NumberPattern.objects.filter(key=key).first()
        before = {"pattern": obj.pattern if obj else pattern_for(key)}
        if obj is None:
            obj = NumberPattern.objects.create(key=key, pattern=pattern)
        else:
            obj.pattern = pattern
            obj.save(update_fields=["pattern", "updated_at"])
        audit.record(
            actor=actor,
            action="update",
            entity="number_pattern",
            obj=obj,
            changes=audit.diff(before, {"pattern": pattern}),
        )
    return obj
