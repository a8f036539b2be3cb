from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from guanxi.core import permissions
from guanxi.core.models import AuditEvent
from guanxi.core.pagination import Page, paginate
from guanxi.identity.models import ApiToken, Department, Role, User


def user_list(
    *,
    actor: User,
    q: str = "",
    department: int | None = None,
    active: bool | None = None,
    page: Any = 1,
    page_size: Any = 50,
) -> Page:
    qs: QuerySet[User] = (
        permissions.scoped_queryset(actor, "user")
        .select_related("department")
        .prefetch_related("roles")
    )
    if q:
        qs = qs.filter(
            Q(username__icontains=q) | Q(display_name__icontains=q) | Q(email__icontains=q)
        )
    if department:
        path = (
            Department.objects.filter(pk=department).values_list("path", flat=True).first() or "/-/"
        )
        qs = qs.filter(department__path__startswith=path)
    if active is not None:
        qs = qs.filter(is_active=active)
    return paginate(qs.order_by("department__path", "id"), page, page_size)


def user_get_for_user(*, actor: User, pk: Any) -> User:
    return permissions.get_for_user(
        actor, "user", pk, base=User.objects.select_related("department").prefetch_related("roles")
    )


def user_as_dict(*, actor: User, user: User, mask: set[str] | None = None) -> dict[str, Any]:
    data = {
        "id": user.pk,
        "username": user.username,
        "display_name": user.label,
        "email": user.email,
        "mobile": user.mobile,
        "department": {"id": user.department_id, "name": user.department.name}
        if user.department_id and user.department
        else None,
        "roles": [r.code for r in user.roles.all()],
        "is_active": user.is_active,
        "language": user.language,
        "time_zone": user.time_zone,
        "last_login": user.last_login,
        "created_at": user.date_joined,
    }
    return permissions.apply_mask(actor, "user", data, mask)


def department_tree() -> list[Department]:
    """All departments in tree order (path), with member counts, in one query."""
    from django.db.models import Count

    return list(Department.objects.annotate(member_count=Count("members")).order_by("path"))


def role_list() -> QuerySet[Role]:
    return Role.objects.prefetch_related("grants").order_by("id")


def token_list(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at")


def audit_list(
    *,
    actor: User,
    entity: str = "",
    object_id: str = "",
    action: str = "",
    actor_id: int | None = None,
    date_from: Any = None,
    date_to: Any = None,
    page: Any = 1,
    page_size: Any = 50,
) -> Page:
    """The audit trail; the whole trail is for administrators only."""
    from guanxi.identity.services import require_admin

    require_admin(actor)
    qs = AuditEvent.objects.select_related("actor")
    if entity:
        qs = qs.filter(entity=entity)
    if object_id:
        qs = qs.filter(object_id=str(object_id))
    if action:
        qs = qs.filter(action=action)
    if actor_id:
        qs = qs.filter(actor_id=actor_id)
    if date_from:
        qs = qs.filter(created_at__gte=date_from)
    if date_to:
        qs = qs.filter(created_at__lt=date_to)
    return paginate(qs.order_by("-created_at", "-id"), page, page_size)


def record_history(
    *, actor: User, entity: str, object_id: Any, limit: int = 200
) -> list[AuditEvent]:
    """The per-record history tab, masked for ``actor``, with ids and choice values shown
    as names (see core.audit_labels).

    Callers must have checked that the record is in ``actor``'s scope.
    """
    events = list(
        AuditEvent.objects.filter(entity=entity, object_id=str(object_id))
        .select_related("actor")
        .order_by("-created_at", "-id")[:limit]
    )
    from guanxi.core.audit_labels import label_changes

    try:
        mask = permissions.masked_fields(actor, entity)
    except KeyError:  # not a permission entity (departments, roles …): nothing to mask
        mask = None
    if mask is not None:
        for event in events:
            event.changes = permissions.mask_changes(actor, entity, event.changes, mask)
    # Ids and choice values as names (one query per kind of referenced record).
    labelled = label_changes(
        actor=actor, entity_key=entity, changes_list=[e.changes for e in events]
    )
    for event, changes in zip(events, labelled, strict=True):
        event.changes = changes
    return events
