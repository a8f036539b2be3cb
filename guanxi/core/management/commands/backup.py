"""``guanxi backup FILE``: see :mod:`guanxi.core.management.backup` for the formats."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from guanxi.core.management import backup


class Command(BaseCommand):
    help = (
        "Back up the database while Guanxi runs. FILE.tar.gz: database + uploaded files; "
        "any other name: the database alone (SQLite file, or pg_dump custom format)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--no-media", action="store_true", help="leave uploaded files out of a .tar.gz"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        summary = backup.backup(options["file"], media=not options["no_media"])
        self.stdout.write(
            f"Backed up the {summary['engine']} database"
            + (f" and {summary['media_files']} files" if summary["media_files"] else "")
            + f" to {summary['file']} ({summary['bytes']:,} bytes)"
        )
