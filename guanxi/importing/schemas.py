"""Schemas of /api/v1/imports."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema


class ImportOut(Schema):
    id: int
    entity: str
    file_name: str
    file_hash: str
    status: str
    progress: int
    rows_done: int
    rows_estimated: int
    rows_total: int
    rows_imported: int
    rows_updated: int
    rows_duplicate: int
    rows_invalid: int
    rows_empty: int
    message: str
    options: dict[str, Any]
    mapping: dict[str, str] | None
    file: dict[str, Any]
    user: dict[str, Any] | None
    created_at: str
    finished_at: str | None
    undone_at: str | None


class ImportPage(Schema):
    items: list[ImportOut]
    count: int
    count_exact: bool
    page: int
    page_size: int


class ImportReportOut(Schema):
    id: int
    status: str
    errors: list[dict[str, Any]]
    errors_total: int
    duplicates: list[dict[str, Any]]
    likely_duplicates: list[dict[str, Any]]
    warnings: list[dict[str, Any]]
    undo: dict[str, Any] | None


class UndoOut(Schema):
    id: int
    status: str
    removed: int
    restored: int
    conflicts: list[dict[str, Any]]


class MergeIn(Schema):
    primary_id: int
    other_ids: list[int]
    fields: dict[str, int] = {}


class MergeOut(Schema):
    entity: str
    id: int
    merged_ids: list[int]


class DuplicateMemberOut(Schema):
    entity: str
    id: int
    name: str


class DuplicateGroupOut(Schema):
    id: int
    kind: str
    match: str
    key: str
    members: list[DuplicateMemberOut]
    resolved: bool


class DuplicateScanOut(Schema):
    id: int
    status: str
    created_at: dt.datetime
    finished_at: dt.datetime | None
    groups_count: int


class DuplicatePage(Schema):
    scan: DuplicateScanOut | None
    items: list[DuplicateGroupOut]
    count: int
    count_exact: bool
    page: int
    page_size: int


class RequiredFieldsIn(Schema):
    fields: list[str]


class RequiredFieldsOut(Schema):
    entity: str
    fields: list[str]
    choices: list[str]
