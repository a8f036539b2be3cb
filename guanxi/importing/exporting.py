"""Export of leads, contacts and accounts to CSV (UTF-8 with BOM, or GBK) and XLSX.

Only what the acting user may see (the permission layer's scope, their list filters),
masked as their roles mask it, audited. Cells that a spreadsheet would run as a formula
(starting with = + - @ tab or CR) are neutralised with a leading apostrophe; the importer
strips that apostrophe again, so export → import gives the same records.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core import audit, custom_fields, permissions
from guanxi.core.errors import FieldError, ValidationFailed
from guanxi.core.models import AuditEvent
from guanxi.customers.listing import apply_filters, apply_sort, search_q
from guanxi.customers.models import Account, Contact
from guanxi.importing import fields as fieldmap
from guanxi.leads.models import Lead

if TYPE_CHECKING:
    from guanxi.identity.models import User

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ENCODINGS = {"utf-8": "utf-8-sig", "utf-8-sig": "utf-8-sig", "gbk": "gb18030", "gb18030": "gb18030"}

Getter = Callable[[Any], Any]

_COLUMNS: dict[str, list[tuple[str, Getter]]] = {
    "leads": [
        ("name", lambda o: o.name),
        ("company", lambda o: o.company),
        ("title", lambda o: o.title),
        ("mobile", lambda o: o.mobile),
        ("phone", lambda o: o.phone),
        ("email", lambda o: o.email),
        ("wechat", lambda o: o.wechat),
        ("source", lambda o: o.source.code if o.source_id else ""),
        ("campaign", lambda o: o.campaign),
        ("status", lambda o: o.status),
        ("score", lambda o: o.score),
        ("province", lambda o: o.province),
        ("city", lambda o: o.city),
        ("industry", lambda o: o.industry),
        ("next_followup_at", lambda o: o.next_followup_at),
        ("last_contacted_at", lambda o: o.last_contacted_at),
        ("notes", lambda o: o.notes),
        ("tags", lambda o: ", ".join(o.tags or [])),
        ("owner", lambda o: o.owner.username if o.owner_id else ""),
    ],
    "contacts": [
        ("name", lambda o: o.name),
        ("company", lambda o: o.account.name if o.account_id else ""),
        ("title", lambda o: o.title),
        ("mobile", lambda o: o.mobile),
        ("phone", lambda o: o.phone),
        ("email", lambda o: o.email),
        ("wechat", lambda o: o.wechat),
        ("birthday", lambda o: o.birthday),
        ("last_contacted_at", lambda o: o.last_contacted_at),
        ("notes", lambda o: o.notes),
        ("tags", lambda o: ", ".join(o.tags or [])),
        ("owner", lambda o: o.owner.username if o.owner_id else ""),
    ],
    "accounts": [
        ("name", lambda o: o.name),
        ("industry", lambda o: o.industry),
        ("size", lambda o: o.size),
        ("province", lambda o: o.province),
        ("city", lambda o: o.city),
        ("address", lambda o: o.address),
        ("website", lambda o: o.website),
        ("tier", lambda o: o.tier),
        ("credit_code", lambda o: o.credit_code),
        ("notes", lambda o: o.special_requirements),
        ("tags", lambda o: ", ".join(o.tags or [])),
        ("owner", lambda o: o.owner.username if o.owner_id else ""),
    ],
}
_BASE: dict[str, Callable[[], QuerySet[Any]]] = {
    "leads": lambda: Lead.objects.select_related("owner", "source"),
    "contacts": lambda: Contact.objects.select_related("owner", "account"),
    "accounts": lambda: Account.objects.select_related("owner"),
}
_SEARCH: dict[str, dict[str, Any]] = {
    "leads": {"text_fields": ["name", "company"]},
    "contacts": {"text_fields": ["name"]},
    "accounts": {"text_fields": ["name"], "contact_points": False},
}
MASKED_COLUMN = {"mobile": "mobile", "phone": "phone", "email": "email"}


def neutralise(value: str) -> str:
    """Keep a spreadsheet from running a cell as a formula (OWASP CSV injection)."""
    return "'" + value if value.startswith(FORMULA_START) else value


def _cell(value: Any, zone: dt.tzinfo) -> str | int:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return value
    if isinstance(value, dt.datetime):
        return timezone.localtime(value, zone).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return neutralise(str(value))


def export_queryset(
    *, actor: User, entity: str, q: str = "", filters: dict[str, Any] | None = None
) -> QuerySet[Any]:
    """The records of ``entity`` ``actor`` may export, filtered like their list view."""
    if entity not in fieldmap.ENTITIES:
        raise ValidationFailed([FieldError("entity", _("Choose leads, contacts or accounts."))])
    key = fieldmap.ENTITY_KEY[entity]
    permissions.require(actor, key, "export")
    qs = permissions.scoped_queryset(actor, key, base=_BASE[entity]())
    cond = search_q(q, **_SEARCH[entity]) if q else None
    if cond is not None:
        qs = qs.filter(cond)
    given = {k: v for k, v in (filters or {}).items() if v not in (None, "", [])}
    if entity == "leads" and given.get("source"):
        given["source__code"] = given.pop("source")
    if given:
        qs = apply_filters(qs, entity_key=key, filters=given, actor_id=actor.pk)
    return apply_sort(qs, entity_key=key, sort="created_at", allowed={"created_at"})


def rows_for(
    *, actor: User, entity: str, qs: QuerySet[Any]
) -> tuple[list[str], Iterator[list[str | int]]]:
    """Header labels and the rows of ``qs`` (masked for ``actor``)."""
    key = fieldmap.ENTITY_KEY[entity]
    columns = list(_COLUMNS[entity])
    custom = custom_fields.definitions(key)
    headers = [fieldmap.target_label(entity, name) for name, _g in columns] + [
        f.label_zh or f.key for f in custom
    ]
    masked = permissions.masked_fields(actor, key)
    kinds = permissions.entity(key).maskable
    zone = timezone.get_current_timezone()

    def rows() -> Iterator[list[str | int]]:
        for obj in qs.iterator(chunk_size=2000):
            row: list[str | int] = []
            for name, getter in columns:
                value = getter(obj)
                if name in masked and value:
                    value = permissions.mask_value(kinds.get(name, "other"), value)
                row.append(_cell(value, zone))
            values = obj.custom or {}
            for f in custom:
                value = values.get(f.key)
                if isinstance(value, list):
                    value = ", ".join(str(v) for v in value)
                row.append(_cell(value, zone))
            yield row

    return headers, rows()


def write_csv(
    out: IO[bytes], headers: list[str], rows: Iterator[list[str | int]], encoding: str
) -> int:
    codec = ENCODINGS.get(encoding.lower())
    if codec is None:
        raise ValidationFailed([FieldError("encoding", _("Choose utf-8 or gbk."))])
    writer_stream = codecs.getwriter(codec)(out)
    writer = csv.writer(writer_stream, lineterminator="\r\n")
    writer.writerow(headers)
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    return count


def write_xlsx(out: IO[bytes] | str, headers: list[str], rows: Iterator[list[str | int]]) -> int:
    import xlsxwriter

    wb = xlsxwriter.Workbook(
        out,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
            "in_memory": not isinstance(out, str),
        },
    )
    ws = wb.add_worksheet("export")
    bold = wb.add_format({"bold": True})
    for c, header in enumerate(headers):
        ws.write_string(0, c, header, bold)
    count = 0
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if isinstance(value, int):
                ws.write_number(r, c, value)
            else:
                ws.write_string(r, c, value)
        count += 1
    wb.close()
    return count


def export_records(
    *,
    actor: User,
    entity: str,
    out: IO[bytes],
    fmt: str = "csv",
    encoding: str = "utf-8",
    q: str = "",
    filters: dict[str, Any] | None = None,
    file_name: str = "",
) -> int:
    """Write the export to ``out``; returns the number of records. Audited."""
    if fmt not in ("csv", "xlsx"):
        raise ValidationFailed([FieldError("format", _("Choose csv or xlsx."))])
    qs = export_queryset(actor=actor, entity=entity, q=q, filters=filters)
    headers, rows = rows_for(actor=actor, entity=entity, qs=qs)
    if fmt == "csv":
        count = write_csv(out, headers, rows, encoding)
    else:
        count = write_xlsx(out, headers, rows)
    audit.record(
        actor=actor,
        action=AuditEvent.Action.EXPORT,
        entity=fieldmap.ENTITY_KEY[entity],
        object_repr=file_name or f"{entity}.{fmt}",
        changes={
            "format": fmt,
            "encoding": encoding if fmt == "csv" else "",
            "records": count,
            "q": q,
            "filters": {k: str(v) for k, v in (filters or {}).items() if v not in (None, "")},
            "masked": sorted(permissions.masked_fields(actor, fieldmap.ENTITY_KEY[entity])),
        },
    )
    return count


def export_to_path(*, actor: User, entity: str, path: Path, encoding: str = "utf-8") -> int:
    fmt = "xlsx" if path.suffix.lower() == ".xlsx" else "csv"
    if path.suffix.lower() not in (".csv", ".xlsx"):
        raise ValidationFailed([FieldError("file", _("The file name must end in .csv or .xlsx."))])
    with open(path, "wb") as fh:
        return export_records(
            actor=actor, entity=entity, out=fh, fmt=fmt, encoding=encoding, file_name=path.name
        )
