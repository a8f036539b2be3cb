"""Every write to deals: validation, permission, stage rules, history, audit, events.

Pipelines, stages and loss reasons (administration) live in :mod:`guanxi.sales.pipelines`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import F, Min
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.core import audit, events, permissions
from guanxi.core.errors import FieldError, ValidationFailed
from guanxi.core.models import AuditEvent
from guanxi.customers import common
from guanxi.customers.common import FieldSpec, Integer, Tags, Text
from guanxi.sales.models import Deal, DealContact, DealStageChange, LossReason, Pipeline, Stage

if TYPE_CHECKING:
    from guanxi.customers.models import Account
    from guanxi.identity.models import User
    from guanxi.leads.models import Lead

A = AuditEvent.Action

DEAL_CREATED = events.define("deal.created", "A deal was created")
DEAL_UPDATED = events.define("deal.updated", "A deal was changed")
DEAL_DELETED = events.define("deal.deleted", "A deal was deleted")
DEAL_TRANSFERRED = events.define("deal.transferred", "A deal changed owner")
DEAL_STAGE_CHANGED = events.define("deal.stage_changed", "A deal moved to another stage")
DEAL_WON = events.define("deal.won", "A deal was won")
DEAL_LOST = events.define("deal.lost", "A deal was lost")

DEAL_SPEC: dict[str, FieldSpec] = {
    "name": Text(200, required=True),
    "next_step": Text(200),
    "tags": Tags(),
    "competitors": Tags(),
}
# Fields an administrator may make required for entering a stage.
STAGE_REQUIRABLE = {
    "amount": gettext_lazy("amount"),
    "expected_close_date": gettext_lazy("expected close date"),
    "next_step": gettext_lazy("next step"),
    "competitors": gettext_lazy("competitors"),
    "contacts": gettext_lazy("contacts"),
    "source": gettext_lazy("source"),
}
DEAL_AUDIT = [
    "name",
    "account",
    "pipeline",
    "stage",
    "status",
    "amount",
    "currency",
    "expected_close_date",
    "probability",
    "source",
    "lead",
    "competitors",
    "next_step",
    "tags",
    "won_at",
    "lost_at",
    "loss_reason",
    "loss_note",
    "owner",
    "custom",
]
_CURRENCY = re.compile(r"^[A-Z]{3}$")
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("9999999999999999.99")


def _stage_requirable_label(name: str) -> str:
    return str(STAGE_REQUIRABLE.get(name, name))


# --- Cleaning ---------------------------------------------------------------------------


def clean_amount(value: Any, field: str = "amount") -> Decimal | None:
    """A money amount rounded half-up to cents; None when empty. Raises ValidationFailed."""
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise ValidationFailed([FieldError(field, _("Enter an amount such as 12000.50."))])
    try:
        amount = Decimal(str(value).strip().replace(",", "").replace("，", ""))
    except InvalidOperation:
        raise ValidationFailed(
            [FieldError(field, _("Enter an amount such as 12000.50."))]
        ) from None
    if not amount.is_finite():
        raise ValidationFailed([FieldError(field, _("Enter an amount such as 12000.50."))])
    amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    if amount < 0:
        raise ValidationFailed([FieldError(field, _("The amount cannot be negative."))])
    if amount > MAX_AMOUNT:
        raise ValidationFailed([FieldError(field, _("The amount is too large."))])
    return amount


def clean_currency(value: Any) -> str:
    code = str(value or "").strip().upper()
    if not _CURRENCY.match(code):
        raise ValidationFailed(
            [FieldError("currency", _("Enter a three-letter ISO currency code such as CNY."))]
        )
    return code


def _errors_of(exc: ValidationFailed, errors: list[FieldError]) -> None:
    errors.extend(exc.errors)


def _clean_deal(
    actor: User, data: dict[str, Any], deal: Deal | None
) -> tuple[dict[str, Any], list[tuple[int, str]] | None]:
    """The model values ``data`` asks for, and the contacts list when given."""
    errors: list[FieldError] = []
    cleaned = common.clean(data, DEAL_SPEC, entity_key="deal", instance=deal, errors=errors)
    # The shared cleaner adds pinyin keys for "name"; deals are found by name as typed.
    cleaned.pop("name_pinyin", None)
    cleaned.pop("name_initials", None)
    if "amount" in data:
        try:
            cleaned["amount"] = clean_amount(data["amount"])
        except ValidationFailed as exc:
            _errors_of(exc, errors)
    if "currency" in data or deal is None:
        try:
            cleaned["currency"] = clean_currency(data.get("currency") or "CNY")
        except ValidationFailed as exc:
            _errors_of(exc, errors)
    if "expected_close_date" in data:
        try:
            cleaned["expected_close_date"] = common._clean_value(
                "expected_close_date", common.Date(), data["expected_close_date"]
            )
        except ValueError as exc:
            errors.append(FieldError("expected_close_date", str(exc)))
    if "probability" in data and data["probability"] not in (None, ""):
        try:
            cleaned["probability"] = common._clean_value(
                "probability", Integer(0, 100), data["probability"]
            )
        except ValueError as exc:
            errors.append(FieldError("probability", str(exc)))
    if "account_id" in data or deal is None:
        account_id = data.get("account_id")
        account = None
        if account_id not in (None, ""):
            account = (
                permissions.scoped_queryset(actor, "account").filter(pk=account_id).first()
                if permissions.can(actor, "account", "view")
                else None
            )
            if account is None:
                errors.append(FieldError("account_id", _("No such account.")))
        else:
            errors.append(FieldError("account_id", _("Choose the account of this deal.")))
        if account is not None:
            cleaned["account"] = account
    if "source_id" in data:
        from guanxi.leads.models import LeadSource

        source_id = data["source_id"]
        if source_id in (None, ""):
            cleaned["source"] = None
        else:
            source = LeadSource.objects.filter(pk=source_id).first()
            if source is None:
                errors.append(FieldError("source_id", _("No such source.")))
            else:
                cleaned["source"] = source
    if "lead_id" in data:
        lead_id = data["lead_id"]
        if lead_id in (None, ""):
            cleaned["lead"] = None
        else:
            lead = (
                permissions.scoped_queryset(actor, "lead").filter(pk=lead_id).first()
                if permissions.can(actor, "lead", "view")
                else None
            )
            if lead is None:
                errors.append(FieldError("lead_id", _("No such lead.")))
            else:
                cleaned["lead"] = lead
    contacts = None
    if "contacts" in data:
        contacts = _clean_contacts(actor, data["contacts"], errors)
    if errors:
        raise ValidationFailed(errors)
    return cleaned, contacts


def _clean_contacts(actor: User, value: Any, errors: list[FieldError]) -> list[tuple[int, str]]:
    """``[{"contact_id": 1, "role": "decision_maker"}, ...]`` → [(id, role)], scope-checked."""
    pairs: list[tuple[int, str]] = []
    roles = set(DealContact.Role.values)
    for item in value or []:
        try:
            contact_id = int(item["contact_id"])
        except (KeyError, TypeError, ValueError):
            errors.append(FieldError("contacts", _("Each contact needs a contact_id.")))
            return []
        role = str(item.get("role") or DealContact.Role.OTHER)
        if role not in roles:
            errors.append(
                FieldError("contacts", _("Choose one of: %(c)s.") % {"c": ", ".join(sorted(roles))})
            )
            return []
        if contact_id not in [p[0] for p in pairs]:
            pairs.append((contact_id, role))
    if pairs:
        ids = [p[0] for p in pairs]
        visible = (
            set(
                permissions.scoped_queryset(actor, "contact")
                .filter(pk__in=ids)
                .values_list("pk", flat=True)
            )
            if permissions.can(actor, "contact", "view")
            else set()
        )
        missing = [i for i in ids if i not in visible]
        if missing:
            errors.append(
                FieldError(
                    "contacts",
                    _("No such contact: %(ids)s") % {"ids": ", ".join(map(str, missing))},
                )
            )
    return pairs


def _collaborators(data: dict[str, Any]) -> list[Any] | None:
    if "collaborator_ids" not in data:
        return None
    from guanxi.identity.models import User as UserModel

    try:
        ids = sorted({int(i) for i in data["collaborator_ids"] or []})
    except (TypeError, ValueError):
        raise ValidationFailed([FieldError("collaborator_ids", _("Give user ids."))]) from None
    users = list(UserModel.objects.filter(pk__in=ids, is_active=True))
    if len(users) != len(ids):
        raise ValidationFailed([FieldError("collaborator_ids", _("No such active user."))])
    return users


def _pipeline_and_stage(
    data: dict[str, Any], deal: Deal | None
) -> tuple[Pipeline | None, Stage | None]:
    """The pipeline and stage ``data`` asks for (None, None when it asks for neither)."""
    wants_pipeline = data.get("pipeline_id") not in (None, "")
    wants_stage = data.get("stage_id") not in (None, "")
    if deal is not None and not wants_pipeline and not wants_stage:
        return None, None
    pipeline: Pipeline | None = None
    if wants_pipeline:
        pipeline = Pipeline.objects.filter(pk=data["pipeline_id"]).first()
        if pipeline is None or (
            not pipeline.active and (deal is None or deal.pipeline_id != pipeline.pk)
        ):
            raise ValidationFailed([FieldError("pipeline_id", _("No such active pipeline."))])
    elif deal is not None:
        pipeline = deal.pipeline
    stage: Stage | None = None
    if wants_stage:
        stage = Stage.objects.select_related("pipeline").filter(pk=data["stage_id"]).first()
        if stage is None:
            raise ValidationFailed([FieldError("stage_id", _("No such stage."))])
        if pipeline is None:
            pipeline = stage.pipeline
        elif stage.pipeline_id != pipeline.pk:
            raise ValidationFailed(
                [FieldError("stage_id", _("This stage belongs to another pipeline."))]
            )
    if pipeline is None:
        pipeline = default_pipeline()
        if pipeline is None:
            raise ValidationFailed(
                [FieldError("pipeline_id", _("No active pipeline; an administrator must add one."))]
            )
    if stage is None:
        stage = pipeline.stages.filter(kind=Stage.Kind.OPEN).order_by("position", "id").first()
        if stage is None:
            raise ValidationFailed([FieldError("stage_id", _("This pipeline has no open stage."))])
    return pipeline, stage


def default_pipeline() -> Pipeline | None:
    """The default active pipeline, else the first active one."""
    return Pipeline.objects.filter(active=True).order_by("-is_default", "position", "id").first()


def _top_position(stage_id: int) -> int:
    """A position above every card in the column (new and moved cards go on top)."""
    low = Deal.objects.filter(stage_id=stage_id).aggregate(m=Min("position"))["m"]
    return (low if low is not None else 0) - 1


def _missing_for_stage(deal: Deal, stage: Stage, contacts: int | None = None) -> list[str]:
    missing: list[str] = []
    for name in stage.required_fields or []:
        if name == "contacts":
            count = contacts if contacts is not None else deal.deal_contacts.count()
            if not count:
                missing.append(name)
            continue
        if name == "source":
            if deal.source_id is None:
                missing.append(name)
            continue
        value = getattr(deal, name, None)
        if value in (None, "", []):
            missing.append(name)
    return missing


def _require_stage_fields(deal: Deal, stage: Stage) -> None:
    missing = _missing_for_stage(deal, stage)
    if not missing:
        return
    labels = "、".join(_stage_requirable_label(m) for m in missing)
    message = _("Fill in %(fields)s before moving to “%(stage)s”.") % {
        "fields": labels,
        "stage": stage.label,
    }
    raise ValidationFailed(
        [
            FieldError(
                name,
                _("Required before moving to “%(stage)s”.") % {"stage": stage.label},
            )
            for name in missing
        ],
        message,
    )


# --- Deals ------------------------------------------------------------------------------


def deal_create(*, actor: User, data: dict[str, Any]) -> Deal:
    """Create a deal (default owner: the actor; default pipeline and its first open stage).

    ``data`` holds the fields by name plus ``account_id`` (required, in scope),
    ``pipeline_id``, ``stage_id`` (an open stage), ``owner_id``, ``collaborator_ids``,
    ``source_id``, ``lead_id`` and ``contacts`` ([{contact_id, role}]). The probability
    defaults to the stage's. The stage's required fields must be filled.
    """
    permissions.require(actor, "deal", "create")
    cleaned, contacts = _clean_deal(actor, data, None)
    pipeline, stage = _pipeline_and_stage(data, None)
    assert pipeline is not None and stage is not None
    if not stage.is_open:
        raise ValidationFailed(
            [FieldError("stage_id", _("A new deal starts in an open stage; move it later."))]
        )
    owner = common.resolve_owner(
        actor=actor, entity_key="deal", data=data, current_owner_id=common.KEEP
    )
    collaborators = _collaborators(data)
    now = timezone.now()
    cleaned.setdefault("probability", stage.probability)
    deal = Deal(
        **cleaned,
        pipeline=pipeline,
        stage=stage,
        status=Deal.Status.OPEN,
        owner=owner,
        created_by=actor,
        stage_changed_at=now,
        position=_top_position(stage.pk),
    )
    missing = _missing_for_stage(deal, stage, contacts=len(contacts or []))
    if missing:
        _require_stage_fields_list(stage, missing)
    with transaction.atomic():
        common.create(
            actor=actor,
            entity_key="deal",
            obj=deal,
            audit_fields=DEAL_AUDIT,
            event=DEAL_CREATED,
            m2m={"collaborators": collaborators} if collaborators else None,
        )
        if contacts:
            _set_contacts(deal, contacts)
        DealStageChange.objects.create(
            deal=deal,
            from_stage=None,
            to_stage=stage,
            to_stage_name=stage.name,
            changed_at=now,
            actor=actor,
        )
    return deal


def _require_stage_fields_list(stage: Stage, missing: list[str]) -> None:
    labels = "、".join(_stage_requirable_label(m) for m in missing)
    raise ValidationFailed(
        [
            FieldError(name, _("Required before moving to “%(stage)s”.") % {"stage": stage.label})
            for name in missing
        ],
        _("Fill in %(fields)s before moving to “%(stage)s”.")
        % {"fields": labels, "stage": stage.label},
    )


def _set_contacts(deal: Deal, contacts: list[tuple[int, str]]) -> dict[str, list[Any]]:
    """Replace the deal's contacts; returns the audit change (empty when nothing changed)."""
    old = sorted(deal.deal_contacts.values_list("contact_id", "role"))
    new = sorted(contacts)
    if [tuple(o) for o in old] == new:
        return {}
    deal.deal_contacts.all().delete()
    DealContact.objects.bulk_create(
        [DealContact(deal=deal, contact_id=cid, role=role) for cid, role in contacts]
    )
    return {"contacts": [[list(o) for o in old], [list(n) for n in new]]}


def deal_update(*, actor: User, deal: Deal, data: dict[str, Any]) -> Deal:
    """Change a deal in the actor's edit scope (partial; custom values merged).

    A new ``stage_id`` / ``pipeline_id`` moves the deal with :func:`deal_move_stage`'s
    rules (also ``loss_reason_id`` / ``loss_note`` when moving to a lost stage), in the
    same transaction: either everything is saved or nothing.
    """
    deal = permissions.get_for_user(
        actor, "deal", deal.pk, "edit", base=Deal.objects.select_related("pipeline", "stage")
    )
    cleaned, contacts = _clean_deal(actor, data, deal)
    pipeline, stage = _pipeline_and_stage(data, deal)
    owner = common.resolve_owner(
        actor=actor, entity_key="deal", data=data, current_owner_id=deal.owner_id
    )
    if owner is not common.KEEP:
        cleaned["owner"] = owner
    collaborators = _collaborators(data)
    with transaction.atomic():
        extra: dict[str, list[Any]] = {}
        if contacts is not None:
            extra = _set_contacts(deal, contacts)
        changes = common.update(
            actor=actor,
            entity_key="deal",
            obj=deal,
            cleaned=cleaned,
            audit_fields=DEAL_AUDIT,
            event=DEAL_UPDATED,
            m2m={"collaborators": collaborators} if collaborators is not None else None,
        )
        if extra and not changes:
            audit.record(actor=actor, action=A.UPDATE, entity="deal", obj=deal, changes=extra)
            events.emit(DEAL_UPDATED, {"id": deal.pk, "changes": extra}, actor_id=actor.pk)
        elif extra:
            audit.record(actor=actor, action=A.UPDATE, entity="deal", obj=deal, changes=extra)
        if stage is not None and (stage.pk != deal.stage_id or pipeline != deal.pipeline):
            assert pipeline is not None
            deal = deal_move_stage(
                actor=actor,
                deal=deal,
                stage=stage,
                loss_reason_id=data.get("loss_reason_id"),
                loss_note=data.get("loss_note") or "",
                _allow_pipeline_change=True,
            )
        elif stage is None or stage.pk == deal.stage_id:
            # Required fields of the current stage stay required.
            _require_stage_fields(deal, deal.stage)
    return deal


def deal_move_stage(
    *,
    actor: User,
    deal: Deal | int,
    stage: Stage | int,
    loss_reason_id: Any = None,
    loss_note: str = "",
    before_id: int | None = None,
    probability: int | None = None,
    _allow_pipeline_change: bool = False,
) -> Deal:
    """Move a deal to ``stage`` (in its pipeline), or reorder it within its column.

    Rules: the stage's ``required_fields`` must be filled (422 naming each missing field);
    a lost stage needs an active ``loss_reason_id`` and a ``loss_note``; entering a won
    stage sets ``won_at`` and makes the account a customer; entering a lost stage sets
    ``lost_at``; reopening clears both. The probability becomes the stage's unless given.
    Every change of stage is recorded in :class:`DealStageChange` and the audit trail.
    ``before_id`` places the card just above another card of the target column; without
    it a moved card goes to the top.
    """
    deal_id = deal.pk if isinstance(deal, Deal) else deal
    scoped: Deal = permissions.get_for_user(actor, "deal", deal_id, "edit")
    stage_id = stage.pk if isinstance(stage, Stage) else stage
    target = Stage.objects.filter(pk=stage_id).first() if stage_id not in (None, "") else None
    if target is None:
        raise ValidationFailed([FieldError("stage", _("No such stage."))])
    if target.pipeline_id != scoped.pipeline_id and not _allow_pipeline_change:
        raise ValidationFailed([FieldError("stage", _("This stage belongs to another pipeline."))])
    with transaction.atomic():
        deal = (
            Deal.objects.select_for_update(of=("self",))
            .select_related("pipeline", "stage", "account")
            .get(pk=scoped.pk)
        )
        if target.pk == deal.stage_id:
            if before_id is not None:
                _place(deal, target, before_id)
            return deal
        _require_stage_fields(deal, target)
        now = timezone.now()
        before = audit.snapshot(deal, DEAL_AUDIT)
        old_stage = deal.stage
        old_status = deal.status
        if target.kind == Stage.Kind.LOST:
            reason = _clean_loss(loss_reason_id, loss_note)
            deal.loss_reason = reason
            deal.loss_note = loss_note.strip()
            deal.lost_at = now
            deal.won_at = None
        elif target.kind == Stage.Kind.WON:
            deal.won_at = now
            deal.lost_at = None
            deal.loss_reason = None
            deal.loss_note = ""
        else:
            deal.won_at = None
            deal.lost_at = None
            deal.loss_reason = None
            deal.loss_note = ""
        if probability is not None:
            deal.probability = common._clean_value("probability", Integer(0, 100), probability)
        else:
            deal.probability = target.probability
        deal.pipeline_id = target.pipeline_id
        deal.stage = target
        deal.status = target.kind
        entered = deal.stage_changed_at or deal.created_at
        deal.stage_changed_at = now
        deal.position = _top_position(target.pk)
        deal.save()
        if before_id is not None:
            _place(deal, target, before_id)
        DealStageChange.objects.create(
            deal=deal,
            from_stage=old_stage,
            to_stage=target,
            from_stage_name=old_stage.name,
            to_stage_name=target.name,
            changed_at=now,
            time_in_from_stage=now - entered if entered else None,
            actor=actor,
        )
        changes = audit.diff(before, audit.snapshot(deal, DEAL_AUDIT))
        changes["stage"] = [old_stage.name, target.name]
        audit.record(actor=actor, action=A.UPDATE, entity="deal", obj=deal, changes=changes)
        payload = {
            "id": deal.pk,
            "from_stage": old_stage.pk,
            "to_stage": target.pk,
            "status": deal.status,
            "changes": changes,
        }
        events.emit(DEAL_STAGE_CHANGED, payload, actor_id=actor.pk)
        if deal.status == Deal.Status.WON and old_status != Deal.Status.WON:
            events.emit(DEAL_WON, payload, actor_id=actor.pk)
            _account_became_customer(actor, deal)
        elif deal.status == Deal.Status.LOST and old_status != Deal.Status.LOST:
            events.emit(DEAL_LOST, payload, actor_id=actor.pk)
    return deal


def _clean_loss(loss_reason_id: Any, loss_note: str) -> LossReason:
    errors: list[FieldError] = []
    reason = None
    if loss_reason_id in (None, ""):
        errors.append(FieldError("loss_reason", _("Choose why the deal was lost.")))
    else:
        try:
            reason = LossReason.objects.filter(pk=int(loss_reason_id), active=True).first()
        except (TypeError, ValueError):
            reason = None
        if reason is None:
            errors.append(FieldError("loss_reason", _("No such loss reason.")))
    if not (loss_note or "").strip():
        errors.append(FieldError("loss_note", _("Say in a few words what happened.")))
    if errors:
        raise ValidationFailed(errors)
    assert reason is not None
    return reason


def _place(deal: Deal, stage: Stage, before_id: int) -> None:
    """Put ``deal`` just above card ``before_id`` of the same column (one UPDATE to make room)."""
    anchor = (
        Deal.objects.filter(pk=before_id, stage_id=stage.pk)
        .values_list("position", flat=True)
        .first()
    )
    if anchor is None or before_id == deal.pk:
        return
    Deal.objects.filter(stage_id=stage.pk, position__gte=anchor).exclude(pk=deal.pk).update(
        position=F("position") + 1
    )
    deal.position = anchor
    Deal.objects.filter(pk=deal.pk).update(position=anchor)


def _account_became_customer(actor: User, deal: Deal) -> None:
    from guanxi.customers import services as customer_services

    customer_services.account_mark_customer(
        actor=actor, account=deal.account, reason=f"deal:{deal.pk}"
    )


def deal_delete(*, actor: User, deal: Deal) -> None:
    """Delete a deal in the actor's delete scope (history goes with it; audited)."""
    deal = permissions.get_for_user(actor, "deal", deal.pk, "delete")
    common.delete(actor=actor, entity_key="deal", obj=deal, event=DEAL_DELETED)


def deal_transfer(*, actor: User, records: Iterable[Deal | int], to_user: User | None) -> int:
    """Hand deals over to ``to_user``; all or nothing within the actor's transfer scope."""
    if to_user is None:
        raise ValidationFailed([FieldError("to_user_id", _("A deal always has an owner."))])
    return common.transfer(
        actor=actor, entity_key="deal", records=records, to_user=to_user, event=DEAL_TRANSFERRED
    )


def deal_create_from_lead(
    *, actor: User, lead: Lead, account: Account, data: dict[str, Any] | None = None
) -> Deal:
    """The deal of a lead conversion: named after the company, carrying source and lead."""
    values: dict[str, Any] = {
        "name": lead.company or lead.name,
        "tags": list(lead.tags or []),
    }
    values.update({k: v for k, v in (data or {}).items() if v is not None})
    values["account_id"] = account.pk
    values["lead_id"] = lead.pk
    values.setdefault("source_id", lead.source_id)
    values.setdefault("owner_id", actor.pk)
    try:
        return deal_create(actor=actor, data=values)
    except ValidationFailed as exc:
        # The convert form shows these next to its deal fields.
        raise ValidationFailed(
            [FieldError(f"deal.{e.field}", e.message) for e in exc.errors], exc.message
        ) from exc
