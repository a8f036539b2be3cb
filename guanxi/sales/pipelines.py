"""Administration of pipelines, their stages and the loss reasons (administrators only).

Every write is audited (entities ``pipeline``, ``stage``, ``loss_reason``). A stage that
deals are in cannot simply be deleted: :func:`stage_delete` moves them to another stage of
the same pipeline first (recorded in each deal's history) or refuses with a Conflict.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core import audit, events, permissions
from guanxi.core.errors import Conflict, FieldError, NotPermitted, ValidationFailed
from guanxi.core.models import AuditEvent
from guanxi.sales.models import Deal, DealStageChange, LossReason, Pipeline, Stage
from guanxi.sales.services import STAGE_REQUIRABLE

if TYPE_CHECKING:
    from guanxi.identity.models import User

A = AuditEvent.Action
PIPELINE_CHANGED = events.define("pipeline.changed", "A pipeline or its stages were changed")

PIPELINE_FIELDS = ["name", "name_en", "is_default", "position", "active"]
STAGE_FIELDS = ["name", "name_en", "position", "probability", "kind", "required_fields"]
LOSS_REASON_FIELDS = ["name_zh", "name_en", "active", "position"]


def _require_admin(actor: User) -> None:
    if not permissions.is_admin(actor):
        raise NotPermitted(_("Only administrators can change pipelines and loss reasons."))


def _text(data: dict[str, Any], name: str, errors: list[FieldError], *, required: bool) -> str:
    value = str(data.get(name) or "").strip()
    if required and not value:
        errors.append(FieldError(name, _("This field is required.")))
    elif len(value) > 100:
        errors.append(FieldError(name, _("At most %(n)d characters.") % {"n": 100}))
    return value


def _int(data: dict[str, Any], name: str, errors: list[FieldError], lo: int, hi: int) -> int:
    try:
        value = int(data.get(name) or 0)
        if isinstance(data.get(name), bool) or not lo <= value <= hi:
            raise ValueError
    except (TypeError, ValueError):
        errors.append(
            FieldError(name, _("Enter a number between %(a)d and %(b)d.") % {"a": lo, "b": hi})
        )
        return lo
    return value


def _apply(
    obj: Any,
    data: dict[str, Any],
    fields: list[str],
    cleaners: dict[str, Any],
) -> dict[str, Any]:
    """Clean the fields present in ``data`` (all required ones on create)."""
    errors: list[FieldError] = []
    cleaned: dict[str, Any] = {}
    creating = obj.pk is None
    for name in fields:
        if name in data or (creating and name in cleaners.get("_required", ())):
            cleaned[name] = cleaners[name](data, name, errors)
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def _save(actor: User, entity: str, obj: Any, cleaned: dict[str, Any], fields: list[str]) -> Any:
    creating = obj.pk is None
    before = {} if creating else audit.snapshot(obj, fields)
    for name, value in cleaned.items():
        setattr(obj, name, value)
    obj.save()
    changes = audit.diff(before, audit.snapshot(obj, fields))
    if changes:
        audit.record(
            actor=actor,
            action=A.CREATE if creating else A.UPDATE,
            entity=entity,
            obj=obj,
            changes=changes,
        )
        events.emit(PIPELINE_CHANGED, {"entity": entity, "id": obj.pk}, actor_id=actor.pk)
    return obj


# --- Pipelines --------------------------------------------------------------------------

_PIPELINE_CLEANERS: dict[str, Any] = {
    "_required": ("name",),
    "name": lambda d, n, e: _text(d, n, e, required=True),
    "name_en": lambda d, n, e: _text(d, n, e, required=False),
    "is_default": lambda d, n, e: bool(d.get(n)),
    "position": lambda d, n, e: _int(d, n, e, 0, 10_000),
    "active": lambda d, n, e: bool(d.get(n)),
}


def pipeline_save(*, actor: User, pipeline: Pipeline | None, data: dict[str, Any]) -> Pipeline:
    """Create (``pipeline`` None) or change a pipeline. One pipeline is the default; the
    default must stay active. A new pipeline gets the standard stages unless ``stages``
    ([{name, name_en, probability, kind, required_fields}]) is given."""
    _require_admin(actor)
    obj = pipeline or Pipeline()
    cleaned = _apply(obj, data, PIPELINE_FIELDS, _PIPELINE_CLEANERS)
    name = cleaned.get("name")
    if name and Pipeline.objects.filter(name=name).exclude(pk=obj.pk).exists():
        raise ValidationFailed([FieldError("name", _("A pipeline with this name exists."))])
    is_default = cleaned.get("is_default", obj.is_default)
    active = cleaned.get("active", obj.active if obj.pk else True)
    if is_default and not active:
        raise ValidationFailed([FieldError("active", _("The default pipeline must stay active."))])
    if obj.pk is None and "position" not in cleaned:
        cleaned["position"] = (Pipeline.objects.count() + 1) * 10
    with transaction.atomic():
        if cleaned.get("is_default"):
            Pipeline.objects.exclude(pk=obj.pk).filter(is_default=True).update(is_default=False)
        creating = obj.pk is None
        _save(actor, "pipeline", obj, cleaned, PIPELINE_FIELDS)
        if creating:
            for position, spec in enumerate(data.get("stages") or _standard_stages(), start=1):
                stage_save(
                    actor=actor,
                    stage=None,
                    data={**spec, "pipeline_id": obj.pk, "position": position * 10},
                )
    return obj


def _standard_stages() -> list[dict[str, Any]]:
    quote = ["amount", "expected_close_date"]
    return [
        {"name": "初步接触", "name_en": "Initial contact", "probability": 10},
        {"name": "需求确认", "name_en": "Needs confirmed", "probability": 30},
        {
            "name": "方案/报价",
            "name_en": "Proposal / quote",
            "probability": 50,
            "required_fields": quote,
        },
        {"name": "商务谈判", "name_en": "Negotiation", "probability": 70, "required_fields": quote},
        {
            "name": "赢单",
            "name_en": "Won",
            "probability": 100,
            "kind": "won",
            "required_fields": quote,
        },
        {"name": "输单", "name_en": "Lost", "probability": 0, "kind": "lost"},
    ]


def pipeline_delete(*, actor: User, pipeline: Pipeline) -> None:
    """Delete a pipeline without deals (deactivate it otherwise); not the default one."""
    _require_admin(actor)
    if pipeline.is_default:
        raise Conflict(_("The default pipeline cannot be deleted; make another one the default."))
    count = Deal.objects.filter(pipeline=pipeline).count()
    if count:
        raise Conflict(
            _("%(n)d deals are in this pipeline; move them or deactivate the pipeline.")
            % {"n": count}
        )
    with transaction.atomic():
        audit.record(
            actor=actor,
            action=A.DELETE,
            entity="pipeline",
            obj=pipeline,
            changes={"name": [pipeline.name, None]},
        )
        pk = pipeline.pk
        pipeline.delete()
        events.emit(PIPELINE_CHANGED, {"entity": "pipeline", "id": pk}, actor_id=actor.pk)


# --- Stages -----------------------------------------------------------------------------


def _required_fields(data: dict[str, Any], name: str, errors: list[FieldError]) -> list[str]:
    value = data.get(name) or []
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [v for v in value if v not in STAGE_REQUIRABLE]
    if unknown:
        errors.append(
            FieldError(
                name,
                _("Unknown field %(f)s; choose from %(all)s.")
                % {"f": ", ".join(map(str, unknown)), "all": ", ".join(STAGE_REQUIRABLE)},
            )
        )
        return []
    return list(dict.fromkeys(value))


def _kind(data: dict[str, Any], name: str, errors: list[FieldError]) -> str:
    value = str(data.get(name) or Stage.Kind.OPEN)
    if value not in Stage.Kind.values:
        errors.append(
            FieldError(name, _("Choose one of: %(c)s.") % {"c": ", ".join(Stage.Kind.values)})
        )
    return value


_STAGE_CLEANERS: dict[str, Any] = {
    "_required": ("name", "kind", "probability"),
    "name": lambda d, n, e: _text(d, n, e, required=True),
    "name_en": lambda d, n, e: _text(d, n, e, required=False),
    "position": lambda d, n, e: _int(d, n, e, 0, 10_000),
    "probability": lambda d, n, e: _int(d, n, e, 0, 100),
    "kind": _kind,
    "required_fields": _required_fields,
}


def stage_save(*, actor: User, stage: Stage | None, data: dict[str, Any]) -> Stage:
    """Create (``stage`` None, ``data['pipeline_id']`` required) or change a stage.

    A stage's kind cannot change while deals are in it (their status follows the kind).
    """
    _require_admin(actor)
    obj = stage or Stage()
    if obj.pk is None:
        pipeline = Pipeline.objects.filter(pk=data.get("pipeline_id") or 0).first()
        if pipeline is None:
            raise ValidationFailed([FieldError("pipeline_id", _("No such pipeline."))])
        obj.pipeline = pipeline
    cleaned = _apply(obj, data, STAGE_FIELDS, _STAGE_CLEANERS)
    name = cleaned.get("name")
    if (
        name
        and Stage.objects.filter(pipeline_id=obj.pipeline_id, name=name).exclude(pk=obj.pk).exists()
    ):
        raise ValidationFailed([FieldError("name", _("This pipeline already has that stage."))])
    if (
        obj.pk is not None
        and "kind" in cleaned
        and cleaned["kind"] != obj.kind
        and Deal.objects.filter(stage=obj).exists()
    ):
        raise ValidationFailed(
            [FieldError("kind", _("Deals are in this stage; move them before changing its kind."))]
        )
    if obj.pk is None and "position" not in cleaned:
        last = Stage.objects.filter(pipeline_id=obj.pipeline_id).order_by("-position").first()
        cleaned["position"] = (last.position if last else 0) + 10
    with transaction.atomic():
        _save(actor, "stage", obj, cleaned, STAGE_FIELDS)
    return obj


def stage_delete(*, actor: User, stage: Stage, move_to: Stage | int | None = None) -> int:
    """Delete a stage; its deals move to ``move_to`` (same pipeline) first.

    Without ``move_to`` a stage that deals are in is refused (Conflict naming the count).
    Returns how many deals moved. Moved deals keep their won / lost dates only when the
    target has the same kind; each move is recorded in the deal's stage history.
    """
    _require_admin(actor)
    count = Deal.objects.filter(stage=stage).count()
    target: Stage | None = None
    if move_to is not None:
        target_id = move_to.pk if isinstance(move_to, Stage) else move_to
        target = Stage.objects.filter(pk=target_id, pipeline_id=stage.pipeline_id).first()
        if target is None or target.pk == stage.pk:
            raise ValidationFailed(
                [FieldError("move_to", _("Choose another stage of the same pipeline."))]
            )
    if count and target is None:
        raise Conflict(
            _("%(n)d deals are in this stage; choose a stage to move them to.") % {"n": count}
        )
    if Stage.objects.filter(pipeline_id=stage.pipeline_id).count() <= 1:
        raise Conflict(_("A pipeline needs at least one stage."))
    with transaction.atomic():
        moved = 0
        if target is not None and count:
            moved = _move_all(actor, stage, target)
        audit.record(
            actor=actor,
            action=A.DELETE,
            entity="stage",
            obj=stage,
            changes={
                "name": [stage.name, None],
                "deals_moved_to": [None, target.name if target else None],
            },
        )
        pk = stage.pk
        stage.delete()
        events.emit(PIPELINE_CHANGED, {"entity": "stage", "id": pk}, actor_id=actor.pk)
    return moved


def _move_all(actor: User, source: Stage, target: Stage) -> int:
    now = timezone.now()
    rows = list(
        Deal.objects.select_for_update()
        .filter(stage=source)
        .values_list("pk", "stage_changed_at", "created_at", "name")
    )
    updates: dict[str, Any] = {
        "stage": target,
        "status": target.kind,
        "probability": target.probability,
        "stage_changed_at": now,
        "updated_at": now,
    }
    if target.kind != source.kind:
        updates.update(
            won_at=now if target.kind == Stage.Kind.WON else None,
            lost_at=now if target.kind == Stage.Kind.LOST else None,
        )
        if target.kind != Stage.Kind.LOST:
            updates.update(loss_reason=None, loss_note="")
    Deal.objects.filter(pk__in=[r[0] for r in rows]).update(**updates)
    DealStageChange.objects.bulk_create(
        [
            DealStageChange(
                deal_id=pk,
                from_stage=source,
                to_stage=target,
                from_stage_name=source.name,
                to_stage_name=target.name,
                changed_at=now,
                time_in_from_stage=now - (entered or created),
                actor=actor,
            )
            for pk, entered, created, _name in rows
        ],
        batch_size=1000,
    )
    audit.record_many(
        [
            AuditEvent(
                actor=actor,
                actor_label=actor.get_username(),
                action=A.UPDATE,
                entity="deal",
                object_id=str(pk),
                object_repr=name[:200],
                changes={"stage": [source.name, target.name], "reason": [None, "stage deleted"]},
            )
            for pk, _entered, _created, name in rows
        ]
    )
    return len(rows)


# --- Loss reasons -----------------------------------------------------------------------

_LOSS_CLEANERS: dict[str, Any] = {
    "_required": ("name_zh",),
    "name_zh": lambda d, n, e: _text(d, n, e, required=True),
    "name_en": lambda d, n, e: _text(d, n, e, required=False),
    "active": lambda d, n, e: bool(d.get(n)),
    "position": lambda d, n, e: _int(d, n, e, 0, 10_000),
}


def loss_reason_save(*, actor: User, reason: LossReason | None, data: dict[str, Any]) -> LossReason:
    """Create (``reason`` None) or change a loss reason."""
    _require_admin(actor)
    obj = reason or LossReason()
    cleaned = _apply(obj, data, LOSS_REASON_FIELDS, _LOSS_CLEANERS)
    name = cleaned.get("name_zh")
    if name and LossReason.objects.filter(name_zh=name).exclude(pk=obj.pk).exists():
        raise ValidationFailed([FieldError("name_zh", _("This loss reason exists already."))])
    if obj.pk is None and "position" not in cleaned:
        cleaned["position"] = LossReason.objects.count() + 1
    with transaction.atomic():
        _save(actor, "loss_reason", obj, cleaned, LOSS_REASON_FIELDS)
    return obj


def loss_reason_delete(*, actor: User, reason: LossReason) -> None:
    """Delete an unused loss reason; one lost deals refer to is refused (deactivate it)."""
    _require_admin(actor)
    if Deal.objects.filter(loss_reason=reason).exists():
        raise Conflict(_("Lost deals give this reason; deactivate it instead."))
    with transaction.atomic():
        audit.record(
            actor=actor,
            action=A.DELETE,
            entity="loss_reason",
            obj=reason,
            changes={"name_zh": [reason.name_zh, None]},
        )
        reason.delete()
