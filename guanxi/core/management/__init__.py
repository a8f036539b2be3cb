"""Guanxi's own management commands (``guanxi <command>``); helpers shared by them."""

from __future__ import annotations

from django.core.management.base import CommandError

from guanxi.core.errors import ValidationFailed


def validation_error(exc: ValidationFailed) -> CommandError:
    """A CommandError (exit code 1) that lists each invalid field and why."""
    lines = [f"  {e.field}: {e.message}" for e in exc.errors]
    return CommandError("\n".join([str(exc.default_message), *lines]))
