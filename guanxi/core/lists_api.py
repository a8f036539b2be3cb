"""/views (saved list views), /list-preferences, /lists/{entity}/columns and bulk undo.

The bulk endpoints themselves live with their lists (``POST /leads/bulk``,
``/accounts/bulk``, ``/contacts/bulk``) and share :func:`run_bulk`.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.responses import Status

from guanxi.api.auth import actor
from guanxi.core import bulk, lists, permissions, saved_views
from guanxi.core.errors import FieldError, ValidationFailed

router = Router(tags=["lists"])


class OwnerRef(Schema):
    id: int
    username: str


class SavedViewOut(Schema):
    id: int
    entity: str
    name: str
    owner: OwnerRef
    query: dict[str, str]
    columns: list[str]
    visibility: str
    role_ids: list[int]
    mine: bool
    is_default: bool


class SavedViewIn(Schema):
    entity: str = Field(..., description="lead, account or contact")
    name: str
    query: dict[str, Any] = Field(
        {}, description="The list's query parameters, e.g. {'status': 'new', 'sort': '-score'}"
    )
    columns: list[str] = Field([], description="Column keys in order (see /lists/{entity}/columns)")
    visibility: str = Field("private", description="private, everyone or roles")
    role_ids: list[int] = []
    make_default: bool = False


class SavedViewPatch(Schema):
    name: str | None = None
    query: dict[str, Any] | None = None
    columns: list[str] | None = None
    visibility: str | None = None
    role_ids: list[int] | None = None


class PreferenceOut(Schema):
    entity: str
    columns: list[str]
    default_view_id: int | None


class PreferenceIn(Schema):
    columns: list[str] | None = None
    default_view_id: int | None = None


class ColumnOut(Schema):
    key: str
    label: str
    default: bool


@router.get("/views", response=list[SavedViewOut], summary="Saved views of a list")
def view_list(request: HttpRequest, entity: str) -> list[dict[str, Any]]:
    """The caller's own views and those shared with them (everyone, or one of their
    roles). Opening a shared view still lists only the caller's own data scope."""
    caller = actor(request)
    lists.spec(entity)
    permissions.require(caller, entity, "view")
    ctx = saved_views.list_context(actor=caller, entity=entity)
    return [saved_views.info_as_dict(v, ctx.default_view_id) for v in ctx.views]


@router.post("/views", response={201: SavedViewOut}, summary="Save a view (403 to share)")
def view_create(request: HttpRequest, payload: SavedViewIn) -> Status[dict[str, Any]]:
    caller = actor(request)
    data = payload.dict()
    entity = data.pop("entity")
    make_default = data.pop("make_default")
    view = saved_views.saved_view_create(
        actor=caller, entity=entity, data=data, make_default=make_default
    )
    return Status(201, saved_views.saved_view_as_dict(actor=caller, view=view))


@router.get("/views/{int:view_id}", response=SavedViewOut)
def view_detail(request: HttpRequest, view_id: int) -> dict[str, Any]:
    caller = actor(request)
    view = saved_views.saved_view_get_for_user(actor=caller, pk=view_id)
    return saved_views.saved_view_as_dict(actor=caller, view=view)


@router.patch("/views/{int:view_id}", response=SavedViewOut, summary="Rename / change a view")
def view_update(request: HttpRequest, view_id: int, payload: SavedViewPatch) -> dict[str, Any]:
    caller = actor(request)
    view = saved_views.saved_view_get_for_user(actor=caller, pk=view_id, action="edit")
    view = saved_views.saved_view_update(
        actor=caller, view=view, data=payload.dict(exclude_unset=True)
    )
    return saved_views.saved_view_as_dict(actor=caller, view=view)


@router.delete("/views/{int:view_id}", response={204: None})
def view_delete(request: HttpRequest, view_id: int) -> Status[None]:
    caller = actor(request)
    view = saved_views.saved_view_get_for_user(actor=caller, pk=view_id, action="edit")
    saved_views.saved_view_delete(actor=caller, view=view)
    return Status(204, None)


def _preference(caller: Any, entity: str) -> dict[str, Any]:
    ctx = saved_views.list_context(actor=caller, entity=entity)
    return {"entity": entity, "columns": ctx.columns, "default_view_id": ctx.default_view_id}


@router.get("/list-preferences/{entity}", response=PreferenceOut)
def preference_detail(request: HttpRequest, entity: str) -> dict[str, Any]:
    caller = actor(request)
    lists.spec(entity)
    permissions.require(caller, entity, "view")
    return _preference(caller, entity)


@router.put(
    "/list-preferences/{entity}", response=PreferenceOut, summary="Columns and default view"
)
def preference_save(request: HttpRequest, entity: str, payload: PreferenceIn) -> dict[str, Any]:
    caller = actor(request)
    given = payload.dict(exclude_unset=True)
    saved_views.list_preference_save(
        actor=caller,
        entity=entity,
        columns=given.get("columns", saved_views.KEEP) or [],
        default_view_id=given.get("default_view_id", saved_views.KEEP),
    )
    return _preference(caller, entity)


@router.get("/lists/{entity}/columns", response=list[ColumnOut], summary="Columns a list offers")
def column_list(request: HttpRequest, entity: str) -> list[dict[str, Any]]:
    caller = actor(request)
    list_spec = lists.spec(entity)
    permissions.require(caller, entity, "view")
    return [
        {"key": c.key, "label": str(c.label), "default": c.key in list_spec.default_columns}
        for c in lists.available(entity)
    ]


def with_saved_view(
    request: HttpRequest, caller: Any, entity: str, saved_view: int | None, given: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str], str]:
    """A list endpoint's filters with a saved view's applied under them (``?saved_view=``):
    parameters in the request win. Returns (filters, custom filters, built-in view key).
    A view the caller may not open is a 404; it never widens the caller's scope."""
    custom: dict[str, str] = {}
    if saved_view is None:
        return given, custom, ""
    view = saved_views.saved_view_get_for_user(actor=caller, pk=saved_view)
    if view.entity != entity:
        raise ValidationFailed([FieldError("saved_view", _("This view belongs to another list."))])
    merged = dict(given)
    preset = ""
    for key, value in (view.query or {}).items():
        if key in request.GET:
            continue
        if key.startswith(lists.CUSTOM):
            custom[key[len(lists.CUSTOM) :]] = value
        elif key == "view":
            preset = value
        elif key in merged:
            merged[key] = int(value) if isinstance(merged[key], int) or key == "account" else value
    return merged, custom, preset


# --- bulk -------------------------------------------------------------------------------


class BulkIn(Schema):
    ids: list[int] | None = Field(None, description="The records to change, or …")
    filter: dict[str, Any] | None = Field(
        None, description="… every record matching the list's query parameters"
    )
    action: str = Field(..., description="edit, add_tags, remove_tags, transfer or delete")
    field: str | None = Field(None, description="edit: a field name or custom.<key>")
    value: Any = Field(None, description="edit: the new value (null or '' clears)")
    tags: list[str] | None = None
    to_user_id: int | None = Field(None, description="transfer: a user id, null = public pool")
    dry_run: bool = Field(False, description="Count what would happen; change nothing")


class SkipOut(Schema):
    reason: str
    count: int


class BulkOut(Schema):
    action: str
    matched: int
    updated: int
    unchanged: int
    skipped: list[SkipOut]
    operation_id: int | None
    undoable: bool
    dry_run: bool
    message: str


def run_bulk(request: HttpRequest, entity: str, payload: BulkIn) -> dict[str, Any]:
    """One bulk action on ``entity``'s list (shared by the per-list endpoints)."""
    caller = actor(request)
    given = payload.dict(exclude_unset=True)
    if (payload.ids is None) == (payload.filter is None):
        raise ValidationFailed([FieldError("ids", _("Give either ids or filter."))])
    selection = bulk.Selection(ids=payload.ids, filter=payload.filter)
    data = {
        k: v for k, v in given.items() if k in ("action", "field", "value", "tags", "to_user_id")
    }
    result = bulk.bulk_apply(
        actor=caller, entity=entity, selection=selection, data=data, dry_run=payload.dry_run
    )
    return result.as_dict()


@router.post("/bulk/{int:operation_id}/undo", response=BulkOut, summary="Undo a bulk edit")
def bulk_undo(request: HttpRequest, operation_id: int) -> dict[str, Any]:
    """Revert one of the caller's bulk field edits or tag changes (within 24 hours; 409
    for deletions, transfers, twice or too late)."""
    result = bulk.bulk_undo(actor=actor(request), operation_id=operation_id)
    return result.as_dict()
