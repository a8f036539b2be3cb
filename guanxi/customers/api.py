"""Account and contact endpoints: /accounts, /contacts (+ /{id}, /transfer)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router
from ninja.responses import Status

from guanxi.api.auth import actor
from guanxi.core import permissions
from guanxi.core.lists_api import BulkIn, BulkOut, run_bulk, with_saved_view
from guanxi.customers import selectors, services
from guanxi.customers.schemas import (
    AccountFilter,
    AccountIn,
    AccountOut,
    AccountPage,
    AccountPatch,
    ContactFilter,
    ContactIn,
    ContactOut,
    ContactPage,
    ContactPatch,
    TransferIn,
    TransferOut,
)
from guanxi.leads.api import custom_filters, to_user

router = Router(tags=["customers"])


# --- Accounts ---------------------------------------------------------------------------


@router.get("/accounts", response=AccountPage, summary="Accounts in the caller's scope")
def account_list(
    request: HttpRequest, filters: Query[AccountFilter], saved_view: int | None = None
) -> dict[str, Any]:
    """``saved_view``: apply a saved view's filters and sort (see ``/views``)."""
    caller = actor(request)
    f, view_custom, _preset = with_saved_view(
        request, caller, "account", saved_view, filters.dict()
    )
    result = selectors.account_list(
        actor=caller,
        q=f.pop("q"),
        sort=f.pop("sort"),
        page=f.pop("page"),
        page_size=f.pop("page_size"),
        filters={**f, "custom": {**view_custom, **custom_filters(request)}},
    )
    mask = permissions.masked_fields(caller, "account")
    return result.as_api(
        [selectors.account_as_dict(actor=caller, account=x, mask=mask) for x in result.items]
    )


@router.post("/accounts", response={201: AccountOut})
def account_create(request: HttpRequest, payload: AccountIn) -> Status[dict[str, Any]]:
    caller = actor(request)
    account = services.account_create(actor=caller, data=payload.dict(exclude_unset=True))
    return Status(201, selectors.account_as_dict(actor=caller, account=account))


@router.get("/accounts/{int:account_id}", response=AccountOut)
def account_detail(request: HttpRequest, account_id: int) -> dict[str, Any]:
    caller = actor(request)
    return selectors.account_as_dict(
        actor=caller, account=selectors.account_get_for_user(actor=caller, pk=account_id)
    )


@router.patch("/accounts/{int:account_id}", response=AccountOut)
def account_update(request: HttpRequest, account_id: int, payload: AccountPatch) -> dict[str, Any]:
    caller = actor(request)
    account = selectors.account_get_for_user(actor=caller, pk=account_id, action="edit")
    account = services.account_update(
        actor=caller, account=account, data=payload.dict(exclude_unset=True)
    )
    return selectors.account_as_dict(actor=caller, account=account)


@router.delete("/accounts/{int:account_id}", response={204: None})
def account_delete(request: HttpRequest, account_id: int) -> Status[None]:
    caller = actor(request)
    account = selectors.account_get_for_user(actor=caller, pk=account_id, action="delete")
    services.account_delete(actor=caller, account=account)
    return Status(204, None)


@router.post("/accounts/transfer", response=TransferOut)
def account_transfer(request: HttpRequest, payload: TransferIn) -> dict[str, int]:
    caller = actor(request)
    moved = services.account_transfer(
        actor=caller, records=payload.ids, to_user=to_user(payload.to_user_id)
    )
    return {"transferred": moved}


@router.post("/accounts/bulk", response=BulkOut, summary="Bulk edit / tag / transfer / delete")
def account_bulk(request: HttpRequest, payload: BulkIn) -> dict[str, Any]:
    """Like ``POST /leads/bulk``; accounts that still have contacts are not deleted."""
    return run_bulk(request, "account", payload)


# --- Contacts ---------------------------------------------------------------------------


@router.get("/contacts", response=ContactPage, summary="Contacts in the caller's scope")
def contact_list(
    request: HttpRequest, filters: Query[ContactFilter], saved_view: int | None = None
) -> dict[str, Any]:
    """``saved_view``: apply a saved view's filters and sort (see ``/views``)."""
    caller = actor(request)
    f, view_custom, _preset = with_saved_view(
        request, caller, "contact", saved_view, filters.dict()
    )
    result = selectors.contact_list(
        actor=caller,
        q=f.pop("q"),
        sort=f.pop("sort"),
        page=f.pop("page"),
        page_size=f.pop("page_size"),
        filters={**f, "custom": {**view_custom, **custom_filters(request)}},
    )
    mask = permissions.masked_fields(caller, "contact")
    return result.as_api(
        [selectors.contact_as_dict(actor=caller, contact=x, mask=mask) for x in result.items]
    )


@router.post(
    "/contacts", response={201: ContactOut}, summary="Create a contact (409 on duplicates)"
)
def contact_create(
    request: HttpRequest, payload: ContactIn, allow_duplicate: bool = False
) -> Status[dict[str, Any]]:
    caller = actor(request)
    contact = services.contact_create(
        actor=caller, data=payload.dict(exclude_unset=True), allow_duplicate=allow_duplicate
    )
    return Status(201, selectors.contact_as_dict(actor=caller, contact=contact))


@router.get("/contacts/{int:contact_id}", response=ContactOut)
def contact_detail(request: HttpRequest, contact_id: int) -> dict[str, Any]:
    caller = actor(request)
    return selectors.contact_as_dict(
        actor=caller, contact=selectors.contact_get_for_user(actor=caller, pk=contact_id)
    )


@router.patch("/contacts/{int:contact_id}", response=ContactOut)
def contact_update(
    request: HttpRequest, contact_id: int, payload: ContactPatch, allow_duplicate: bool = False
) -> dict[str, Any]:
    caller = actor(request)
    contact = selectors.contact_get_for_user(actor=caller, pk=contact_id, action="edit")
    contact = services.contact_update(
        actor=caller,
        contact=contact,
        data=payload.dict(exclude_unset=True),
        allow_duplicate=allow_duplicate,
    )
    return selectors.contact_as_dict(actor=caller, contact=contact)


@router.delete("/contacts/{int:contact_id}", response={204: None})
def contact_delete(request: HttpRequest, contact_id: int) -> Status[None]:
    caller = actor(request)
    contact = selectors.contact_get_for_user(actor=caller, pk=contact_id, action="delete")
    services.contact_delete(actor=caller, contact=contact)
    return Status(204, None)


@router.post("/contacts/bulk", response=BulkOut, summary="Bulk edit / tag / transfer / delete")
def contact_bulk(request: HttpRequest, payload: BulkIn) -> dict[str, Any]:
    """Like ``POST /leads/bulk``."""
    return run_bulk(request, "contact", payload)


@router.post("/contacts/transfer", response=TransferOut)
def contact_transfer(request: HttpRequest, payload: TransferIn) -> dict[str, int]:
    caller = actor(request)
    moved = services.contact_transfer(
        actor=caller, records=payload.ids, to_user=to_user(payload.to_user_id)
    )
    return {"transferred": moved}
