"""/notes: the organisation's notes and announcements."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.responses import Status

from guanxi.api.auth import actor
from guanxi.core import selectors, services
from guanxi.core.pagination import clean_page_args

router = Router(tags=["notes"])

CUSTOM_PREFIX = "custom."


class OwnerRef(Schema):
    id: int
    username: str


class NoteOut(Schema):
    id: int
    title: str
    body: str
    owner: OwnerRef | None
    custom: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime


class NoteList(Schema):
    items: list[NoteOut]
    count: int
    count_exact: bool
    page: int
    page_size: int


class NoteIn(Schema):
    title: str
    body: str = ""
    custom: dict[str, Any] = {}


class NotePatch(Schema):
    title: str | None = None
    body: str | None = None
    custom: dict[str, Any] | None = None


@router.get(
    "/notes",
    response=NoteList,
    summary="Notes in the caller's scope",
    description=(
        "Filter by custom values with `custom.<key>=value` (also `custom.<key>__gte`, "
        "`__lte`, `__contains`); sort by `created_at`, `updated_at`, `title` or "
        "`custom.<key>`, with `-` for descending."
    ),
)
def note_list(
    request: HttpRequest,
    q: str = "",
    sort: str = "-created_at",
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    caller = actor(request)
    clean_page_args(page, page_size)
    custom = {
        key[len(CUSTOM_PREFIX) :]: value
        for key, value in request.GET.items()
        if key.startswith(CUSTOM_PREFIX)
    }
    result = selectors.note_list(
        actor=caller, q=q, custom=custom, sort=sort, page=page, page_size=page_size
    )
    return result.as_api([selectors.note_as_dict(note=n) for n in result.items])


@router.post("/notes", response={201: NoteOut})
def note_create(request: HttpRequest, payload: NoteIn) -> Status[dict[str, Any]]:
    note = services.note_create(actor=actor(request), data=payload.dict())
    return Status(201, selectors.note_as_dict(note=note))


@router.get("/notes/{note_id}", response=NoteOut)
def note_detail(request: HttpRequest, note_id: int) -> dict[str, Any]:
    return selectors.note_as_dict(
        note=selectors.note_get_for_user(actor=actor(request), pk=note_id)
    )


@router.patch("/notes/{note_id}", response=NoteOut)
def note_update(request: HttpRequest, note_id: int, payload: NotePatch) -> dict[str, Any]:
    caller = actor(request)
    note = selectors.note_get_for_user(actor=caller, pk=note_id)
    note = services.note_update(actor=caller, note=note, data=payload.dict(exclude_unset=True))
    return selectors.note_as_dict(note=selectors.note_get_for_user(actor=caller, pk=note.pk))


@router.delete("/notes/{note_id}", response={204: None})
def note_delete(request: HttpRequest, note_id: int) -> Status[None]:
    caller = actor(request)
    services.note_delete(actor=caller, note=selectors.note_get_for_user(actor=caller, pk=note_id))
    return Status(204, None)
