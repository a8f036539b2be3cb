"""Reads of core records: notes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from guanxi.core import custom_fields, permissions
from guanxi.core.errors import FieldError, ValidationFailed
from guanxi.core.models import Note
from guanxi.core.pagination import Page, paginate

if TYPE_CHECKING:
    from guanxi.identity.models import User

NOTE_SORTS = {"created_at", "updated_at", "title"}


def note_list(
    *,
    actor: User,
    q: str = "",
    custom: dict[str, Any] | None = None,
    sort: str = "-created_at",
    page: Any = 1,
    page_size: Any = 50,
) -> Page:
    """Notes in the actor's scope; ``custom`` filters by custom values, ``sort`` is a field
    name or ``custom.<key>``, with ``-`` for descending."""
    qs: QuerySet[Note] = permissions.scoped_queryset(actor, "note").select_related("owner")
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(body__icontains=q))
    if custom:
        qs = custom_fields.filter_queryset(qs, "note", custom)
    descending = sort.startswith("-")
    name = sort.lstrip("-")
    if name.startswith("custom."):
        qs = custom_fields.order_by_custom(qs, "note", name[len("custom.") :], descending)
    elif name in NOTE_SORTS:
        qs = qs.order_by(sort, "-id")
    else:
        raise ValidationFailed([FieldError("sort", _("Unknown sort field."))])
    return paginate(qs, page, page_size)


def note_get_for_user(*, actor: User, pk: Any, action: str = "view") -> Note:
    note: Note = permissions.get_for_user(
        actor, "note", pk, action, base=Note.objects.select_related("owner")
    )
    return note


def note_as_dict(*, note: Note) -> dict[str, Any]:
    return {
        "id": note.pk,
        "title": note.title,
        "body": note.body,
        "owner": {"id": note.owner.pk, "username": note.owner.username} if note.owner else None,
        "custom": note.custom,
        "created_at": note.created_at,
        "updated_at": note.updated_at,
    }
