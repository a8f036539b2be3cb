"""/api/v1/imports: upload (runs in the background), status, report, undo, cancel."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import File, Form, Router
from ninja.files import UploadedFile
from ninja.responses import Status

from guanxi.api.auth import actor
from guanxi.core import required_fields
from guanxi.core.errors import FieldError, ValidationFailed
from guanxi.identity.models import User
from guanxi.importing import duplicates, merge, selectors, services
from guanxi.importing.engine import Options
from guanxi.importing.schemas import (
    DuplicatePage,
    DuplicateScanOut,
    ImportOut,
    ImportPage,
    ImportReportOut,
    MergeIn,
    MergeOut,
    RequiredFieldsIn,
    RequiredFieldsOut,
    UndoOut,
)

router = Router(tags=["imports"])


def _owner_id(username: str) -> int | None:
    if not username:
        return None
    user = User.objects.filter(username__iexact=username.strip(), is_active=True).first()
    if user is None:
        raise ValidationFailed([FieldError("owner", "No such active user.")])
    return user.pk


@router.post(
    "/imports",
    response={202: ImportOut},
    summary="Upload a file to import (runs in the background; poll /imports/{id})",
)
def import_create(
    request: HttpRequest,
    file: File[UploadedFile],
    entity: Form[str],
    on_duplicate: Form[str] = "skip",
    owner: Form[str] = "",
    tags: Form[str] = "",
    source: Form[str] = "",
    require_contact: Form[bool] = True,
    date_order: Form[str] = "MDY",
    encoding: Form[str] = "",
    delimiter: Form[str] = "",
    sheet: Form[str] = "",
    header_row: Form[int] = 0,
    dry_run: Form[bool] = False,
) -> Status[dict[str, Any]]:
    caller = actor(request)
    options = Options(
        entity=entity,
        on_duplicate=on_duplicate,
        owner_id=_owner_id(owner),
        tags=[t.strip() for t in tags.replace("，", ",").split(",") if t.strip()],
        source=source,
        require_contact=require_contact,
        date_order=date_order,
        encoding=encoding,
        delimiter=delimiter,
        sheet=sheet,
        header_row=header_row,
        dry_run=dry_run,
        time_zone=str(getattr(caller, "time_zone", "") or "Asia/Shanghai"),
    )
    batch = services.batch_start(
        actor=caller, upload=file, file_name=file.name or "upload", options=options
    )
    batch.refresh_from_db()
    return Status(202, selectors.batch_as_dict(batch))


@router.get("/imports", response=ImportPage, summary="The caller's imports (all for admins)")
def import_list(request: HttpRequest, page: int = 1, page_size: int = 20) -> dict[str, Any]:
    result = selectors.batch_list(actor=actor(request), page=page, page_size=page_size)
    return result.as_api([selectors.batch_as_dict(b) for b in result.items])


@router.get("/imports/{int:batch_id}", response=ImportOut, summary="Status, progress, counts")
def import_get(request: HttpRequest, batch_id: int) -> dict[str, Any]:
    return selectors.batch_as_dict(selectors.batch_get_for_user(actor=actor(request), pk=batch_id))


@router.get(
    "/imports/{int:batch_id}/report",
    response=ImportReportOut,
    summary="Errors (row, field, message) and duplicates (row, existing_id, match, action)",
)
def import_report(request: HttpRequest, batch_id: int) -> dict[str, Any]:
    batch = selectors.batch_get_for_user(actor=actor(request), pk=batch_id)
    return selectors.batch_report(batch)


@router.post("/imports/{int:batch_id}/undo", response=UndoOut, summary="Undo an import")
def import_undo(request: HttpRequest, batch_id: int) -> dict[str, Any]:
    caller = actor(request)
    batch = selectors.batch_get_for_user(actor=caller, pk=batch_id)
    result = services.batch_undo(actor=caller, batch=batch)
    return {
        "id": batch.pk,
        "status": "undone",
        "removed": result.removed,
        "restored": result.restored,
        "conflicts": result.conflicts,
    }


@router.post("/imports/{int:batch_id}/cancel", response=ImportOut, summary="Stop an import")
def import_cancel(request: HttpRequest, batch_id: int) -> dict[str, Any]:
    caller = actor(request)
    batch = selectors.batch_get_for_user(actor=caller, pk=batch_id)
    return selectors.batch_as_dict(services.batch_cancel(actor=caller, batch=batch))


def _merge(request: HttpRequest, entity_key: str, payload: MergeIn) -> dict[str, Any]:
    survivor = merge.merge(
        actor=actor(request),
        entity_key=entity_key,
        primary_id=payload.primary_id,
        other_ids=payload.other_ids,
        fields=payload.fields,
    )
    merged = [i for i in payload.other_ids if i != payload.primary_id]
    return {"entity": entity_key, "id": survivor.pk, "merged_ids": merged}


@router.post("/leads/merge", response=MergeOut, summary="Merge leads into the primary one")
def leads_merge(request: HttpRequest, payload: MergeIn) -> dict[str, Any]:
    return _merge(request, "lead", payload)


@router.post("/accounts/merge", response=MergeOut, summary="Merge accounts into the primary one")
def accounts_merge(request: HttpRequest, payload: MergeIn) -> dict[str, Any]:
    return _merge(request, "account", payload)


@router.post("/contacts/merge", response=MergeOut, summary="Merge contacts into the primary one")
def contacts_merge(request: HttpRequest, payload: MergeIn) -> dict[str, Any]:
    return _merge(request, "contact", payload)


@router.get("/duplicates", response=DuplicatePage, summary="Duplicate groups of your latest scan")
def duplicates_list(
    request: HttpRequest, entity: str = "", kind: str = "", page: int = 1, page_size: int = 50
) -> dict[str, Any]:
    scan, result = duplicates.group_page(
        actor=actor(request), entity=entity, kind=kind, page=page, page_size=page_size
    )
    return {"scan": duplicates.scan_as_dict(scan), **result.as_api(result.items)}


@router.post(
    "/duplicates/scans",
    response={202: DuplicateScanOut},
    summary="Find duplicates among the records you may see (runs in the background)",
)
def duplicates_scan(request: HttpRequest) -> Status[dict[str, Any]]:
    scan = duplicates.scan_start(actor=actor(request))
    scan.refresh_from_db()
    return Status(202, duplicates.scan_as_dict(scan) or {})


def _required_out(entity_key: str) -> dict[str, Any]:
    return {
        "entity": entity_key,
        "fields": required_fields.required(entity_key),
        "choices": [name for name, _label in required_fields.choices(entity_key)],
    }


@router.get(
    "/required-fields",
    response=list[RequiredFieldsOut],
    summary="Required-field rules of leads, contacts and accounts",
)
def required_fields_list(request: HttpRequest) -> list[dict[str, Any]]:
    actor(request)
    return [_required_out(e) for e in required_fields.ENTITIES]


@router.put(
    "/required-fields/{entity}",
    response=RequiredFieldsOut,
    summary="Set the required fields of an entity (admins)",
)
def required_fields_set(
    request: HttpRequest, entity: str, payload: RequiredFieldsIn
) -> dict[str, Any]:
    required_fields.rule_set(actor=actor(request), entity_key=entity, fields=payload.fields)
    return _required_out(entity)
