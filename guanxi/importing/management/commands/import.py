# ruff: noqa: N999  (the command is named "import" by DESIGN §3)
"""``guanxi import FILE --entity leads|contacts|accounts``: the import engine from the shell.

With ``--json`` stdout holds exactly one JSON object (DESIGN §3). Exit code 0 when the
file was read (even if rows were invalid), 2 when it could not be read at all, 1 for
bad arguments or missing permissions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from guanxi.core.errors import DomainError, ValidationFailed
from guanxi.core.management import validation_error
from guanxi.importing import services
from guanxi.importing.cli import acting_user
from guanxi.importing.engine import ON_DUPLICATE, Options
from guanxi.importing.reader import UnreadableFile


class Command(BaseCommand):
    help = "Import leads, contacts or accounts from a CSV / Excel file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--entity", required=True, choices=["leads", "contacts", "accounts"])
        parser.add_argument("--dry-run", action="store_true", help="check only, write nothing")
        parser.add_argument("--on-duplicate", default="skip", choices=list(ON_DUPLICATE))
        parser.add_argument("--owner", default="", help="username owning the new records")
        parser.add_argument(
            "--user", default="", help="who imports (scope and permissions); default an admin"
        )
        parser.add_argument("--json", action="store_true", help="print one JSON summary")
        parser.add_argument("--encoding", default="", help="override the detected encoding")
        parser.add_argument("--delimiter", default="", help="override the detected delimiter")
        parser.add_argument("--sheet", default="", help="sheet name (default: the first)")
        parser.add_argument("--header-row", type=int, default=0, help="header row number")
        parser.add_argument("--tags", default="", help="tags added to every record (a,b)")
        parser.add_argument("--source", default="", help="lead source code for leads")
        parser.add_argument("--date-order", default="MDY", choices=["MDY", "DMY"])
        parser.add_argument(
            "--no-contact-required",
            action="store_true",
            help="accept leads / contacts with neither phone nor e-mail",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        actor = acting_user(opts["user"])
        owner_id = acting_user(opts["owner"], fallback=False).pk if opts["owner"] else None
        options = Options(
            entity=opts["entity"],
            on_duplicate=opts["on_duplicate"],
            owner_id=owner_id,
            tags=[t for t in opts["tags"].split(",") if t.strip()],
            source=opts["source"],
            require_contact=not opts["no_contact_required"],
            date_order=opts["date_order"],
            encoding=opts["encoding"],
            delimiter=opts["delimiter"].replace("\\t", "\t"),
            sheet=opts["sheet"],
            header_row=opts["header_row"],
            dry_run=opts["dry_run"],
        )
        path = Path(opts["file"])
        try:
            if not path.is_file():
                raise UnreadableFile(f"No such file: {path}")
            batch, result = services.import_file(
                actor=actor, path=path, file_name=path.name, options=options
            )
        except UnreadableFile as exc:
            if opts["json"]:
                self.stdout.write(json.dumps({"error": str(exc)}, ensure_ascii=False))
            raise CommandError(str(exc), returncode=2) from exc
        except ValidationFailed as exc:
            raise validation_error(exc) from exc
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        summary = {
            "batch_id": batch.pk if batch else None,
            **result.counts(),
            "errors": result.errors,
            "duplicates": result.duplicates,
            "likely_duplicates": result.likely,
            "warnings": result.warnings,
            "dry_run": options.dry_run,
        }
        if opts["json"]:
            self.stdout.write(json.dumps(summary, ensure_ascii=False, default=str))
            return
        self.stdout.write(
            f"batch {summary['batch_id']}: {result.rows_total} rows, "
            f"{result.rows_imported} created, {result.rows_updated} updated, "
            f"{result.rows_duplicate} duplicates, {result.rows_invalid} invalid, "
            f"{result.rows_empty} empty"
        )
        for err in result.errors[:50]:
            self.stdout.write(f"  row {err['row']} {err['field']}: {err['message']}")
