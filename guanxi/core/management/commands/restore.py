"""``guanxi restore FILE [--yes]``: replace the database with a backup."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from guanxi.core.management import backup


class Command(BaseCommand):
    help = (
        "Replace ALL data with a backup made by `guanxi backup` (stop `guanxi serve` first). "
        "Asks for confirmation; without a terminal, --yes is required."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        parser.add_argument("--no-media", action="store_true", help="do not restore uploaded files")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path} does not exist.")
        kind = backup.detect(path)  # refuse a wrong file before asking anything
        if not options["yes"]:
            if not sys.stdin.isatty():
                raise CommandError("Restoring replaces all data: re-run with --yes to confirm.")
            answer = input(f"Replace ALL current data with {path} ({kind})? Type 'yes': ")
            if answer.strip().lower() != "yes":
                raise CommandError("Cancelled.")
        summary = backup.restore(path, media=not options["no_media"])
        self.stdout.write(
            f"Restored the {summary['engine']} database from {summary['file']}"
            + (f" and {summary['media_files']} files" if summary["media_files"] else "")
            + ". Run `guanxi migrate` if the backup comes from an older version."
        )
