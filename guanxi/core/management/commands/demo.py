"""``guanxi demo``: load the demo company (see :mod:`guanxi.core.demo`)."""

from __future__ import annotations

import unicodedata
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from guanxi.core.demo import DEMO_PASSWORD, demo_steps, run_demo


class Command(BaseCommand):
    help = (
        "Load a realistic demo company (departments, users, and every app's demo data). "
        f"Safe to run again. Every demo user's password is {DEMO_PASSWORD!r}."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--list-steps", action="store_true", help="list the steps and stop")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["list_steps"]:
            for order, name, _fn in demo_steps():
                self.stdout.write(f"{order:>5}  {name}")
            return
        ctx = run_demo(log=lambda line: self.stdout.write(f"  {line}"))
        self.stdout.write(self.style.SUCCESS("Demo data loaded. Logins:"))
        self.stdout.write(f"  {'username':10} {'password':12} {_pad('name', 12)} role / department")
        for username, password, name, role, dept in ctx.logins:
            self.stdout.write(f"  {username:10} {password:12} {_pad(name, 12)} {role} / {dept}")


def _pad(text: str, width: int) -> str:
    """Left-align ``text`` in ``width`` terminal columns (CJK characters take two)."""
    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(0, width - used)
