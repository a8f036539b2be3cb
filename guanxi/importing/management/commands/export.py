"""``guanxi export --entity leads|contacts|accounts FILE.csv|FILE.xlsx``.

Exports what ``--user`` (default: the first active administrator) may see, masked as
their roles mask it, audited. CSV is UTF-8 with BOM unless ``--encoding gbk``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from guanxi.core.errors import DomainError, ValidationFailed
from guanxi.core.management import validation_error
from guanxi.importing import exporting
from guanxi.importing.cli import acting_user


class Command(BaseCommand):
    help = "Export leads, contacts or accounts to CSV or XLSX."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="FILE.csv or FILE.xlsx")
        parser.add_argument("--entity", required=True, choices=["leads", "contacts", "accounts"])
        parser.add_argument("--encoding", default="utf-8", choices=["utf-8", "gbk"])
        parser.add_argument(
            "--user", default="", help="whose scope and masking apply; default an admin"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        actor = acting_user(opts["user"])
        path = Path(opts["file"])
        try:
            count = exporting.export_to_path(
                actor=actor, entity=opts["entity"], path=path, encoding=opts["encoding"]
            )
        except ValidationFailed as exc:
            raise validation_error(exc) from exc
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stderr.write(f"{count} records written to {path}")
