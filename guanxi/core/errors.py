"""Typed domain errors raised by services and selectors.

One mapping (``guanxi.api.errors`` for the API, ``guanxi.web.forms`` for the UI) turns
them into responses; services never build HTTP responses themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """Base class of every error a service may raise on purpose."""

    default_message: Any = _("The request could not be completed.")

    def __init__(self, message: Any = None) -> None:
        self.message = str(message if message is not None else self.default_message)
        super().__init__(self.message)


@dataclass
class FieldError:
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": str(self.message)}


class ValidationFailed(DomainError):  # noqa: N818  (used by every app)
    """Input is invalid; ``errors`` names each field and why."""

    default_message = _("Some fields are invalid.")

    def __init__(self, errors: list[FieldError] | dict[str, Any], message: Any = None) -> None:
        if isinstance(errors, dict):
            errors = [FieldError(k, str(v)) for k, v in errors.items()]
        self.errors: list[FieldError] = errors
        if message is None and len(errors) == 1:
            message = f"{errors[0].field}: {errors[0].message}"
        super().__init__(message)

    def as_dict(self) -> dict[str, str]:
        return {e.field: str(e.message) for e in self.errors}


class OutOfScope(DomainError):  # noqa: N818  (used by every app)
    """The record does not exist or lies outside the caller's data scope (API: 404)."""

    default_message = _("Not found.")


class NotPermitted(DomainError):  # noqa: N818  (used by every app)
    """The caller's roles do not grant the action (API: 403)."""

    default_message = _("You do not have permission to do this.")


class Conflict(DomainError):  # noqa: N818  (used by every app)
    """The action conflicts with the record's state, e.g. converting twice (API: 409)."""

    default_message = _("This conflicts with the current state of the record.")


@dataclass
class DuplicateOf:
    type: str
    id: int
    match: str
    visible: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


class DuplicateRecord(Conflict):
    """Another record already has this phone or e-mail (API: 409 with ``duplicate_of``)."""

    default_message = _("A record with the same phone or e-mail already exists.")

    def __init__(self, duplicate: DuplicateOf, message: Any = None) -> None:
        self.duplicate = duplicate
        super().__init__(message)
