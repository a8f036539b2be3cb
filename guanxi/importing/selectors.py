"""Reads of import batches: a user sees their own imports; administrators see all."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

from guanxi.core import permissions
from guanxi.core.errors import OutOfScope
from guanxi.core.pagination import Page, paginate
from guanxi.importing.models import ImportBatch

if TYPE_CHECKING:
    from guanxi.identity.models import User


def _visible(actor: User) -> QuerySet[ImportBatch]:
    qs = ImportBatch.objects.select_related("user")
    return qs if permissions.is_admin(actor) else qs.filter(user=actor)


def batch_list(*, actor: User, page: Any = 1, page_size: Any = 20) -> Page:
    return paginate(_visible(actor), page, page_size)


def batch_get_for_user(*, actor: User, pk: Any) -> ImportBatch:
    """One batch of ``actor`` (any batch for administrators); OutOfScope (404) otherwise."""
    try:
        return _visible(actor).get(pk=pk)
    except (ImportBatch.DoesNotExist, ValueError, TypeError) as exc:
        raise OutOfScope() from exc


def batch_as_dict(batch: ImportBatch) -> dict[str, Any]:
    return {
        "id": batch.pk,
        "entity": batch.entity,
        "file_name": batch.file_name,
        "file_hash": batch.file_hash,
        "status": batch.status,
        "progress": batch.progress,
        "rows_done": batch.rows_done,
        "rows_estimated": batch.rows_estimated,
        "rows_total": batch.rows_total,
        "rows_imported": batch.rows_imported,
        "rows_updated": batch.rows_updated,
        "rows_duplicate": batch.rows_duplicate,
        "rows_invalid": batch.rows_invalid,
        "rows_empty": batch.rows_empty,
        "message": batch.message,
        "options": {k: v for k, v in batch.options.items() if k != "mapping"},
        "mapping": batch.options.get("mapping"),
        "file": batch.file_info,
        "user": {"id": batch.user_id, "username": batch.user.username} if batch.user else None,
        "created_at": batch.created_at.isoformat(),
        "finished_at": batch.finished_at.isoformat() if batch.finished_at else None,
        "undone_at": batch.undone_at.isoformat() if batch.undone_at else None,
    }


def batch_report(batch: ImportBatch) -> dict[str, Any]:
    """Errors, duplicates (with what was done), likely duplicates, warnings, undo outcome.

    Duplicates of records outside the importer's scope carry no id (the engine never
    stored one), so administrators and importers see the same report.
    """
    report = batch.report or {}
    return {
        "id": batch.pk,
        "status": batch.status,
        "errors": report.get("errors", []),
        "errors_total": report.get("errors_total", len(report.get("errors", []))),
        "duplicates": report.get("duplicates", []),
        "likely_duplicates": report.get("likely_duplicates", []),
        "warnings": report.get("warnings", []),
        "undo": report.get("undo"),
    }
