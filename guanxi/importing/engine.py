"""The import engine: rows in, records out, in chunks.

For each row: map columns to fields, normalise (phones to E.164, e-mails, dates, tiers),
validate (required name or company, a phone or e-mail, lengths within the model's
limits: too long is an error, never cut), then per chunk of rows: look up the dedup keys
of the whole chunk in a few indexed IN queries (:func:`guanxi.leads.dedup.find_duplicates_bulk`),
decide per row (create, skip, update, create anyway), and write with ``bulk_create``.

The engine checks no permissions itself; :mod:`guanxi.importing.services` does, then
hands it the acting user for scope decisions (what a duplicate may reveal, which
records may be updated, which accounts contacts may be linked to).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core import audit, custom_fields, normalize, permissions, required_fields
from guanxi.core.errors import ValidationFailed
from guanxi.core.models import AuditEvent
from guanxi.customers import creditcode
from guanxi.customers.models import Account, Contact
from guanxi.importing import fields as fieldmap
from guanxi.importing import values as parse
from guanxi.importing.bulk import BulkWriter
from guanxi.importing.models import ImportBatch, ImportedChange
from guanxi.importing.reader import Cell, FileInfo, cell_text, data_rows
from guanxi.leads.dedup import find_duplicates_bulk
from guanxi.leads.models import Lead, LeadSource

if TYPE_CHECKING:
    from guanxi.identity.models import User

CHUNK_ROWS = 5000
_PLAIN_MOBILE = re.compile(r"1[3-9]\d{9}\Z")
REPORT_LIMIT = 20000  # errors / duplicates kept in a batch's stored report (counts stay exact)
ON_DUPLICATE = ("skip", "update", "overwrite", "create")
MODELS: dict[str, type[Lead] | type[Contact] | type[Account]] = {
    "lead": Lead,
    "contact": Contact,
    "account": Account,
}
UPDATABLE = {
    "leads": [
        "name", "company", "title", "mobile", "phone", "email", "wechat", "source_id",
        "campaign", "province", "city", "industry", "status", "score", "next_followup_at",
        "last_contacted_at", "notes", "tags", "custom",
    ],
    "contacts": [
        "name", "account_id", "title", "mobile", "phone", "email", "wechat", "birthday",
        "last_contacted_at", "notes", "tags", "custom",
    ],
    "accounts": [
        "name", "industry", "size", "province", "city", "address", "website", "tier",
        "credit_code", "special_requirements", "tags", "custom",
    ],
}  # fmt: skip
# Fields whose derived keys follow them on update.
DERIVED = {
    "name": ("name_pinyin", "name_initials"),
    "mobile": ("mobile_e164",),
    "phone": ("phone_e164", "phone_ext"),
    "email": ("email_norm",),
}


@dataclass
class Options:
    """How to import. Stored with the batch; every field has a safe default."""

    entity: str = "leads"
    on_duplicate: str = "skip"
    owner_id: int | None = None  # None: the importer
    tags: list[str] = field(default_factory=list)
    source: str = ""  # lead source code for leads without one
    require_contact: bool = True  # leads and contacts need a phone or an e-mail
    date_order: str = "MDY"
    time_zone: str = "Asia/Shanghai"
    mapping: dict[str, str] | None = None  # column index (as text) → target; None: guessed
    encoding: str = ""
    delimiter: str = ""
    sheet: str = ""
    header_row: int = 0
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Options:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class Result:
    rows_total: int = 0
    rows_imported: int = 0
    rows_updated: int = 0
    rows_duplicate: int = 0
    rows_invalid: int = 0
    rows_empty: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    likely: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    invalid_rows: dict[int, list[str]] = field(default_factory=dict)
    created: dict[str, list[list[int]]] = field(default_factory=dict)
    cancelled: bool = False

    def counts(self) -> dict[str, int]:
        return {
            "rows_total": self.rows_total,
            "rows_imported": self.rows_imported,
            "rows_updated": self.rows_updated,
            "rows_duplicate": self.rows_duplicate,
            "rows_invalid": self.rows_invalid,
            "rows_empty": self.rows_empty,
        }

    def add_created(self, entity_key: str, ids: Iterable[int]) -> None:
        ranges = self.created.setdefault(entity_key, [])
        for pk in sorted(ids):
            if ranges and ranges[-1][1] == pk - 1:
                ranges[-1][1] = pk
            else:
                ranges.append([pk, pk])


@dataclass
class Row:
    number: int
    cells: list[Cell]
    values: dict[str, Any] = field(default_factory=dict)
    keys: list[tuple[str, str]] = field(default_factory=list)  # ("phone"|"email"|"name", key)
    owner_id: int | None = None
    company: str = ""


class RowErrors(Exception):  # noqa: N818
    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors
        super().__init__(errors)


def mapping_of(entity: str, info: FileInfo, options: Options) -> dict[int, str]:
    """Column index → target: the options' mapping, else the dictionary's guess."""
    allowed = set(fieldmap.allowed_targets(entity))
    if options.mapping is not None:
        out = {int(k): v for k, v in options.mapping.items() if v}
        bad = sorted(v for v in out.values() if v not in allowed)
        if bad:
            raise ValidationFailed(
                {"mapping": _("Not a field of this kind of record: %(f)s") % {"f": ", ".join(bad)}}
            )
        return out
    return fieldmap.suggest_mapping(entity, info.headers)


class Importer:
    """One run over one file. ``should_stop`` is asked between chunks (cancel)."""

    def __init__(
        self,
        *,
        actor: User,
        path: Path,
        info: FileInfo,
        options: Options,
        batch: ImportBatch | None = None,
        on_progress: Callable[[int, Result], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> None:
        self.actor = actor
        self.path = path
        self.info = info
        self.options = options
        self.entity = options.entity
        self.entity_key = fieldmap.ENTITY_KEY[self.entity]
        self.model = MODELS[self.entity_key]
        self.batch = batch
        self.on_progress = on_progress
        self.should_stop = should_stop
        self.result = Result()
        self.mapping = mapping_of(self.entity, info, options)
        self.columns = sorted(self.mapping.items())
        self.default_owner_id = options.owner_id if options.owner_id is not None else actor.pk
        self.seen: dict[tuple[str, str], int] = {}
        self.now = timezone.now()
        self.can_transfer = permissions.can(actor, self.entity_key, "transfer")
        self._users: dict[str, int] | None = None
        self._sources: dict[str, int] | None = None
        self._accounts: dict[str, int] = {}
        self._writer: BulkWriter | None = None
        self._visible: dict[str, set[int] | None] = {}
        self._editable: dict[str, set[int] | None] = {}
        self.kinds = {t: fieldmap.TARGETS[t].kind for t in fieldmap.TARGETS}
        self.max_lengths = {t: fieldmap.TARGETS[t].max_length for t in fieldmap.TARGETS}
        if self.entity == "accounts":
            self.max_lengths["name"] = Account._meta.get_field("name").max_length or 200
        mapped = {t for _i, t in self.columns}
        self.contact_field = next(
            (t for t in ("mobile", "phone", "email") if t in mapped), "mobile"
        )
        self.custom_keys = [t[7:] for _i, t in self.columns if t.startswith("custom.")]
        self._custom_targets = {t for _i, t in self.columns if t.startswith("custom.")}
        self._e164_of = {t: f"{t}_e164" for t in ("mobile", "phone")}
        default_source = options.source.strip()
        self.default_source_id = self._source_id(default_source) if default_source else None
        self.option_tags = parse.parse_tags(",".join(options.tags))

    # --- look-ups (cached for the run) -----------------------------------------------

    def _user_id(self, text: str) -> int | None:
        if self._users is None:
            from guanxi.identity.models import User as UserModel

            self._users = {}
            for pk, username, display in UserModel.objects.filter(is_active=True).values_list(
                "pk", "username", "display_name"
            ):
                self._users.setdefault(username.lower(), pk)
                if display:
                    self._users.setdefault(display.lower(), pk)
        return self._users.get(text.strip().lower())

    def _source_id(self, text: str) -> int:
        if self._sources is None:
            self._sources = {}
            for pk, code, zh, en in LeadSource.objects.filter(active=True).values_list(
                "pk", "code", "name_zh", "name_en"
            ):
                for word in (code, zh, en):
                    if word:
                        self._sources.setdefault(word.strip().lower(), pk)
        found = self._sources.get(text.strip().lower())
        if found is None:
            raise ValueError(_("Unknown lead source: %(v)s.") % {"v": text[:40]})
        return found

    def _owners_in_scope(self, entity_key: str, action: str) -> set[int] | None:
        """Owner ids whose records the actor may ``action`` (None: all; empty: none)."""
        cache = self._visible if action == "view" else self._editable
        if entity_key not in cache:
            if not permissions.can(self.actor, entity_key, action):
                cache[entity_key] = set()
            else:
                scope = permissions.scope_of(self.actor, entity_key) or "own"
                ids = permissions.scope_user_ids(self.actor, scope)
                cache[entity_key] = None if ids is None else set(ids)
        return cache[entity_key]

    def _may(self, entity_key: str, action: str, pk: int, owner_id: int | None) -> bool:
        owners = self._owners_in_scope(entity_key, action)
        if owners is None:
            return True
        if owner_id in owners:
            return True
        if entity_key == "account":
            # Collaborators see accounts beyond their scope: ask the permission layer.
            return (
                permissions.scoped_queryset(self.actor, "account", action).filter(pk=pk).exists()
                if permissions.can(self.actor, "account", action)
                else False
            )
        return False

    # --- one row ---------------------------------------------------------------------

    def _text(self, target: str, value: Cell, out: dict[str, Any]) -> None:
        # A stripped string (what CSV cells are) is its own text unless it starts with
        # the apostrophe that neutralises a formula: skip cell_text's type checks.
        text = value if type(value) is str and value[0] != "'" else cell_text(value)
        limit = self.max_lengths[target]
        if limit and len(text) > limit:
            raise ValueError(
                _("At most %(n)d characters (this value has %(m)d).") % {"n": limit, "m": len(text)}
            )
        out[target] = text

    def prepare(self, number: int, cells: list[Cell]) -> Row | None:
        """Normalise and validate one row; None for an empty row; RowErrors if invalid."""
        row = Row(number=number, cells=cells)
        raw: dict[str, Cell] = {}
        width = len(cells)
        for idx, target in self.columns:
            if idx < width:
                value = cells[idx]
                if value is not None and value != "" and target not in raw:
                    if type(value) is str or isinstance(value, str):
                        value = value.strip()
                        if not value:
                            continue
                    raw[target] = value
        if not raw and not any(cell_text(c) for c in cells):
            return None
        errors: list[tuple[str, str]] = []
        out = row.values
        order = self.options.date_order
        kinds = self.kinds
        for target, value in raw.items():
            if target in self._custom_targets:
                continue
            try:
                kind = kinds[target]
                if kind == "text":
                    self._text(target, value, out)
                elif kind == "part" or kind == "long_text":
                    out[target] = (
                        value if type(value) is str and value[0] != "'" else cell_text(value)
                    )
                elif kind == "phone" and _PLAIN_MOBILE.match(
                    plain := value if type(value) is str else cell_text(value)
                ):
                    # Fast path: an 11-digit Chinese mobile typed plainly, or stored as a
                    # number by Excel (most of them): the same result as normalize.phone
                    # gives, without its general parsing.
                    out[target] = plain
                    out[self._e164_of[target]] = "+86" + plain
                    if target == "phone":
                        out["phone_ext"] = ""
                elif kind == "phone":
                    parsed = normalize.phone(value)
                    text = cell_text(value)
                    if len(text) > 40:
                        raise ValueError(
                            _("At most %(n)d characters (this value has %(m)d).")
                            % {"n": 40, "m": len(text)}
                        )
                    if parsed is not None:
                        out[target] = text
                        out[f"{target}_e164"] = parsed.e164
                        if target == "phone":
                            out["phone_ext"] = parsed.extension[:10]
                elif kind == "email":
                    text = value if type(value) is str and value[0] != "'" else cell_text(value)
                    norm = normalize.email(text)
                    if norm:
                        out["email"] = text
                        out["email_norm"] = norm
                elif kind in ("date",):
                    out[target] = parse.parse_date(value, order=order)
                elif kind == "datetime":
                    parsed_dt = parse.parse_datetime(value, order=order)
                    out[target] = (
                        parse.aware(parsed_dt, self.options.time_zone) if parsed_dt else None
                    )
                elif kind == "tags":
                    out[target] = parse.parse_tags(value)
                elif kind == "tier":
                    out[target] = parse.parse_tier(value)
                elif kind == "integer":
                    out[target] = parse.parse_integer(value)
                elif kind == "credit_code":
                    code = creditcode.normalise(cell_text(value))
                    if code and not creditcode.is_valid(code):
                        raise ValueError(_("Not a valid unified social credit code."))
                    out[target] = code
                elif kind == "source":
                    out["source_id"] = self._source_id(cell_text(value))
                elif kind == "status":
                    out[target] = self._status(cell_text(value))
                elif kind == "owner":
                    owner_id = self._user_id(cell_text(value))
                    if owner_id is None:
                        self._warn(number, target, _("Unknown user; the default owner is used."))
                    elif owner_id != self.default_owner_id and not self.can_transfer:
                        self._warn(
                            number,
                            target,
                            _("You may not give records to others; the default owner is used."),
                        )
                    else:
                        row.owner_id = owner_id
            except (ValueError, normalize.InvalidValue) as exc:
                errors.append((target, str(exc)))
        if self.custom_keys:
            custom_in = {t[7:]: v for t, v in raw.items() if t.startswith("custom.")}
            try:
                out["custom"] = custom_fields.validate(
                    self.entity_key, {k: cell_text(v) for k, v in custom_in.items()}
                )
            except ValidationFailed as exc:
                errors.extend((e.field, str(e.message)) for e in exc.errors)
        first, last = out.pop("first_name", ""), out.pop("last_name", "")
        if not out.get("name") and (first or last):
            cjk = any("\u4e00" <= ch <= "\u9fff" for ch in first + last)
            out["name"] = (last + first) if cjk else f"{first} {last}".strip()
            if len(out["name"]) > 100:
                errors.append(("name", _("At most %(n)d characters.") % {"n": 100}))
        name_failed = any(t == "name" for t, _m in errors)
        if self.entity == "accounts":
            if not out.get("name") and not name_failed:
                errors.append(("name", _("A name is required.")))
        else:
            if not out.get("name") and not name_failed:
                company = out.get("company", "")
                if not company:
                    errors.append(("name", _("A name or a company is required.")))
                elif len(company) > self.max_lengths["name"]:
                    # The company stands in for the name: never cut it to fit.
                    errors.append(
                        (
                            "name",
                            _("At most %(n)d characters (this value has %(m)d).")
                            % {"n": self.max_lengths["name"], "m": len(company)},
                        )
                    )
                else:
                    out["name"] = company
            if (
                self.options.require_contact
                and "mobile_e164" not in out
                and "phone_e164" not in out
                and "email_norm" not in out
                and not any(t in ("mobile", "phone", "email") for t, _m in errors)
            ):
                errors.append(
                    (self.contact_field, _("A phone number or an e-mail address is required."))
                )
        errors.extend(self._required(out, {t for t, _m in errors}))
        if errors:
            raise RowErrors(errors)
        if self.entity == "contacts":
            row.company = out.pop("company", "")
        if self.entity == "accounts":
            if "notes" in out:
                out["special_requirements"] = out.pop("notes")
            key = out["name"].strip().lower()
            row.keys.append(("name", key))
            if out.get("credit_code"):
                row.keys.append(("credit_code", out["credit_code"]))
        else:
            for t in ("mobile_e164", "phone_e164"):
                if out.get(t):
                    row.keys.append(("phone", out[t]))
            if out.get("email_norm"):
                row.keys.append(("email", out["email_norm"]))
        if self.option_tags:
            out["tags"] = list(dict.fromkeys([*out.get("tags", []), *self.option_tags]))
        if self.entity == "leads" and "source_id" not in out and self.default_source_id:
            out["source_id"] = self.default_source_id
        if "name" in out:
            full, initials = normalize.pinyin_keys(out["name"])
            out["name_pinyin"], out["name_initials"] = full[:200], initials[:50]
            if self.entity == "accounts":
                out["name_pinyin"], out["name_initials"] = full[:400], initials[:100]
        return row

    def _required(self, out: dict[str, Any], reported: set[str]) -> list[tuple[str, str]]:
        """The admin's required-field rules (数据治理), as this row's errors."""

        def value_of(name: str) -> Any:
            if name.startswith("custom."):
                return (out.get("custom") or {}).get(name[7:])
            if name == "account":
                return out.get("company")
            if name == "source":
                return out.get("source_id") or self.default_source_id
            return out.get(name, out.get(f"{name}_id"))

        return [
            (e.field, str(e.message))
            for e in required_fields.missing(self.entity_key, value_of)
            if e.field not in reported
        ]

    def _status(self, text: str) -> str:
        from django.utils import translation

        wanted = text.strip().lower()
        for value, label in Lead.Status.choices:
            if value == Lead.Status.CONVERTED:
                continue
            names = {value, str(label).lower()}
            for lang in ("zh-hans", "en"):
                with translation.override(lang):
                    names.add(str(label).lower())
            if wanted in names:
                return value
        raise ValueError(_("Not a lead status: %(v)s.") % {"v": text[:40]})

    def _warn(self, number: int, target: str, message: str) -> None:
        if len(self.result.warnings) < REPORT_LIMIT:
            self.result.warnings.append({"row": number, "field": target, "message": message})

    # --- the run ---------------------------------------------------------------------

    def rows(self) -> Iterator[tuple[int, list[Cell]]]:
        return data_rows(self.path, self.info)

    def run(self) -> Result:
        chunk: list[Row] = []
        done = 0
        for number, cells in self.rows():
            done += 1
            try:
                row = self.prepare(number, cells)
            except RowErrors as exc:
                self._invalid(number, cells, exc.errors)
                continue
            if row is None:
                self.result.rows_empty += 1
                continue
            self.result.rows_total += 1
            chunk.append(row)
            if len(chunk) >= CHUNK_ROWS:
                self._flush(chunk)
                chunk = []
                if self.on_progress:
                    self.on_progress(done, self.result)
                if self.should_stop and self.should_stop():
                    self.result.cancelled = True
                    return self.result
        if chunk:
            self._flush(chunk)
        if self.on_progress:
            self.on_progress(done, self.result)
        return self.result

    def _invalid(self, number: int, cells: list[Cell], errors: list[tuple[str, str]]) -> None:
        self.result.rows_total += 1
        self.result.rows_invalid += 1
        for target, message in errors:
            self.result.errors.append({"row": number, "field": target, "message": message})
        if len(self.result.invalid_rows) < REPORT_LIMIT:
            self.result.invalid_rows[number] = [cell_text(c) for c in cells]

    # --- one chunk -------------------------------------------------------------------

    def _existing(self, rows: list[Row]) -> dict[tuple[str, str], tuple[str, int, int | None]]:
        if self.entity == "accounts":
            names = {k for r in rows for m, k in r.keys if m == "name"}
            codes = {k for r in rows for m, k in r.keys if m == "credit_code"}
            found: dict[tuple[str, str], tuple[str, int, int | None]] = {}
            for part in _parts(sorted(names)):
                # Names are compared trimmed and case-insensitively; the index on name
                # serves the exact forms, lower-case variants are checked in Python.
                variants = set(part) | {n.upper() for n in part} | {n.title() for n in part}
                for pk, name, owner_id in (
                    Account.objects.filter(name__in=variants)
                    .order_by("pk")
                    .values_list("pk", "name", "owner_id")
                ):
                    found.setdefault(("name", name.strip().lower()), ("account", pk, owner_id))
            for part in _parts(sorted(codes)):
                for pk, code, owner_id in (
                    Account.objects.filter(credit_code__in=part)
                    .order_by("pk")
                    .values_list("pk", "credit_code", "owner_id")
                ):
                    found.setdefault(("credit_code", code), ("account", pk, owner_id))
            return found
        phones = {k for r in rows for m, k in r.keys if m == "phone"}
        emails = {k for r in rows for m, k in r.keys if m == "email"}
        return find_duplicates_bulk(phones=phones, emails=emails)

    def _flush(self, rows: list[Row]) -> None:
        existing = self._existing(rows)
        on_dup = self.options.on_duplicate
        creates: list[Row] = []
        updates: list[tuple[Row, str, int, str]] = []
        for row in rows:
            earlier_key = next((k for k in row.keys if k in self.seen), None)
            if earlier_key is not None and on_dup != "create":
                # Within the file first: a repeat of an earlier row, whatever that row did.
                self.result.rows_duplicate += 1
                self._duplicate(
                    {
                        "row": row.number,
                        "existing_id": None,
                        "existing_type": self.entity_key,
                        "duplicate_of_row": self.seen[earlier_key],
                        "match": earlier_key[0],
                        "action": "skipped",
                    }
                )
                continue
            match = None
            for key in row.keys:
                if key in existing:
                    match = (key[0], existing[key])
                    break
            self._remember(row)
            if match is None:
                creates.append(row)
                continue
            how, (entity_key, pk, owner_id) = match
            visible = self._may(entity_key, "view", pk, owner_id)
            action = "skipped"
            if visible and on_dup == "create":
                action = "created"
            elif (
                visible
                and on_dup in ("update", "overwrite")
                and entity_key == self.entity_key
                and self._may(entity_key, "edit", pk, owner_id)
            ):
                action = "updated"
            self.result.rows_duplicate += 1
            item: dict[str, Any] = {
                "row": row.number,
                "existing_id": pk if visible else None,
                "existing_type": entity_key,
                "match": how,
                "action": action,
            }
            if not visible:
                # Never reveal a record outside the importer's scope, only that it exists.
                item["existing_type"] = None
                item["note"] = _("matches a record outside your scope")
            self._duplicate(item)
            if action == "created":
                creates.append(row)
            elif action == "updated":
                updates.append((row, entity_key, pk, how))
        self._likely(creates)
        if self.options.dry_run:
            self.result.rows_imported += len(creates)
            self.result.rows_updated += len(updates)
            return
        with transaction.atomic():
            self._create(creates)
            for row, _entity_key, pk, _how in updates:
                if self._update(row, pk):
                    self.result.rows_updated += 1

    def _remember(self, row: Row) -> None:
        for key in row.keys:
            self.seen.setdefault(key, row.number)

    def _duplicate(self, item: dict[str, Any]) -> None:
        if len(self.result.duplicates) < REPORT_LIMIT or self.batch is None:
            self.result.duplicates.append(item)

    def _likely(self, rows: list[Row]) -> None:
        """Same name and company as an existing record: listed for review, never merged."""
        if self.entity == "accounts" or len(self.result.likely) >= 1000:
            return
        pairs: dict[tuple[str, str], int] = {}
        for row in rows:
            company = row.values.get("company", "") if self.entity == "leads" else row.company
            if company and row.values.get("name"):
                pairs.setdefault((row.values["name"], company), row.number)
        if not pairs:
            return
        hits: list[tuple[str, int, int | None, str, str]] = []
        quote = connection.ops.quote_name
        lead_t, contact_t, account_t = (quote(m._meta.db_table) for m in (Lead, Contact, Account))
        keys = sorted(pairs)
        # Plain SQL, OR of exact pairs: each term is one probe of a (company, name) or
        # (account, …) index, whatever the table size; IN lists over both columns would
        # make the planner probe their cross product.
        with connection.cursor() as cur:
            companies = sorted({c for _n, c in keys})
            account_names: dict[int, str] = {}
            for part in _parts(companies, 500):
                marks = ", ".join(["%s"] * len(part))
                cur.execute(
                    f"SELECT id, name FROM {account_t} WHERE name IN ({marks})",
                    part,
                )
                account_names.update(dict(cur.fetchall()))
            for start in range(0, len(keys), 200):
                pair_part = keys[start : start + 200]
                terms = " OR ".join(["(company = %s AND name = %s)"] * len(pair_part))
                cur.execute(
                    f"SELECT id, owner_id, name, company FROM {lead_t} WHERE {terms}",
                    [v for n, c in pair_part for v in (c, n)],
                )
                hits.extend(("lead", *r) for r in cur.fetchall())
            by_company: dict[str, list[int]] = {}
            for pk, name in account_names.items():
                by_company.setdefault(name, []).append(pk)
            contact_keys = [(a, n) for n, c in keys for a in by_company.get(c, [])]
            for start in range(0, len(contact_keys), 200):
                part_ids = contact_keys[start : start + 200]
                # "+account_id" keeps the planner off the account index: an import puts
                # many rows under few companies, so probing by account would read every
                # contact of that company (growing chunk after chunk); the name index
                # reads only the namesakes. Same result either way.
                terms = " OR ".join(["(+account_id = %s AND name = %s)"] * len(part_ids))
                cur.execute(
                    f"SELECT id, owner_id, name, account_id FROM {contact_t} WHERE {terms}",
                    [v for pair in part_ids for v in pair],
                )
                hits.extend(
                    ("contact", pk, owner, name, account_names[account])
                    for pk, owner, name, account in cur.fetchall()
                )
        for entity_key, pk, owner_id, name, company in sorted(hits, key=lambda h: h[1]):
            number = pairs.get((name, company))
            if number is None or len(self.result.likely) >= 1000:
                continue
            visible = self._may(entity_key, "view", pk, owner_id)
            self.result.likely.append(
                {
                    "row": number,
                    "existing_id": pk if visible else None,
                    "existing_type": entity_key,
                    "match": "name",
                }
            )

    def _account_ids(self, rows: list[Row]) -> None:
        """Contacts' company names → accounts the importer can see, else new accounts."""
        names = {r.company for r in rows if r.company and r.company not in self._accounts}
        if names:
            visible = permissions.can(self.actor, "account", "view")
            for part in _parts(sorted(names)):
                if not visible:
                    break
                qs = permissions.scoped_queryset(self.actor, "account").filter(name__in=part)
                for pk, name in qs.order_by("pk").values_list("pk", "name"):
                    self._accounts.setdefault(name, pk)
            missing = sorted(n for n in names if n not in self._accounts)
            if missing:
                permissions.require(self.actor, "account", "create")
                owner_of: dict[str, int | None] = {}
                for r in rows:
                    if r.company in missing:
                        owner_of.setdefault(r.company, r.owner_id or self.default_owner_id)
                new = []
                for name in missing:
                    full, initials = normalize.pinyin_keys(name)
                    new.append(
                        Account(
                            name=name[:200],
                            name_pinyin=full[:400],
                            name_initials=initials[:100],
                            owner_id=owner_of[name],
                            created_by_id=self.actor.pk,
                            tags=list(self.option_tags),
                        )
                    )
                Account.objects.bulk_create(new, batch_size=1000)
                for obj in new:
                    self._accounts[obj.name] = obj.pk
                self.result.add_created("account", [o.pk for o in new])
        for r in rows:
            if r.company:
                r.values["account_id"] = self._accounts[r.company]

    def _create(self, rows: list[Row]) -> None:
        if not rows:
            return
        if self.entity == "contacts":
            self._account_ids(rows)
        now = timezone.now()
        records: list[dict[str, Any]] = []
        for row in rows:
            record = dict(row.values)
            record["owner_id"] = row.owner_id or self.default_owner_id
            record["created_by_id"] = self.actor.pk
            record["created_at"] = now
            record["updated_at"] = now
            records.append(record)
        if self._writer is None:
            self._writer = BulkWriter(self.model)
        ids = self._writer.insert(records)
        self.result.add_created(self.entity_key, ids)
        self.result.rows_imported += len(ids)

    def _update(self, row: Row, pk: int) -> bool:
        """Fill empty fields (update) or replace them (overwrite); record before/after."""
        if self.entity == "contacts":
            self._account_ids([row])
        obj = self.model._default_manager.select_for_update().get(pk=pk)
        overwrite = self.options.on_duplicate == "overwrite"
        changes: dict[str, Any] = {}
        incoming = row.values
        for name in UPDATABLE[self.entity]:
            if name not in incoming:
                continue
            new = incoming[name]
            old = getattr(obj, name)
            if new in (None, "", [], {}) or new == old:
                continue
            if name == "custom":
                merged = dict(old or {})
                for k, v in new.items():
                    if overwrite or merged.get(k) in (None, "", []):
                        merged[k] = v
                new = merged
                if new == old:
                    continue
            elif name == "tags":
                new = list(dict.fromkeys([*(old or []), *new]))
                if new == old:
                    continue
            elif not overwrite and old not in (None, "", []):
                continue
            changes[name] = new
            for derived in DERIVED.get(name, ()):
                if derived in incoming:
                    changes[derived] = incoming[derived]
        if not changes:
            return False
        fields = list(changes)
        before = {n: _json(getattr(obj, n)) for n in fields}
        for n, v in changes.items():
            setattr(obj, n, v)
        obj.save(update_fields=[*fields, "updated_at"])
        after = {n: _json(getattr(obj, n)) for n in fields}
        after["updated_at"] = obj.updated_at.isoformat()
        if self.batch is not None:
            ImportedChange.objects.create(
                batch=self.batch,
                entity=self.entity_key,
                record_id=pk,
                row=row.number,
                before=before,
                after=after,
            )
        audit.record(
            actor=self.actor,
            action=AuditEvent.Action.UPDATE,
            entity=self.entity_key,
            obj=obj,
            changes={
                **audit.diff(before, {n: after[n] for n in fields}),
                "import_batch": [None, self.batch.pk if self.batch else None],
            },
        )
        return True


def _json(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    return value


def _parts(items: list[str], size: int = 2000) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
