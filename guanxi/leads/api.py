"""Lead endpoints: /leads, /leads/{id}, /leads/{id}/convert, /leads/transfer, /lead-sources."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from guanxi.api.auth import actor
from guanxi.core import permissions
from guanxi.core.errors import (
    DuplicateOf,
    FieldError,
    NotPermitted,
    OutOfScope,
    ValidationFailed,
)
from guanxi.core.lists_api import BulkIn, BulkOut, run_bulk, with_saved_view
from guanxi.customers import selectors as customer_selectors
from guanxi.customers.schemas import (
    AccountOut,
    AccountPage,
    ContactOut,
    TransferIn,
    TransferOut,
)
from guanxi.identity.models import User
from guanxi.leads import dedup, pool, selectors, services
from guanxi.leads import handover as handover_services
from guanxi.leads.models import LeadSource, PoolSettings
from guanxi.leads.pool import selectors as pool_selectors
from guanxi.leads.schemas import (
    LeadConvertIn,
    LeadFilter,
    LeadIn,
    LeadOut,
    LeadPage,
    LeadPatch,
    LeadSourceOut,
)

router = Router(tags=["leads"])


def custom_filters(request: HttpRequest) -> dict[str, str]:
    """``?custom.region=east&custom.budget__gte=100`` → ``{"region": ..., "budget__gte": ...}``."""
    return {
        k[7:]: str(request.GET.get(k, ""))
        for k in request.GET
        if k.startswith("custom.") and len(k) > 7
    }


def to_user(user_id: int | None) -> User | None:
    if user_id is None:
        return None
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise ValidationFailed([FieldError("to_user_id", "No such active user.")])
    return user


@router.get("/leads", response=LeadPage, summary="Leads in the caller's scope")
def lead_list(
    request: HttpRequest, filters: Query[LeadFilter], saved_view: int | None = None
) -> dict[str, Any]:
    """``saved_view``: apply a saved view's filters and sort (see ``/views``); parameters
    given here win."""
    caller = actor(request)
    f, view_custom, preset = with_saved_view(request, caller, "lead", saved_view, filters.dict())
    given = {k: v for k, v in f.items() if k not in ("q", "sort", "page", "page_size") and v != ""}
    given.update(selectors.preset_filters(preset, caller))
    result = selectors.lead_list(
        actor=caller,
        q=f["q"],
        sort=f["sort"],
        page=f["page"],
        page_size=f["page_size"],
        filters={**given, "custom": {**view_custom, **custom_filters(request)}},
    )
    mask = permissions.masked_fields(caller, "lead")
    return result.as_api(
        [selectors.lead_as_dict(actor=caller, lead=lead, mask=mask) for lead in result.items]
    )


@router.post("/leads", response={201: LeadOut}, summary="Create a lead (409 on duplicates)")
def lead_create(
    request: HttpRequest, payload: LeadIn, allow_duplicate: bool = False
) -> Status[dict[str, Any]]:
    caller = actor(request)
    data = payload.dict(exclude_unset=True)
    assign = data.pop("assign_by_rules", None)
    lead = services.lead_create(
        actor=caller, data=data, allow_duplicate=allow_duplicate, assign=assign
    )
    return Status(201, selectors.lead_as_dict(actor=caller, lead=lead))


@router.get("/leads/{int:lead_id}", response=LeadOut)
def lead_detail(request: HttpRequest, lead_id: int) -> dict[str, Any]:
    caller = actor(request)
    return selectors.lead_as_dict(
        actor=caller, lead=selectors.lead_get_for_user(actor=caller, pk=lead_id)
    )


@router.patch("/leads/{int:lead_id}", response=LeadOut)
def lead_update(
    request: HttpRequest, lead_id: int, payload: LeadPatch, allow_duplicate: bool = False
) -> dict[str, Any]:
    caller = actor(request)
    lead = selectors.lead_get_for_user(actor=caller, pk=lead_id, action="edit")
    lead = services.lead_update(
        actor=caller,
        lead=lead,
        data=payload.dict(exclude_unset=True),
        allow_duplicate=allow_duplicate,
    )
    return selectors.lead_as_dict(actor=caller, lead=lead)


@router.delete("/leads/{int:lead_id}", response={204: None})
def lead_delete(request: HttpRequest, lead_id: int) -> Status[None]:
    caller = actor(request)
    lead = selectors.lead_get_for_user(actor=caller, pk=lead_id, action="delete")
    services.lead_delete(actor=caller, lead=lead)
    return Status(204, None)


@router.post("/leads/{int:lead_id}/convert", summary="Convert to account + contact (409 if twice)")
def lead_convert(
    request: HttpRequest, lead_id: int, payload: LeadConvertIn, allow_duplicate: bool = False
) -> dict[str, Any]:
    caller = actor(request)
    lead = selectors.lead_get_for_user(actor=caller, pk=lead_id, action="edit")
    result = services.lead_convert(
        actor=caller,
        lead=lead,
        account_id=payload.account_id,
        create_deal=payload.create_deal,
        allow_duplicate=allow_duplicate,
        deal_data=payload.deal.dict(exclude_none=True) if payload.deal else None,
    )
    account = customer_selectors.account_as_dict(actor=caller, account=result.account)
    contact = customer_selectors.contact_as_dict(actor=caller, contact=result.contact)
    deal = None
    if result.deal is not None:
        from guanxi.sales import selectors as sales_selectors
        from guanxi.sales.schemas import DealOut

        deal = DealOut(
            **sales_selectors.deal_as_dict(
                actor=caller,
                deal=sales_selectors.deal_get_for_user(actor=caller, pk=result.deal.pk),
            )
        ).dict()
    return {
        "account": AccountOut(**account).dict(),
        "contact": ContactOut(**contact).dict(),
        "deal": deal,
    }


@router.get("/leads/{int:lead_id}/duplicates", summary="Exact and likely duplicates of a lead")
def lead_duplicates(request: HttpRequest, lead_id: int) -> dict[str, Any]:
    """``exact``: another lead / contact with the same phone or e-mail (or null);
    ``likely``: same name or pinyin name at the same company (suggestions only). Records
    outside the caller's scope are listed with ``id: null`` and ``visible: false``."""
    caller = actor(request)
    lead = selectors.lead_get_for_user(actor=caller, pk=lead_id)
    exact = dedup.find_duplicate(
        mobile_e164=lead.mobile_e164,
        phone_e164=lead.phone_e164,
        email_norm=lead.email_norm,
        exclude=("lead", lead.pk),
        actor=caller,
    )
    likely = dedup.likely_duplicates(
        name=lead.name, company=lead.company, exclude=("lead", lead.pk), actor=caller
    )

    def out(d: DuplicateOf) -> dict[str, Any]:
        return {
            "type": d.type,
            "id": d.id if d.visible else None,
            "match": d.match,
            "visible": d.visible,
        }

    return {"exact": out(exact) if exact else None, "likely": [out(d) for d in likely]}


@router.post("/leads/transfer", response=TransferOut, summary="Hand leads over (or release)")
def lead_transfer(request: HttpRequest, payload: TransferIn) -> dict[str, int]:
    caller = actor(request)
    moved = services.lead_transfer(
        actor=caller, records=payload.ids, to_user=to_user(payload.to_user_id)
    )
    return {"transferred": moved}


@router.post("/leads/bulk", response=BulkOut, summary="Bulk edit / tag / transfer / delete")
def lead_bulk(request: HttpRequest, payload: BulkIn) -> dict[str, Any]:
    """Apply one action to ``ids`` or to every lead matching ``filter`` (the list's query
    parameters: q, status, source, city, tag, owner, view, custom.<key>). Leads the
    caller may not change are skipped and counted by reason; converted leads keep their
    fields. Field and tag changes can be undone (``/bulk/{operation_id}/undo``)."""
    return run_bulk(request, "lead", payload)


@router.get("/lead-sources", response=list[LeadSourceOut])
def lead_sources(request: HttpRequest, include_inactive: bool = False) -> list[LeadSource]:
    actor(request)
    return selectors.source_list(active_only=not include_inactive)


class ReleaseIn(Schema):
    reason: str


class PoolPreviewOut(Schema):
    at: str
    count: int
    ids: list[int]


class HandoverIn(Schema):
    from_user_id: int
    to_user_id: int
    entities: list[str] | None = None
    dry_run: bool = False


@router.post("/leads/{int:lead_id}/claim", response=LeadOut, summary="Claim a pool lead (409)")
def lead_claim(request: HttpRequest, lead_id: int) -> dict[str, Any]:
    caller = actor(request)
    lead = pool.lead_claim(actor=caller, lead=lead_id)
    return selectors.lead_as_dict(actor=caller, lead=lead)


@router.post("/leads/{int:lead_id}/release", response=LeadOut, summary="Release to the pool")
def lead_release(request: HttpRequest, lead_id: int, payload: ReleaseIn) -> dict[str, Any]:
    caller = actor(request)
    lead = pool.lead_release(actor=caller, lead=lead_id, reason=payload.reason)
    return selectors.lead_as_dict(actor=caller, lead=lead)


@router.get("/pool/preview", response=PoolPreviewOut, summary="Leads reclaimed in 24 hours")
def pool_preview(request: HttpRequest) -> dict[str, Any]:
    caller = actor(request)
    if not permissions.is_admin(caller):
        raise NotPermitted()
    result = pool.reclaim_preview(limit=0)
    return {
        "at": result.at.isoformat(),
        "count": result.count,
        "ids": result.ids,
    }


@router.post("/handover", summary="Hand a user's records to another user (admins)")
def handover(request: HttpRequest, payload: HandoverIn) -> dict[str, Any]:
    caller = actor(request)
    if not permissions.is_admin(caller):
        raise NotPermitted()
    source = User.objects.filter(pk=payload.from_user_id).first()
    if source is None:
        raise ValidationFailed([FieldError("from_user_id", "No such user.")])
    target = to_user(payload.to_user_id)
    assert target is not None
    if payload.dry_run:
        return {"preview": handover_services.handover_preview(source), "transferred": None}
    moved = handover_services.handover_execute(
        actor=caller, from_user=source, to_user=target, entities=payload.entities
    )
    return {"preview": handover_services.handover_preview(source), "transferred": moved}


class LockIn(Schema):
    locked: bool = True


@router.post("/leads/{int:lead_id}/lock", response=LeadOut, summary="Lock against reclaim")
def lead_lock(request: HttpRequest, lead_id: int, payload: LockIn) -> dict[str, Any]:
    caller = actor(request)
    lead = pool.lead_lock(actor=caller, lead=lead_id, locked=payload.locked)
    return selectors.lead_as_dict(actor=caller, lead=lead)


# --- Account pool (客户公海), department pools and pool settings --------------------------


class PoolFilter(Schema):
    q: str = ""
    pool: str = Field("", description="'company', a department id, or empty for every pool")
    tier: str = Field("", description="Accounts only: A, B or C")
    page: int = 1
    page_size: int = 50


@router.get("/leads/pool", response=LeadPage, summary="Leads in the pools the caller sees")
def lead_pool_list(request: HttpRequest, filters: Query[PoolFilter]) -> dict[str, Any]:
    caller = actor(request)
    f = filters.dict()
    if f.pop("tier"):
        raise ValidationFailed([FieldError("tier", "Leads have no tier.")])
    result = pool_selectors.pool_list(actor=caller, entity="lead", **f)
    mask = permissions.masked_fields(caller, "lead")
    return result.as_api(
        [selectors.lead_as_dict(actor=caller, lead=lead, mask=mask) for lead in result.items]
    )


@router.get("/accounts/pool", response=AccountPage, summary="Accounts in the pools the caller sees")
def account_pool_list(request: HttpRequest, filters: Query[PoolFilter]) -> dict[str, Any]:
    caller = actor(request)
    result = pool_selectors.pool_list(actor=caller, entity="account", **filters.dict())
    mask = permissions.masked_fields(caller, "account")
    return result.as_api(
        [
            customer_selectors.account_as_dict(actor=caller, account=a, mask=mask)
            for a in result.items
        ]
    )


@router.post(
    "/accounts/{int:account_id}/claim", response=AccountOut, summary="Claim a pool account (409)"
)
def account_claim(request: HttpRequest, account_id: int) -> dict[str, Any]:
    caller = actor(request)
    account = pool.account_claim(actor=caller, account=account_id)
    return customer_selectors.account_as_dict(actor=caller, account=account)


@router.post(
    "/accounts/{int:account_id}/release", response=AccountOut, summary="Release to the pool"
)
def account_release(request: HttpRequest, account_id: int, payload: ReleaseIn) -> dict[str, Any]:
    caller = actor(request)
    account = pool.account_release(actor=caller, account=account_id, reason=payload.reason)
    return customer_selectors.account_as_dict(actor=caller, account=account)


@router.post("/accounts/{int:account_id}/lock", response=AccountOut, summary="Lock against reclaim")
def account_lock(request: HttpRequest, account_id: int, payload: LockIn) -> dict[str, Any]:
    caller = actor(request)
    account = pool.account_lock(actor=caller, account=account_id, locked=payload.locked)
    return customer_selectors.account_as_dict(actor=caller, account=account)


@router.get(
    "/accounts/pool/preview", response=PoolPreviewOut, summary="Accounts reclaimed in 24 hours"
)
def account_pool_preview(request: HttpRequest) -> dict[str, Any]:
    caller = actor(request)
    if not permissions.is_admin(caller):
        raise NotPermitted()
    result = pool.reclaim_preview(entity="account", limit=0)
    return {"at": result.at.isoformat(), "count": result.count, "ids": result.ids}


class PoolOut(Schema):
    department_id: int | None = Field(..., description="null: the company pool")
    name: str


class PoolIn(Schema):
    department_id: int
    name: str = ""


@router.get("/pools", response=list[PoolOut], summary="The pools the caller sees")
def pools(request: HttpRequest, entity: str = "account") -> list[dict[str, Any]]:
    caller = actor(request)
    if entity not in ("lead", "account"):
        raise ValidationFailed([FieldError("entity", "Use lead or account.")])
    permissions.require(caller, entity, "view")
    return [{"department_id": d, "name": n} for d, n in pool.visible_pools(caller, entity)]


@router.post("/pools", response={201: PoolOut}, summary="Give a department its own pool")
def pool_create(request: HttpRequest, payload: PoolIn) -> Status[dict[str, Any]]:
    from guanxi.identity.models import Department

    caller = actor(request)
    if not permissions.is_admin(caller):
        raise NotPermitted()
    department = Department.objects.filter(pk=payload.department_id).first()
    if department is None:
        raise ValidationFailed([FieldError("department_id", "No such department.")])
    created = pool.pool_create(actor=caller, department=department, name=payload.name)
    return Status(201, {"department_id": created.department_id, "name": created.name})


@router.delete("/pools/{int:department_id}", summary="Remove a department pool")
def pool_delete(request: HttpRequest, department_id: int) -> dict[str, Any]:
    from guanxi.leads.models import Pool

    caller = actor(request)
    if not permissions.is_admin(caller):
        raise NotPermitted()
    found = Pool.objects.filter(department_id=department_id).first()
    if found is None:
        raise OutOfScope()
    return {"moved": pool.pool_delete(actor=caller, pool=found)}


class PoolSettingsOut(Schema):
    max_owned: int
    max_locked: int
    max_owned_accounts: int
    max_locked_accounts: int
    cooldown_days: int


class PoolSettingsPatch(Schema):
    max_owned: int | None = None
    max_locked: int | None = None
    max_owned_accounts: int | None = None
    max_locked_accounts: int | None = None
    cooldown_days: int | None = None


def _settings_out(conf: PoolSettings) -> dict[str, int]:
    return {name: getattr(conf, name) for name in PoolSettingsOut.model_fields}


@router.get("/pool/settings", response=PoolSettingsOut, summary="Pool caps and cool-down")
def pool_settings(request: HttpRequest) -> dict[str, int]:
    actor(request)
    return _settings_out(PoolSettings.current())


@router.patch("/pool/settings", response=PoolSettingsOut, summary="Change caps / cool-down")
def pool_settings_update(request: HttpRequest, payload: PoolSettingsPatch) -> dict[str, int]:
    caller = actor(request)
    conf = pool.settings_save(actor=caller, data=payload.dict(exclude_unset=True))
    return _settings_out(conf)
