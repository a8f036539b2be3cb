"""Deal and pipeline endpoints: /deals (+ /{id}, /{id}/move, /transfer), /pipelines
(+ stages), /loss-reasons."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router
from ninja.responses import Status

from guanxi.api.auth import actor
from guanxi.core import permissions
from guanxi.core.errors import FieldError, OutOfScope, ValidationFailed
from guanxi.identity.models import User
from guanxi.leads.api import custom_filters
from guanxi.sales import pipelines, selectors, services
from guanxi.sales.models import LossReason, Pipeline, Stage
from guanxi.sales.schemas import (
    DealDetailOut,
    DealFilter,
    DealIn,
    DealMoveIn,
    DealOut,
    DealPage,
    DealPatch,
    LossReasonIn,
    LossReasonOut,
    LossReasonPatch,
    PipelineIn,
    PipelineOut,
    PipelinePatch,
    StageDeleteIn,
    StageIn,
    StageOut,
    StagePatch,
    TransferIn,
    TransferOut,
)

router = Router(tags=["sales"])


def _detail(caller: User, deal: Any) -> dict[str, Any]:
    data = selectors.deal_as_dict(actor=caller, deal=deal)
    extras = selectors.deal_detail_extras(actor=caller, deal=deal)
    data["collaborator_ids"] = [u.pk for u in extras["collaborators"]]
    data["contacts"] = [
        {"contact_id": c["contact"].pk, "name": c["contact"].name, "role": c["role"]}
        for c in extras["contacts"]
    ]
    data["stage_history"] = [
        {
            "from_stage": h.from_stage_name or None,
            "to_stage": h.to_stage_name,
            "changed_at": h.changed_at.isoformat(),
            "seconds_in_from_stage": (
                int(h.time_in_from_stage.total_seconds()) if h.time_in_from_stage else None
            ),
            "actor": h.actor.username if h.actor else None,
        }
        for h in extras["stage_history"]
    ]
    return data


def _payload(payload: Any) -> dict[str, Any]:
    data: dict[str, Any] = payload.dict(exclude_unset=True)
    if "contacts" in data and data["contacts"] is not None:
        data["contacts"] = [dict(c) for c in data["contacts"]]
    return data


# --- Deals ------------------------------------------------------------------------------


@router.get("/deals", response=DealPage, summary="Deals in the caller's scope")
def deal_list(request: HttpRequest, filters: Query[DealFilter]) -> dict[str, Any]:
    caller = actor(request)
    f = filters.dict()
    result = selectors.deal_list(
        actor=caller,
        q=f.pop("q"),
        sort=f.pop("sort"),
        page=f.pop("page"),
        page_size=f.pop("page_size"),
        filters={**f, "custom": custom_filters(request)},
    )
    mask = permissions.masked_fields(caller, "deal")
    return result.as_api(
        [selectors.deal_as_dict(actor=caller, deal=d, mask=mask) for d in result.items]
    )


@router.post("/deals", response={201: DealDetailOut}, summary="Create a deal")
def deal_create(request: HttpRequest, payload: DealIn) -> Status[dict[str, Any]]:
    caller = actor(request)
    deal = services.deal_create(actor=caller, data=_payload(payload))
    deal = selectors.deal_get_for_user(actor=caller, pk=deal.pk)
    return Status(201, _detail(caller, deal))


@router.get("/deals/{int:deal_id}", response=DealDetailOut)
def deal_detail(request: HttpRequest, deal_id: int) -> dict[str, Any]:
    caller = actor(request)
    return _detail(caller, selectors.deal_get_for_user(actor=caller, pk=deal_id))


@router.patch("/deals/{int:deal_id}", response=DealDetailOut)
def deal_update(request: HttpRequest, deal_id: int, payload: DealPatch) -> dict[str, Any]:
    caller = actor(request)
    deal = selectors.deal_get_for_user(actor=caller, pk=deal_id, action="edit")
    services.deal_update(actor=caller, deal=deal, data=_payload(payload))
    return _detail(caller, _reload(caller, deal_id))


def _reload(caller: User, deal_id: int) -> Any:
    # After a transfer the deal may have left the caller's scope: 404 is then correct.
    return selectors.deal_get_for_user(actor=caller, pk=deal_id)


@router.delete("/deals/{int:deal_id}", response={204: None})
def deal_delete(request: HttpRequest, deal_id: int) -> Status[None]:
    caller = actor(request)
    deal = selectors.deal_get_for_user(actor=caller, pk=deal_id, action="delete")
    services.deal_delete(actor=caller, deal=deal)
    return Status(204, None)


@router.post(
    "/deals/{int:deal_id}/move",
    response=DealOut,
    summary="Move to a stage (lost: loss_reason + loss_note required)",
)
def deal_move(request: HttpRequest, deal_id: int, payload: DealMoveIn) -> dict[str, Any]:
    caller = actor(request)
    services.deal_move_stage(
        actor=caller,
        deal=deal_id,
        stage=payload.stage,
        loss_reason_id=payload.loss_reason,
        loss_note=payload.loss_note,
        before_id=payload.before_id,
        probability=payload.probability,
    )
    return selectors.deal_as_dict(actor=caller, deal=_reload(caller, deal_id))


@router.post("/deals/transfer", response=TransferOut, summary="Hand deals over")
def deal_transfer(request: HttpRequest, payload: TransferIn) -> dict[str, int]:
    caller = actor(request)
    to_user = User.objects.filter(pk=payload.to_user_id, is_active=True).first()
    if to_user is None:
        raise ValidationFailed([FieldError("to_user_id", "No such active user.")])
    moved = services.deal_transfer(actor=caller, records=payload.ids, to_user=to_user)
    return {"transferred": moved}


# --- Pipelines and stages ---------------------------------------------------------------


def _pipeline(pipeline_id: int) -> Pipeline:
    pipeline = Pipeline.objects.filter(pk=pipeline_id).first()
    if pipeline is None:
        raise OutOfScope()
    return pipeline


def _stage(stage_id: int) -> Stage:
    stage = Stage.objects.filter(pk=stage_id).first()
    if stage is None:
        raise OutOfScope()
    return stage


@router.get("/pipelines", response=list[PipelineOut], summary="Pipelines with their stages")
def pipeline_list(request: HttpRequest, include_inactive: bool = False) -> list[dict[str, Any]]:
    actor(request)
    return [
        selectors.pipeline_as_dict(p)
        for p in selectors.pipeline_list(active_only=not include_inactive)
    ]


@router.get("/pipelines/{int:pipeline_id}", response=PipelineOut)
def pipeline_detail(request: HttpRequest, pipeline_id: int) -> dict[str, Any]:
    actor(request)
    return selectors.pipeline_as_dict(_pipeline(pipeline_id))


@router.post("/pipelines", response={201: PipelineOut}, summary="Create a pipeline (admins)")
def pipeline_create(request: HttpRequest, payload: PipelineIn) -> Status[dict[str, Any]]:
    caller = actor(request)
    data = payload.dict(exclude_unset=True)
    if data.get("position") is None:
        data.pop("position", None)
    if data.get("stages") is not None:
        data["stages"] = [
            {k: v for k, v in dict(s).items() if v is not None} for s in data["stages"]
        ]
    pipeline = pipelines.pipeline_save(actor=caller, pipeline=None, data=data)
    return Status(201, selectors.pipeline_as_dict(_pipeline(pipeline.pk)))


@router.patch("/pipelines/{int:pipeline_id}", response=PipelineOut)
def pipeline_update(
    request: HttpRequest, pipeline_id: int, payload: PipelinePatch
) -> dict[str, Any]:
    caller = actor(request)
    data = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    pipelines.pipeline_save(actor=caller, pipeline=_pipeline(pipeline_id), data=data)
    return selectors.pipeline_as_dict(_pipeline(pipeline_id))


@router.delete("/pipelines/{int:pipeline_id}", response={204: None})
def pipeline_delete(request: HttpRequest, pipeline_id: int) -> Status[None]:
    pipelines.pipeline_delete(actor=actor(request), pipeline=_pipeline(pipeline_id))
    return Status(204, None)


@router.post("/pipelines/{int:pipeline_id}/stages", response={201: StageOut})
def stage_create(request: HttpRequest, pipeline_id: int, payload: StageIn) -> Status[Stage]:
    caller = actor(request)
    data = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    stage = pipelines.stage_save(
        actor=caller, stage=None, data={**data, "pipeline_id": _pipeline(pipeline_id).pk}
    )
    return Status(201, stage)


@router.patch("/stages/{int:stage_id}", response=StageOut)
def stage_update(request: HttpRequest, stage_id: int, payload: StagePatch) -> Stage:
    caller = actor(request)
    data = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    return pipelines.stage_save(actor=caller, stage=_stage(stage_id), data=data)


@router.post(
    "/stages/{int:stage_id}/delete",
    summary="Delete a stage; its deals move to move_to (409 if deals and no move_to)",
)
def stage_delete(request: HttpRequest, stage_id: int, payload: StageDeleteIn) -> dict[str, int]:
    moved = pipelines.stage_delete(
        actor=actor(request), stage=_stage(stage_id), move_to=payload.move_to
    )
    return {"moved": moved}


# --- Loss reasons -----------------------------------------------------------------------


def _reason(reason_id: int) -> LossReason:
    reason = LossReason.objects.filter(pk=reason_id).first()
    if reason is None:
        raise OutOfScope()
    return reason


@router.get("/loss-reasons", response=list[LossReasonOut])
def loss_reason_list(request: HttpRequest, include_inactive: bool = False) -> list[LossReason]:
    actor(request)
    return selectors.loss_reason_list(active_only=not include_inactive)


@router.post("/loss-reasons", response={201: LossReasonOut}, summary="Add a loss reason (admins)")
def loss_reason_create(request: HttpRequest, payload: LossReasonIn) -> Status[LossReason]:
    data = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    return Status(201, pipelines.loss_reason_save(actor=actor(request), reason=None, data=data))


@router.patch("/loss-reasons/{int:reason_id}", response=LossReasonOut)
def loss_reason_update(
    request: HttpRequest, reason_id: int, payload: LossReasonPatch
) -> LossReason:
    data = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    return pipelines.loss_reason_save(actor=actor(request), reason=_reason(reason_id), data=data)


@router.delete("/loss-reasons/{int:reason_id}", response={204: None})
def loss_reason_delete(request: HttpRequest, reason_id: int) -> Status[None]:
    pipelines.loss_reason_delete(actor=actor(request), reason=_reason(reason_id))
    return Status(204, None)
