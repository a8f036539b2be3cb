"""``guanxi rescore_leads``: recompute every lead's score from the active scoring rules.

Saving a scoring rule queues this in the background already; run it by hand after a
restore or a bulk load that bypassed the services. Prints how many scores changed.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Recompute lead scores from the active scoring rules (all leads, or --id ...)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--id", type=int, action="append", dest="ids", help="a lead id")

    def handle(self, *args: Any, **options: Any) -> None:
        from guanxi.leads.scoring import leads_rescore

        changed = leads_rescore(options["ids"])
        self.stdout.write(f"{changed}")
