"""The pool settings row: caps on owned and locked records per kind, and the cool-down."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext as _

from guanxi.core import audit, permissions
from guanxi.core.errors import FieldError, NotPermitted, ValidationFailed
from guanxi.core.models import AuditEvent
from guanxi.leads.models import PoolSettings

if TYPE_CHECKING:
    from guanxi.identity.models import User

# Field → (smallest, largest) accepted value.
LIMITS: dict[str, tuple[int, int]] = {
    "max_owned": (1, 1_000_000),
    "max_locked": (0, 1_000_000),
    "max_owned_accounts": (1, 1_000_000),
    "max_locked_accounts": (0, 1_000_000),
    "cooldown_days": (0, 365),
}


def settings_save(*, actor: User, data: dict[str, Any]) -> PoolSettings:
    """Change the pool settings (administrators; every value checked; audited field by
    field). ``data`` holds any of :data:`LIMITS`' keys as whole numbers; others are a 422."""
    if not permissions.is_admin(actor):
        raise NotPermitted()
    errors: list[FieldError] = []
    unknown = sorted(set(data) - set(LIMITS))
    for name in unknown:
        errors.append(FieldError(name, _("Unknown setting.")))
    cleaned: dict[str, int] = {}
    for name, value in data.items():
        if name not in LIMITS:
            continue
        low, high = LIMITS[name]
        if isinstance(value, bool) or value in (None, ""):
            errors.append(FieldError(name, _("Enter a whole number.")))
            continue
        try:
            number = int(value)
            if str(number) != str(value).strip() and not isinstance(value, int):
                raise ValueError
        except (TypeError, ValueError):
            errors.append(FieldError(name, _("Enter a whole number.")))
            continue
        if not low <= number <= high:
            errors.append(
                FieldError(
                    name,
                    _("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": high},
                )
            )
            continue
        cleaned[name] = number
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        conf = PoolSettings.objects.select_for_update().order_by("pk").first() or PoolSettings()
        before = audit.snapshot(conf, LIMITS)
        for name, number in cleaned.items():
            setattr(conf, name, number)
        conf.save()
        changes = audit.diff(before, audit.snapshot(conf, LIMITS))
        if changes:
            audit.record(
                actor=actor,
                action=AuditEvent.Action.UPDATE,
                entity="pool_settings",
                obj=conf,
                changes=changes,
            )
    return conf
