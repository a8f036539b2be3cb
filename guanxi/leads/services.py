"""Every write to leads: validation, permission, dedup, audit, events, conversion."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core import audit, events, permissions
from guanxi.core.errors import Conflict, FieldError, ValidationFailed
from guanxi.core.models import AuditEvent
from guanxi.customers import common
from guanxi.customers import services as customer_services
from guanxi.customers.common import Choice, DateTime, FieldSpec, Integer, LongText, Tags, Text
from guanxi.customers.models import Account, Contact
from guanxi.leads.models import Lead, LeadSource

if TYPE_CHECKING:
    from guanxi.identity.models import User

LEAD_CREATED = events.define("lead.created", "A lead was created")
LEAD_UPDATED = events.define("lead.updated", "A lead was changed")
LEAD_DELETED = events.define("lead.deleted", "A lead was deleted")
LEAD_TRANSFERRED = events.define("lead.transferred", "A lead changed owner")
LEAD_CONVERTED = events.define("lead.converted", "A lead was converted to an account and contact")

LEAD_SPEC: dict[str, FieldSpec] = {
    "name": Text(100, required=True),
    "company": Text(200),
    "title": Text(100),
    "wechat": Text(100),
    "campaign": Text(200),
    "province": Text(50),
    "city": Text(50),
    "industry": Text(100),
    "status": Choice([s for s in Lead.Status.values if s != Lead.Status.CONVERTED], blank=False),
    "score": Integer(),
    "next_followup_at": DateTime(),
    "last_contacted_at": DateTime(),
    "notes": LongText(),
    "tags": Tags(),
    "assigned_reason": LongText(),
}
LEAD_AUDIT = [
    *LEAD_SPEC,
    "mobile",
    "phone",
    "phone_ext",
    "email",
    "source",
    "owner",
    "custom",
]


def _source(value: Any) -> LeadSource | None:
    if value in (None, ""):
        return None
    if isinstance(value, LeadSource):
        return value
    source = LeadSource.objects.filter(code=str(value).strip(), active=True).first()
    if source is None:
        source = LeadSource.objects.filter(name_zh=str(value).strip(), active=True).first()
    if source is None:
        raise ValueError(_("Unknown lead source."))
    return source


def _clean(data: dict[str, Any], lead: Lead | None) -> dict[str, Any]:
    errors: list[FieldError] = []
    cleaned = common.clean(data, LEAD_SPEC, entity_key="lead", instance=lead, errors=errors)
    if "source" in data:
        try:
            cleaned["source"] = _source(data["source"])
        except ValueError as exc:
            errors.append(FieldError("source", str(exc)))
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def lead_create(*, actor: User, data: dict[str, Any], allow_duplicate: bool = False) -> Lead:
    """Create a lead.

    ``data``: model fields by name (``source`` as a code or 中文 name, ``owner_id`` or
    ``owner``; None puts the lead in the public pool and needs ``transfer``). Phones are
    stored as entered plus E.164, e-mail lower-cased for matching; a bad value is a
    ValidationFailed naming the field. Same phone / e-mail as a lead or contact →
    DuplicateRecord unless ``allow_duplicate``.
    """
    permissions.require(actor, "lead", "create")
    cleaned = _clean(data, None)
    owner = common.resolve_owner(
        actor=actor, entity_key="lead", data=data, current_owner_id=common.KEEP
    )
    common.check_duplicate(
        actor=actor, values=cleaned, exclude=None, allow_duplicate=allow_duplicate
    )
    lead = Lead(**cleaned, owner=owner, created_by=actor)
    common.create(
        actor=actor, entity_key="lead", obj=lead, audit_fields=LEAD_AUDIT, event=LEAD_CREATED
    )
    return lead


def lead_update(
    *, actor: User, lead: Lead, data: dict[str, Any], allow_duplicate: bool = False
) -> Lead:
    """Change a lead in the actor's edit scope (partial; custom values merged).

    A changed phone or e-mail is checked for duplicates; a new owner needs ``transfer``.
    Converted leads are read-only apart from notes and tags.
    """
    lead = permissions.get_for_user(actor, "lead", lead.pk, "edit")
    if lead.status == Lead.Status.CONVERTED and set(data) - {"notes", "tags"}:
        raise Conflict(_("This lead has been converted; change the account or contact instead."))
    cleaned = _clean(data, lead)
    owner = common.resolve_owner(
        actor=actor, entity_key="lead", data=data, current_owner_id=lead.owner_id
    )
    if owner is not common.KEEP:
        cleaned["owner"] = owner
    changed = {
        k: v
        for k in ("mobile_e164", "phone_e164", "email_norm")
        if (v := cleaned.get(k)) and v != getattr(lead, k)
    }
    if changed:
        common.check_duplicate(
            actor=actor, values=changed, exclude=("lead", lead.pk), allow_duplicate=allow_duplicate
        )
    common.update(
        actor=actor,
        entity_key="lead",
        obj=lead,
        cleaned=cleaned,
        audit_fields=LEAD_AUDIT,
        event=LEAD_UPDATED,
    )
    return lead


def lead_delete(*, actor: User, lead: Lead) -> None:
    """Delete a lead in the actor's delete scope (audited)."""
    lead = permissions.get_for_user(actor, "lead", lead.pk, "delete")
    common.delete(actor=actor, entity_key="lead", obj=lead, event=LEAD_DELETED)


def lead_transfer(*, actor: User, records: Iterable[Lead | int], to_user: User | None) -> int:
    """Hand leads over to ``to_user`` (None: release to the public pool); audited."""
    return common.transfer(
        actor=actor, entity_key="lead", records=records, to_user=to_user, event=LEAD_TRANSFERRED
    )


@dataclass
class Conversion:
    lead: Lead
    account: Account
    contact: Contact
    account_created: bool
    deal: Any = None


def lead_convert(
    *,
    actor: User,
    lead: Lead,
    account_id: int | None = None,
    create_deal: bool = False,
    allow_duplicate: bool = False,
    deal_data: dict[str, Any] | None = None,
) -> Conversion:
    """Convert a lead into an account (picked by ``account_id``, found by company name /
    credit code in scope, or created) and a contact; mark the lead converted with links.

    Needs ``edit`` on the lead and ``create`` on contacts (and on accounts when one is
    created). Converting twice is a Conflict (409). ``create_deal`` also creates a deal
    at the account (needs ``create`` on deals) carrying the lead's source and a link to
    the lead; ``deal_data`` may give its name, amount, currency, pipeline_id, stage_id and
    expected_close_date (errors name ``deal.<field>``). All or nothing.
    """
    lead = permissions.get_for_user(actor, "lead", lead.pk, "edit")
    permissions.require(actor, "contact", "create")
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead.pk)
        if lead.status == Lead.Status.CONVERTED or lead.converted_at is not None:
            raise Conflict(_("This lead has already been converted."))
        if account_id is not None:
            account = permissions.get_for_user(actor, "account", account_id)
            created = False
        else:
            company = lead.company or lead.name
            account, created = customer_services.account_find_or_create_for_company(
                actor=actor,
                name=company,
                data={
                    "industry": lead.industry,
                    "province": lead.province,
                    "city": lead.city,
                    "owner_id": actor.pk,
                },
                allow_duplicate=allow_duplicate,
            )
        contact = customer_services.contact_create(
            actor=actor,
            data={
                "name": lead.name,
                "account_id": account.pk,
                "title": lead.title,
                "mobile": lead.mobile,
                "phone": lead.phone,
                "email": lead.email,
                "wechat": lead.wechat,
                "tags": lead.tags,
                "notes": lead.notes,
                "last_contacted_at": lead.last_contacted_at,
                "owner_id": actor.pk,
            },
            allow_duplicate=allow_duplicate,
            dedup_exclude=("lead", lead.pk),
        )
        before = audit.snapshot(lead, ["status", "converted_account", "converted_contact"])
        lead.status = Lead.Status.CONVERTED
        lead.converted_at = timezone.now()
        lead.converted_account = account
        lead.converted_contact = contact
        lead.save(
            update_fields=[
                "status",
                "converted_at",
                "converted_account",
                "converted_contact",
                "updated_at",
            ]
        )
        deal = None
        if create_deal:
            from guanxi.sales.services import deal_create_from_lead

            deal = deal_create_from_lead(
                actor=actor, lead=lead, account=account, data=deal_data or {}
            )
        changes = audit.diff(
            before, audit.snapshot(lead, ["status", "converted_account", "converted_contact"])
        )
        if deal is not None:
            changes["deal"] = [None, deal.pk]
        convert = AuditEvent.Action.CONVERT
        audit.record(actor=actor, action=convert, entity="lead", obj=lead, changes=changes)
        audit.record(
            actor=actor,
            action=convert,
            entity="account",
            obj=account,
            changes={"from_lead": [None, lead.pk], "account_created": created},
        )
        audit.record(
            actor=actor,
            action=convert,
            entity="contact",
            obj=contact,
            changes={"from_lead": [None, lead.pk]},
        )
        events.emit(
            LEAD_CONVERTED,
            {
                "id": lead.pk,
                "account_id": account.pk,
                "contact_id": contact.pk,
                "create_deal": create_deal,
                "deal_id": deal.pk if deal is not None else None,
            },
            actor_id=actor.pk,
        )
    return Conversion(
        lead=lead, account=account, contact=contact, account_created=created, deal=deal
    )


def lead_mark_contacted(*, lead: Lead, at: dt.datetime, actor: User | None = None) -> None:
    """A follow-up happened at ``at``: move last-contacted forward and a new lead to
    'contacted'. Called by the activities app inside the follow-up's transaction."""
    changes: dict[str, list[Any]] = {}
    if lead.last_contacted_at is None or at > lead.last_contacted_at:
        changes["last_contacted_at"] = [lead.last_contacted_at, at]
        lead.last_contacted_at = at
    if lead.status == Lead.Status.NEW:
        changes["status"] = [lead.status, Lead.Status.CONTACTED]
        lead.status = Lead.Status.CONTACTED
    if not changes:
        return
    Lead.objects.filter(pk=lead.pk).update(
        last_contacted_at=lead.last_contacted_at, status=lead.status, updated_at=timezone.now()
    )
    if "status" in changes:
        audit.record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            entity="lead",
            obj=lead,
            changes={"status": changes["status"]},
        )
