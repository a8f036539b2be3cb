"""Writes of the reports app: campaign costs per lead source and month."""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext as _

from guanxi.core import audit, events, permissions
from guanxi.core.errors import FieldError, ValidationFailed
from guanxi.reports.models import CampaignCost

if TYPE_CHECKING:
    from guanxi.identity.models import User

COST_SAVED = events.define("campaign_cost.saved", "A campaign cost was entered or changed")
COST_DELETED = events.define("campaign_cost.deleted", "A campaign cost was deleted")
FIELDS = ["source_id", "month", "amount", "currency", "note"]
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    from guanxi.leads.models import LeadSource

    errors: list[FieldError] = []
    values: dict[str, Any] = {}
    code = str(data.get("source") or "").strip()
    source = LeadSource.objects.filter(code=code).first() if code else None
    if source is None:
        errors.append(FieldError("source", _("Choose a lead source (its code).")))
    else:
        values["source_id"] = source.pk
    match = _MONTH.match(str(data.get("month") or "").strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        errors.append(FieldError("month", _("Enter a month as YYYY-MM.")))
    else:
        values["month"] = dt.date(int(match.group(1)), int(match.group(2)), 1)
    try:
        amount = Decimal(str(data.get("amount", "")).strip().replace(",", ""))
        if not amount.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors.append(FieldError("amount", _("Enter an amount such as 1200.50.")))
    else:
        if amount < 0:
            errors.append(FieldError("amount", _("The amount cannot be negative.")))
        elif amount >= Decimal("1e16"):
            errors.append(FieldError("amount", _("The amount is too large.")))
        else:
            values["amount"] = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    currency = str(data.get("currency") or "CNY").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        errors.append(FieldError("currency", _("Enter a three-letter ISO currency code.")))
    values["currency"] = currency
    note = str(data.get("note") or "").strip()
    if len(note) > 200:
        errors.append(FieldError("note", _("At most 200 characters.")))
    values["note"] = note
    if errors:
        raise ValidationFailed(errors)
    return values


def campaign_cost_save(*, actor: User, data: dict[str, Any]) -> tuple[CampaignCost, bool]:
    """Enter the cost of a source for a month (``source`` code, ``month`` YYYY-MM,
    ``amount``, ``currency``, ``note``); entering a month again replaces its figure.
    Returns the row and whether it was created."""
    values = _clean(data)
    existing = CampaignCost.objects.filter(
        source_id=values["source_id"], month=values["month"]
    ).first()
    permissions.require(actor, "campaign_cost", "edit" if existing else "create")
    with transaction.atomic():
        if existing is None:
            cost = CampaignCost.objects.create(**values, created_by=actor)
            changes = audit.diff({}, audit.snapshot(cost, FIELDS))
            action = "create"
        else:
            cost = existing
            before = audit.snapshot(cost, FIELDS)
            for key, value in values.items():
                setattr(cost, key, value)
            cost.save()
            changes = audit.diff(before, audit.snapshot(cost, FIELDS))
            action = "update"
        if changes:
            audit.record(
                actor=actor, action=action, entity="campaign_cost", obj=cost, changes=changes
            )
            events.emit(
                COST_SAVED,
                {"id": cost.pk, "source_id": cost.source_id, "month": f"{cost.month:%Y-%m}"},
                actor_id=actor.pk,
            )
    return cost, existing is None


def campaign_cost_delete(*, actor: User, pk: Any) -> None:
    """Delete one campaign cost (404 when it does not exist)."""
    cost: CampaignCost = permissions.get_for_user(actor, "campaign_cost", pk, "delete")
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="delete",
            entity="campaign_cost",
            obj=cost,
            changes=audit.diff(audit.snapshot(cost, FIELDS), {}),
        )
        events.emit(COST_DELETED, {"id": cost.pk}, actor_id=actor.pk)
        cost.delete()
