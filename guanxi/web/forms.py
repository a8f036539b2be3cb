"""The one mapping from domain errors to form errors and flash messages (UI side)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest

from guanxi.core.errors import DomainError, ValidationFailed


def apply_domain_errors(form: forms.Form, exc: ValidationFailed) -> None:
    """Put each FieldError of ``exc`` next to the form field it names.

    Nested names (``grants.lead.scope``, ``custom.region``) fall back to their first part
    when that is a form field; anything else becomes a form-wide error.
    """
    for error in exc.errors:
        name = error.field
        if name not in form.fields:
            head = name.split(".", 1)[0]
            name = head if head in form.fields else ""
        if name:
            form.add_error(name, str(error.message))
        else:
            form.add_error(
                None, f"{error.field}: {error.message}" if error.field else error.message
            )


def flash_domain_error(request: HttpRequest, exc: DomainError) -> None:
    """Show a domain error that belongs to no field (Conflict, NotPermitted) as a flash."""
    if isinstance(exc, ValidationFailed):
        for error in exc.errors:
            messages.error(request, str(error.message))
        if not exc.errors:
            messages.error(request, exc.message)
        return
    messages.error(request, exc.message)
