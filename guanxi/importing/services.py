"""Every write of the importing app: start, run, cancel and undo an import; save mappings.

An import is a batch (:class:`ImportBatch`): who, which file (name, SHA-256, size),
the options, the counts and the report. It is audited as one ``import`` entry; updates
of existing records are audited field by field (see docs/decisions/0002-import-bulk-path.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models, transaction
from django.db.models.deletion import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core import audit, events, permissions
from guanxi.core.errors import Conflict, FieldError, NotPermitted, ValidationFailed
from guanxi.core.models import AuditEvent
from guanxi.importing import fields as fieldmap
from guanxi.importing.engine import MODELS, ON_DUPLICATE, Importer, Options, Result
from guanxi.importing.models import ImportBatch, SavedMapping
from guanxi.importing.reader import FileInfo, UnreadableFile, sniff

if TYPE_CHECKING:
    from guanxi.identity.models import User

IMPORT_COMPLETED = events.define("import.completed", "An import batch finished")
IMPORT_UNDONE = events.define("import.undone", "An import batch was undone")

S = ImportBatch.Status
logger = logging.getLogger(__name__)


def undo_window() -> dt.timedelta:
    return dt.timedelta(hours=float(getattr(settings, "GUANXI_IMPORT_UNDO_HOURS", 24)))


def uploads_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def store_upload(*, source: Path | Any, file_name: str) -> Path:
    """Copy an uploaded file (a path or a Django UploadedFile) into the uploads folder."""
    folder = uploads_dir() / uuid.uuid4().hex
    folder.mkdir(parents=True)
    suffix = Path(file_name).suffix.lower()[:10]
    target = folder / f"upload{suffix}"
    if isinstance(source, Path | str):
        shutil.copyfile(source, target)
    else:
        with open(target, "wb") as out:
            for chunk in source.chunks():
                out.write(chunk)
    return target


def check_options(*, actor: User, options: Options) -> None:
    """Permission and sanity of the options (raises NotPermitted / ValidationFailed)."""
    if options.entity not in fieldmap.ENTITIES:
        raise ValidationFailed([FieldError("entity", _("Choose leads, contacts or accounts."))])
    entity_key = fieldmap.ENTITY_KEY[options.entity]
    permissions.require(actor, entity_key, "import")
    permissions.require(actor, entity_key, "create")
    errors: list[FieldError] = []
    if options.on_duplicate not in ON_DUPLICATE:
        errors.append(FieldError("on_duplicate", _("Choose skip, update, overwrite or create.")))
    if options.date_order not in ("MDY", "DMY"):
        errors.append(FieldError("date_order", _("Choose MDY or DMY.")))
    if options.owner_id is not None and options.owner_id != actor.pk:
        from guanxi.identity.models import User as UserModel

        if not UserModel.objects.filter(pk=options.owner_id, is_active=True).exists():
            errors.append(FieldError("owner", _("No such active user.")))
        elif not permissions.can(actor, entity_key, "transfer"):
            raise NotPermitted(_("You may not import records for someone else."))
    if options.source and options.entity == "leads":
        from guanxi.leads.models import LeadSource

        word = options.source.strip()
        if not LeadSource.objects.filter(
            models.Q(code=word) | models.Q(name_zh=word) | models.Q(name_en=word), active=True
        ).exists():
            errors.append(FieldError("source", _("Unknown lead source.")))
    if errors:
        raise ValidationFailed(errors)


def inspect_file(*, path: Path, options: Options) -> FileInfo:
    """Sniff ``path`` with the options' overrides (UnreadableFile when it cannot be read)."""
    return sniff(
        path,
        encoding=options.encoding,
        delimiter=options.delimiter,
        sheet=options.sheet,
        header_row=options.header_row,
        header_score=fieldmap.header_score,
    )


def _estimate_rows(path: Path, info: FileInfo) -> int:
    if info.kind == "csv":
        with open(path, "rb") as fh:
            lines = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
        return max(lines - info.header_row + 1, 1)
    return 0


def batch_create(
    *, actor: User, path: Path, file_name: str, options: Options, draft: bool = False
) -> ImportBatch:
    """Check permissions and options, read the file's shape, and record a pending batch.

    Raises UnreadableFile (nothing recorded) when the file cannot be read at all.
    """
    check_options(actor=actor, options=options)
    info = inspect_file(path=path, options=options)
    if options.mapping is None:
        saved = mapping_for(actor=actor, entity=options.entity, headers=info.headers)
        if saved is not None:
            options.mapping = saved
    return ImportBatch.objects.create(
        user=actor,
        entity=options.entity,
        file_name=file_name[:255],
        file_hash=file_sha256(path),
        file_size=path.stat().st_size,
        stored_file=str(path),
        options=options.as_dict(),
        file_info=info.as_dict(),
        rows_estimated=_estimate_rows(path, info),
        status=S.DRAFT if draft else S.PENDING,
    )


def _info_of(batch: ImportBatch) -> FileInfo:
    data = dict(batch.file_info)
    path = Path(batch.stored_file)
    info = FileInfo(**{k: v for k, v in data.items() if k in FileInfo.__dataclass_fields__})
    if info.kind == "xlsx":
        from guanxi.importing.reader import _sheet_xml_has_details

        info.needs_cell_details = _sheet_xml_has_details(path)
    return info


def _report(result: Result) -> dict[str, Any]:
    return {
        "errors": result.errors[:20000],
        "duplicates": result.duplicates[:20000],
        "likely_duplicates": result.likely,
        "warnings": result.warnings,
        "invalid_rows": {str(k): v for k, v in result.invalid_rows.items()},
        "errors_total": len(result.errors),
    }


def batch_run(*, batch_id: int) -> ImportBatch:
    """Run a pending batch (the background task calls this). Idempotent: a batch that is
    not pending is returned unchanged."""
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch_id)
        if batch.status != S.PENDING:
            return batch
        batch.status = S.RUNNING
        batch.save(update_fields=["status"])
    from guanxi.identity.models import User as UserModel

    if batch.user_id is None:
        batch.status = S.FAILED
        batch.save(update_fields=["status"])
        return batch
    actor = UserModel.objects.get(pk=batch.user_id)
    options = Options.from_dict(batch.options)

    def progress(done: int, result: Result) -> None:
        ImportBatch.objects.filter(pk=batch.pk).update(
            rows_done=done, **result.counts(), created=result.created
        )

    def should_stop() -> bool:
        return (
            ImportBatch.objects.filter(pk=batch.pk).values_list("status", flat=True).first()
            == S.CANCELLING
        )

    try:
        importer = Importer(
            actor=actor,
            path=Path(batch.stored_file),
            info=_info_of(batch),
            options=options,
            batch=batch,
            on_progress=progress,
            should_stop=should_stop,
        )
        result = importer.run()
    except (UnreadableFile, ValidationFailed, NotPermitted) as exc:
        batch.status = S.FAILED
        batch.message = str(getattr(exc, "message", exc))
        batch.finished_at = timezone.now()
        batch.save(update_fields=["status", "message", "finished_at"])
        return batch
    except Exception:
        # Chunks written before the failure stay (and can be undone); the batch must not
        # look as if it were still running.
        logger.exception("import batch %s failed", batch.pk)
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=S.FAILED,
            message=_("The import stopped on an unexpected error; the rows before it were kept."),
            finished_at=timezone.now(),
        )
        raise
    _finish(actor, batch, result)
    return batch


def _finish(actor: User, batch: ImportBatch, result: Result) -> None:
    batch.refresh_from_db(fields=["status"])
    for name, value in result.counts().items():
        setattr(batch, name, value)
    batch.created = result.created
    batch.report = _report(result)
    batch.status = S.CANCELLED if result.cancelled else S.DONE
    batch.finished_at = timezone.now()
    with transaction.atomic():
        batch.save()
        audit.record(
            actor=actor,
            action=AuditEvent.Action.IMPORT,
            entity=fieldmap.ENTITY_KEY[batch.entity],
            object_id=batch.pk,
            object_repr=batch.file_name,
            changes={
                "file_name": batch.file_name,
                "file_hash": batch.file_hash,
                "file_size": batch.file_size,
                "status": batch.status,
                **result.counts(),
                "created": {k: sum(b - a + 1 for a, b in v) for k, v in result.created.items()},
            },
        )
        events.emit(
            IMPORT_COMPLETED,
            {"id": batch.pk, "entity": batch.entity, **result.counts()},
            actor_id=actor.pk,
        )


def import_file(
    *, actor: User, path: Path, file_name: str, options: Options
) -> tuple[ImportBatch | None, Result]:
    """Import synchronously (the ``guanxi import`` command). A dry run records no batch."""
    check_options(actor=actor, options=options)
    if options.dry_run:
        info = inspect_file(path=path, options=options)
        result = Importer(actor=actor, path=path, info=info, options=options).run()
        return None, result
    stored = store_upload(source=path, file_name=file_name)
    try:
        batch = batch_create(actor=actor, path=stored, file_name=file_name, options=options)
    except UnreadableFile:
        shutil.rmtree(stored.parent, ignore_errors=True)
        raise
    batch = batch_run(batch_id=batch.pk)
    if batch.status == S.FAILED:
        raise UnreadableFile(batch.message)
    return batch, result_of(batch)


def result_of(batch: ImportBatch) -> Result:
    report = batch.report or {}
    return Result(
        rows_total=batch.rows_total,
        rows_imported=batch.rows_imported,
        rows_updated=batch.rows_updated,
        rows_duplicate=batch.rows_duplicate,
        rows_invalid=batch.rows_invalid,
        rows_empty=batch.rows_empty,
        errors=list(report.get("errors", [])),
        duplicates=list(report.get("duplicates", [])),
        likely=list(report.get("likely_duplicates", [])),
        warnings=list(report.get("warnings", [])),
        created=dict(batch.created),
        cancelled=batch.status == S.CANCELLED,
    )


def batch_cancel(*, actor: User, batch: ImportBatch) -> ImportBatch:
    """Ask a pending or running batch to stop after the current chunk (the records of
    finished chunks stay; undo removes them)."""
    _require_owner_or_admin(actor, batch)
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status == S.PENDING:
            batch.status = S.CANCELLED
            batch.finished_at = timezone.now()
            batch.save(update_fields=["status", "finished_at"])
        elif batch.status == S.RUNNING:
            batch.status = S.CANCELLING
            batch.save(update_fields=["status"])
        else:
            raise Conflict(_("This import has already finished."))
    return batch


def _require_owner_or_admin(actor: User, batch: ImportBatch) -> None:
    if not (permissions.is_admin(actor) or batch.user_id == actor.pk):
        from guanxi.core.errors import OutOfScope

        raise OutOfScope()


@dataclass
class UndoResult:
    removed: int
    restored: int
    conflicts: list[dict[str, Any]]


def can_undo(actor: User, batch: ImportBatch) -> bool:
    if batch.status not in (S.DONE, S.CANCELLED, S.FAILED) or batch.finished_at is None:
        return False
    if batch.status == S.FAILED and not batch.created:
        return False
    if permissions.is_admin(actor):
        return True
    return batch.user_id == actor.pk and timezone.now() - batch.finished_at <= undo_window()


def batch_undo(*, actor: User, batch: ImportBatch) -> UndoResult:
    """Remove the records the batch created and restore the fields it updated.

    A record changed since the import (or one that other records now depend on) is left
    as it is and listed in ``conflicts``. Allowed to administrators, and to the importer
    within ``GUANXI_IMPORT_UNDO_HOURS`` (default 24) of the end of the import.
    """
    _require_owner_or_admin(actor, batch)
    if batch.status == S.UNDONE:
        raise Conflict(_("This import has already been undone."))
    if not can_undo(actor, batch):
        if batch.status == S.FAILED and not batch.created:
            raise Conflict(_("This import created nothing to undo."))
        if batch.status in (S.DONE, S.CANCELLED, S.FAILED) and batch.finished_at:
            raise NotPermitted(
                _("Only an administrator can undo an import after %(h)d hours.")
                % {"h": int(undo_window().total_seconds() // 3600)}
            )
        raise Conflict(_("Only a finished import can be undone."))
    finished_at = batch.finished_at
    assert finished_at is not None
    conflicts: list[dict[str, Any]] = []
    removed = restored = 0
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        # Updated records first: their restored values may point at created accounts.
        for change in batch.changes.all():
            model = MODELS[change.entity]
            obj = model._default_manager.select_for_update().filter(pk=change.record_id).first()
            if obj is None:
                conflicts.append(_conflict(change.entity, change.record_id, _("deleted since")))
                continue
            stamp = change.after.get("updated_at")
            if stamp and obj.updated_at.isoformat() != stamp:
                conflicts.append(_conflict(change.entity, obj.pk, _("changed since the import")))
                continue
            before_snapshot = {n: getattr(obj, n) for n in change.before}
            for name, value in change.before.items():
                setattr(obj, name, _restore(model, name, value))
            obj.save(update_fields=[*change.before, "updated_at"])
            audit.record(
                actor=actor,
                action=AuditEvent.Action.UPDATE,
                entity=change.entity,
                obj=obj,
                changes={
                    **audit.diff(
                        {k: _plainish(v) for k, v in before_snapshot.items()}, change.before
                    ),
                    "import_undo": [None, batch.pk],
                },
            )
            restored += 1
        # Then created records: contacts and leads before the accounts they link to.
        for entity_key in ("lead", "contact", "account"):
            ids = batch.created_ids(entity_key)
            model = MODELS[entity_key]
            for start in range(0, len(ids), 2000):
                part = ids[start : start + 2000]
                rows = model._default_manager.filter(pk__in=part).values_list("pk", "updated_at")
                unchanged = []
                for pk, updated_at in rows:
                    if updated_at > finished_at:
                        conflicts.append(_conflict(entity_key, pk, _("changed since the import")))
                    else:
                        unchanged.append(pk)
                for pk in unchanged:
                    try:
                        with transaction.atomic():
                            model._default_manager.filter(pk=pk).delete()
                            removed += 1
                    except ProtectedError:
                        conflicts.append(_conflict(entity_key, pk, _("other records depend on it")))
        batch.status = S.UNDONE
        batch.undone_at = timezone.now()
        batch.undone_by = actor
        batch.report = {
            **batch.report,
            "undo": {"removed": removed, "restored": restored, "conflicts": conflicts[:20000]},
        }
        batch.save(update_fields=["status", "undone_at", "undone_by", "report"])
        audit.record(
            actor=actor,
            action=AuditEvent.Action.IMPORT,
            entity=fieldmap.ENTITY_KEY[batch.entity],
            object_id=batch.pk,
            object_repr=batch.file_name,
            changes={
                "undo": True,
                "removed": removed,
                "restored": restored,
                "conflicts": len(conflicts),
            },
        )
        events.emit(IMPORT_UNDONE, {"id": batch.pk}, actor_id=actor.pk)
    return UndoResult(removed=removed, restored=restored, conflicts=conflicts)


def _conflict(entity_key: str, pk: int, reason: Any) -> dict[str, Any]:
    return {"type": entity_key, "id": pk, "reason": str(reason)}


def _plainish(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _restore(model: type[models.Model], name: str, value: Any) -> Any:
    field = model._meta.get_field(name)
    if value is None:
        return None
    if isinstance(field, models.DateTimeField | models.DateField) and isinstance(value, str):
        return field.to_python(value)
    return value


# --- saved mappings --------------------------------------------------------------------


def headers_hash(entity: str, headers: list[str]) -> str:
    key = "\x1f".join([entity, *(fieldmap.header_key(h) for h in headers)])
    return hashlib.sha256(key.encode()).hexdigest()


def mapping_save(*, actor: User, entity: str, headers: list[str], mapping: dict[str, str]) -> None:
    """Remember ``mapping`` for these headers (offered again next time)."""
    allowed = set(fieldmap.allowed_targets(entity))
    clean = {str(int(k)): v for k, v in mapping.items() if v and v in allowed}
    SavedMapping.objects.update_or_create(
        user=actor,
        entity=entity,
        headers_hash=headers_hash(entity, headers),
        defaults={"mapping": clean},
    )


def mapping_for(*, actor: User, entity: str, headers: list[str]) -> dict[str, str] | None:
    saved = (
        SavedMapping.objects.filter(
            user=actor, entity=entity, headers_hash=headers_hash(entity, headers)
        )
        .values_list("mapping", flat=True)
        .first()
    )
    if saved is None:
        return None
    allowed = set(fieldmap.allowed_targets(entity))
    return {k: v for k, v in saved.items() if v in allowed}


def batch_start(*, actor: User, upload: Any, file_name: str, options: Options) -> ImportBatch:
    """Store an upload, record a pending batch and queue it for the worker.

    An unreadable file is a ValidationFailed on ``file`` and nothing is recorded.
    """
    check_options(actor=actor, options=options)
    size = getattr(upload, "size", None)
    from guanxi.importing.reader import max_upload_bytes

    if size is not None and size > max_upload_bytes():
        raise ValidationFailed(
            [
                FieldError(
                    "file",
                    _("The file is larger than %(mb)d MB.")
                    % {"mb": max_upload_bytes() // (1024 * 1024)},
                )
            ]
        )
    stored = store_upload(source=upload, file_name=file_name)
    try:
        batch = batch_create(actor=actor, path=stored, file_name=file_name, options=options)
    except UnreadableFile as exc:
        shutil.rmtree(stored.parent, ignore_errors=True)
        raise ValidationFailed([FieldError("file", str(exc))]) from exc
    enqueue(batch)
    return batch


def enqueue(batch: ImportBatch) -> None:
    from guanxi.importing.tasks import run_import

    transaction.on_commit(lambda: run_import(batch.pk))


def _require_draft(actor: User, batch: ImportBatch) -> None:
    _require_owner_or_admin(actor, batch)
    if batch.status != S.DRAFT:
        raise Conflict(_("This import has already been started."))


def batch_configure(*, actor: User, batch: ImportBatch, options: Options) -> ImportBatch:
    """Change a draft's options (file reading overrides, mapping, duplicates, owner …).

    Reading overrides re-read the file's shape; a mapping that no longer fits the
    headers is dropped for a fresh suggestion.
    """
    _require_draft(actor, batch)
    check_options(actor=actor, options=options)
    path = Path(batch.stored_file)
    try:
        info = inspect_file(path=path, options=options)
    except UnreadableFile as exc:
        raise ValidationFailed([FieldError("file", str(exc))]) from exc
    if info.headers != batch.file_info.get("headers") and options.mapping is not None:
        options.mapping = mapping_for(actor=actor, entity=options.entity, headers=info.headers)
    if options.mapping is None:
        options.mapping = mapping_for(actor=actor, entity=options.entity, headers=info.headers)
    batch.options = options.as_dict()
    batch.file_info = info.as_dict()
    batch.entity = options.entity
    batch.rows_estimated = _estimate_rows(path, info)
    batch.save(update_fields=["options", "file_info", "entity", "rows_estimated"])
    return batch


def batch_submit(*, actor: User, batch: ImportBatch) -> ImportBatch:
    """Start a draft in the background; its mapping is remembered for these headers."""
    _require_draft(actor, batch)
    options = Options.from_dict(batch.options)
    check_options(actor=actor, options=options)
    headers = list(batch.file_info.get("headers", []))
    from guanxi.importing.engine import mapping_of

    mapping = mapping_of(options.entity, _info_of(batch), options)
    mapping_save(
        actor=actor,
        entity=options.entity,
        headers=headers,
        mapping={str(k): v for k, v in mapping.items()},
    )
    options.mapping = {str(k): v for k, v in mapping.items()}
    batch.options = options.as_dict()
    batch.status = S.PENDING
    batch.save(update_fields=["options", "status"])
    enqueue(batch)
    return batch


def batch_preview(*, actor: User, batch: ImportBatch, rows: int = 10) -> list[dict[str, Any]]:
    """The first rows as the import would see them: normalised values and problems.

    Reads only; nothing is written and no duplicate look-up is made.
    """
    _require_owner_or_admin(actor, batch)
    from guanxi.importing.engine import RowErrors
    from guanxi.importing.reader import cell_text, data_rows

    options = Options.from_dict(batch.options)
    info = _info_of(batch)
    importer = Importer(
        actor=actor, path=Path(batch.stored_file), info=info, options=options, batch=None
    )
    out: list[dict[str, Any]] = []
    for number, cells in data_rows(Path(batch.stored_file), info):
        item: dict[str, Any] = {"row": number, "cells": [cell_text(c) for c in cells]}
        try:
            row = importer.prepare(number, cells)
        except RowErrors as exc:
            item["errors"] = [{"field": f, "message": m} for f, m in exc.errors]
            item["values"] = {}
        else:
            if row is None:
                item["empty"] = True
                item["values"] = {}
            else:
                item["values"] = {
                    k: (", ".join(v) if isinstance(v, list) else v)
                    for k, v in row.values.items()
                    if k not in ("name_pinyin", "name_initials", "custom") and v not in ("", None)
                }
                if row.company:
                    item["values"]["company"] = row.company
                item["errors"] = []
        item["warnings"] = [w for w in importer.result.warnings if w["row"] == number]
        out.append(item)
        if len(out) >= rows:
            break
    return out
