"""Indexes the global search needs on tables owned by the leads and customers apps.

Kept here (raw SQL, vendor-specific) so the search app owns its access paths:

* ``leads_lead(name)``: name prefix search (the existing index leads with ``company``).
* the last four digits of every E.164 phone, for "search by phone tail": SQLite
  ``substr(col, -4)``, PostgreSQL ``right(col, 4)``. guanxi.search.selectors.Tail4
  compiles to exactly these expressions so the planners can match the index.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

TAIL_COLUMNS = [
    ("leads_lead", "mobile_e164", "search_lead_mobile_tail"),
    ("leads_lead", "phone_e164", "search_lead_phone_tail"),
    ("customers_contact", "mobile_e164", "search_contact_mobile_tail"),
    ("customers_contact", "phone_e164", "search_contact_phone_tail"),
]


def _tail_sql(vendor: str, column: str) -> str:
    if vendor == "postgresql":
        return f'right("{column}", 4)'
    return f'substr("{column}", -4)'


def create(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    schema_editor.execute('CREATE INDEX IF NOT EXISTS search_lead_name ON leads_lead ("name")')
    for table, column, name in TAIL_COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} (({_tail_sql(vendor, column)}))"
            if vendor == "postgresql"
            else f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({_tail_sql(vendor, column)})"
        )


def drop(apps: Any, schema_editor: Any) -> None:
    schema_editor.execute("DROP INDEX IF EXISTS search_lead_name")
    for _table, _column, name in TAIL_COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0001_initial"),
        ("customers", "0001_initial"),
    ]

    operations = [migrations.RunPython(create, drop)]
