"""Every write to leads: validation, permission, dedup, audit, events, conversion."""

from __future__ import annotations

import copy
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
from guanxi.customers.common import (
    Boolean,
    Choice,
    DateTime,
    FieldSpec,
    Integer,
    LongText,
    Tags,
    Text,
)
from guanxi.customers.models import Account, Contact
from guanxi.leads import assignment, scoring
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
    "consent_marketing": Boolean(),
    "consent_source": Text(200),
    "consent_at": DateTime(),
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


def _clean(
    data: dict[str, Any], lead: Lead | None, errors: list[FieldError] | None = None
) -> dict[str, Any]:
    errors = [] if errors is None else errors
    cleaned = common.clean(data, LEAD_SPEC, entity_key="lead", instance=lead, errors=errors)
    if "source" in data:
        try:
            cleaned["source"] = _source(data["source"])
        except ValueError as exc:
            errors.append(FieldError("source", str(exc)))
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def _default_reason(actor: User, owner: User | None) -> str:
    if owner is None:
        return _("Put in the public pool by %(actor)s when created") % {"actor": actor.label}
    if owner.pk == actor.pk:
        return _("Entered by the owner, %(user)s") % {"user": owner.label}
    return _("Chosen by %(actor)s when created → %(user)s") % {
        "actor": actor.label,
        "user": owner.label,
    }


def lead_create(
    *,
    actor: User,
    data: dict[str, Any],
    allow_duplicate: bool = False,
    assign: bool | None = None,
) -> Lead:
    """Create a lead.

    ``data``: model fields by name (``source`` as a code or 中文 name, ``owner_id`` or
    ``owner``; None puts the lead in the public pool and needs ``transfer``). Phones are
    stored as entered plus E.164, e-mail lower-cased for matching; a bad value is a
    ValidationFailed naming the field. Same phone / e-mail as a lead or contact →
    DuplicateRecord unless ``allow_duplicate``.

    Owner (see docs/user-guide.md, "Assignment rules"):

    - ``owner`` / ``owner_id`` given: that owner, the rules are not consulted (``assign``
      True together with an owner is a ValidationFailed).
    - ``assign`` True: the assignment rules decide (their fallback when none matches),
      whoever the actor is and without needing ``transfer``.
    - ``assign`` None (API, imports, integrations): the rules decide when at least one
      rule is active, otherwise the actor owns the lead.
    - ``assign`` False (a salesperson's own entry in the UI): the actor owns the lead.

    ``assigned_reason`` says why (the rule and method for routed leads). The score comes
    from the scoring rules while any is active (a typed-in score is then refused).
    """
    permissions.require(actor, "lead", "create")
    explicit_owner = "owner" in data or "owner_id" in data
    if assign and explicit_owner:
        raise ValidationFailed(
            [FieldError("owner_id", _("Give an owner or assign by the rules, not both."))]
        )
    errors: list[FieldError] = []
    scoring.check_manual_score(data, errors)
    cleaned = _clean(data, None, errors)
    route = bool(assign) or (assign is None and not explicit_owner and assignment.routing_enabled())
    owner = (
        None
        if route
        else common.resolve_owner(
            actor=actor, entity_key="lead", data=data, current_owner_id=common.KEEP
        )
    )
    common.check_duplicate(
        actor=actor, values=cleaned, exclude=None, allow_duplicate=allow_duplicate
    )
    lead = Lead(**cleaned, owner=owner, created_by=actor)
    scoring.apply(lead, followups=0)
    with transaction.atomic():
        decision = None
        if route:
            decision = assignment.decide(lead=lead, creator=actor)
            lead.owner_id = decision.owner_id
            lead.assigned_reason = decision.reason
        elif not cleaned.get("assigned_reason"):
            lead.assigned_reason = _default_reason(actor, owner)
        common.create(
            actor=actor, entity_key="lead", obj=lead, audit_fields=LEAD_AUDIT, event=LEAD_CREATED
        )
        if decision is not None:
            assignment.record_assignment(actor=actor, lead=lead, assignment=decision)
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
    errors: list[FieldError] = []
    scoring.check_manual_score(data, errors)
    cleaned = _clean(data, lead, errors)
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
    # The score follows the changed values; it is audited with them.
    probe = copy.copy(lead)
    for name, value in cleaned.items():
        setattr(probe, name, value)
    if scoring.apply(probe):
        cleaned.update(
            score=probe.score, score_reasons=probe.score_reasons, score_due_at=probe.score_due_at
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
    """Hand leads over to ``to_user`` (None: release to the public pool); audited.
    The moved leads' ``assigned_reason`` says who handed them over."""
    if to_user is None:
        reason = _("Put in the public pool by %(actor)s") % {"actor": actor.label}
    else:
        reason = _("Transferred by %(actor)s → %(user)s") % {
            "actor": actor.label,
            "user": to_user.label,
        }
    return common.transfer(
        actor=actor,
        entity_key="lead",
        records=records,
        to_user=to_user,
        event=LEAD_TRANSFERRED,
        also_set={"assigned_reason": reason},
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
        scoring.apply(lead)
        lead.save(
            update_fields=[
                "status",
                "converted_at",
                "converted_account",
                "converted_contact",
                "score",
                "score_reasons",
                "score_due_at",
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
    """A follow-up happened at ``at``: move last-contacted forward, a new lead to
    'contacted', and rescore it (the follow-up count changed). Called by the activities
    app inside the follow-up's transaction (the follow-up is already saved)."""
    changes: dict[str, list[Any]] = {}
    if lead.last_contacted_at is None or at > lead.last_contacted_at:
        changes["last_contacted_at"] = [lead.last_contacted_at, at]
        lead.last_contacted_at = at
    if lead.status == Lead.Status.NEW:
        changes["status"] = [lead.status, Lead.Status.CONTACTED]
        lead.status = Lead.Status.CONTACTED
    rescored = scoring.apply(lead)
    if not changes and not rescored:
        return
    Lead.objects.filter(pk=lead.pk).update(
        last_contacted_at=lead.last_contacted_at,
        status=lead.status,
        score=lead.score,
        score_reasons=lead.score_reasons,
        score_due_at=lead.score_due_at,
        updated_at=timezone.now(),
    )
    if "status" in changes:
        audit.record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            entity="lead",
            obj=lead,
            changes={"status": changes["status"]},
        )
