"""The write path of imports: many rows in few statements, ids back for undo.

Django's ``bulk_create`` prepares every value of every field through the ORM (measured:
about half of an import's time). Imports know their values are already clean, so this
inserts plain tuples: ``executemany`` on SQLite (ids are contiguous inside the write
transaction, which holds SQLite's only write lock), ``COPY`` on PostgreSQL with ids
taken from the table's sequence beforehand. Values are stored exactly as the ORM would
store them (JSON text, UTC datetimes).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.db import connection, models


class BulkWriter:
    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.table = model._meta.db_table
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        self.attnames = [f.attname for f in fields]
        self.columns = [f.column for f in fields]
        self.json = {f.attname for f in fields if isinstance(f, models.JSONField)}
        self.defaults: dict[str, Any] = {}
        for f in fields:
            if f.has_default():
                value = f.get_default()
            elif f.null:
                value = None
            else:
                value = ""
            self.defaults[f.attname] = value
        pk = model._meta.pk
        assert pk is not None
        self.pk_column = pk.column

    def _converters(self) -> dict[str, Any]:
        """attname → the function turning a value into its database form, for the few
        columns that need one (JSON; dates on SQLite). Looked up once per insert."""
        sqlite = connection.vendor == "sqlite"
        adapt = connection.ops.adapt_datetimefield_value
        memo: dict[Any, Any] = {}

        def stamp(value: Any) -> Any:
            if value is None:
                return None
            if value not in memo:
                memo[value] = adapt(value) if isinstance(value, dt.datetime) else value.isoformat()
            return memo[value]

        out: dict[str, Any] = {}
        for f in self.model._meta.concrete_fields:
            if f.primary_key:
                continue
            if isinstance(f, models.JSONField):
                out[f.attname] = _to_json
            elif sqlite and isinstance(f, models.DateField | models.DateTimeField):
                out[f.attname] = stamp
        return out

    def insert(self, records: list[dict[str, Any]]) -> list[int]:
        """Insert ``records`` (attname → value; missing ones take the field default) and
        return their new ids in order. Call inside a transaction."""
        if not records:
            return []
        converters = self._converters()
        defaults = [(name, self.defaults[name]) for name in self.attnames]
        converted = [(i, converters[n]) for i, n in enumerate(self.attnames) if n in converters]
        rows: list[list[Any]] = []
        append = rows.append
        for rec in records:
            get = rec.get
            values = [get(name, default) for name, default in defaults]
            for i, conv in converted:
                values[i] = conv(values[i])
            append(values)
        quote = connection.ops.quote_name
        table = quote(self.table)
        with connection.cursor() as cur:
            if connection.vendor == "postgresql":
                seq = f"pg_get_serial_sequence('{self.table}', '{self.pk_column}')"
                cur.execute(
                    f"SELECT nextval({seq}) FROM generate_series(1, %s)",
                    [len(rows)],
                )
                ids = [r[0] for r in cur.fetchall()]
                cols = ", ".join(quote(c) for c in [self.pk_column, *self.columns])
                raw = cur.cursor  # psycopg's own cursor under Django's wrapper
                with raw.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                    for pk, row in zip(ids, rows, strict=True):
                        copy.write_row((pk, *row))
                return ids
            cols = ", ".join(quote(c) for c in self.columns)
            marks = ", ".join(["%s"] * len(self.columns))
            sql = f"INSERT INTO {table} ({cols}) VALUES ({marks})"
            cur.executemany(sql, rows)
            cur.execute(f"SELECT max({quote(self.pk_column)}) FROM {table}")
            last = cur.fetchone()[0]
        return list(range(last - len(rows) + 1, last + 1))


def _to_json(value: Any) -> str:
    """``json.dumps`` with the empty list and object (most rows' tags and custom) shortcut."""
    if not value:
        if value == []:
            return "[]"
        if value == {}:
            return "{}"
    return json.dumps(value)
