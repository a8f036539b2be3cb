"""Organisation endpoints: /me, users, departments, roles, audit trail, tokens, custom fields."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router
from ninja.responses import Status

from guanxi.api.auth import actor
from guanxi.core import permissions
from guanxi.core.errors import FieldError, OutOfScope, ValidationFailed
from guanxi.core.models import CustomField
from guanxi.core.pagination import clean_page_args
from guanxi.core.services import customfield_delete, customfield_save
from guanxi.identity import selectors, services
from guanxi.identity.models import ApiToken, Department, Role
from guanxi.identity.schemas import (
    AuditEventOut,
    CustomFieldIn,
    CustomFieldOut,
    DepartmentIn,
    DepartmentOut,
    MeOut,
    RoleIn,
    RoleOut,
    TokenCreated,
    TokenIn,
    TokenOut,
    UserIn,
    UserOut,
    UserPatch,
)

router = Router(tags=["organisation"])


@router.get("/me", response=MeOut, summary="The caller")
def me(request: HttpRequest) -> dict[str, Any]:
    user = actor(request)
    return selectors.user_as_dict(actor=user, user=user, mask=set())


def _paged(page_obj: Any, items: list[Any]) -> dict[str, Any]:
    return page_obj.as_api(items)


@router.get("/users", summary="Users in the caller's scope")
def users(
    request: HttpRequest,
    q: str = "",
    department: int | None = None,
    active: bool | None = None,
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    user = actor(request)
    clean_page_args(page, page_size)
    result = selectors.user_list(
        actor=user, q=q, department=department, active=active, page=page, page_size=page_size
    )
    mask = permissions.masked_fields(user, "user")
    return _paged(
        result, [selectors.user_as_dict(actor=user, user=u, mask=mask) for u in result.items]
    )


@router.get("/users/{user_id}", response=UserOut)
def user_detail(request: HttpRequest, user_id: int) -> dict[str, Any]:
    caller = actor(request)
    return selectors.user_as_dict(
        actor=caller, user=selectors.user_get_for_user(actor=caller, pk=user_id)
    )


def _roles(codes: list[str]) -> list[Role]:
    roles = list(Role.objects.filter(code__in=codes))
    missing = sorted(set(codes) - {r.code for r in roles})
    if missing:
        raise ValidationFailed([FieldError("roles", f"Unknown role: {', '.join(missing)}")])
    return roles


def _department(dept_id: int | None, field: str = "department_id") -> Department | None:
    if dept_id is None:
        return None
    dept = Department.objects.filter(pk=dept_id).first()
    if dept is None:
        raise ValidationFailed([FieldError(field, "No such department.")])
    return dept


@router.post("/users", response={201: UserOut})
def user_create(request: HttpRequest, payload: UserIn) -> Status[dict[str, Any]]:
    caller = actor(request)
    services.require_admin(caller)
    user = services.user_create(
        actor=caller,
        username=payload.username,
        password=payload.password,
        display_name=payload.display_name,
        email=payload.email,
        mobile=payload.mobile,
        department=_department(payload.department_id),
        roles=_roles(payload.roles),
        language=payload.language,
        time_zone=payload.time_zone,
    )
    return Status(201, selectors.user_as_dict(actor=caller, user=user))


@router.patch("/users/{user_id}", response=UserOut)
def user_update(request: HttpRequest, user_id: int, payload: UserPatch) -> dict[str, Any]:
    caller = actor(request)
    user = selectors.user_get_for_user(actor=caller, pk=user_id)
    data = payload.dict(exclude_unset=True)
    is_active = data.pop("is_active", None)
    if "department_id" in data:
        if data["department_id"] is None:  # every user belongs to exactly one department
            raise ValidationFailed([FieldError("department_id", "Choose a department.")])
        data["department"] = _department(data.pop("department_id"))
    if "roles" in data:
        data["roles"] = _roles(data["roles"] or [])
    if data:
        services.user_update(actor=caller, user=user, data=data)
    if is_active is not None:
        services.user_set_active(actor=caller, user=user, active=is_active)
    return selectors.user_as_dict(
        actor=caller, user=selectors.user_get_for_user(actor=caller, pk=user_id)
    )


@router.get("/departments", response=list[DepartmentOut])
def departments(request: HttpRequest) -> list[Department]:
    actor(request)
    return selectors.department_tree()


@router.post("/departments", response={201: DepartmentOut})
def department_create(request: HttpRequest, payload: DepartmentIn) -> Status[Department]:
    caller = actor(request)
    parent = _department(payload.parent_id, "parent_id") or services.department_root()
    return Status(201, services.department_create(actor=caller, name=payload.name, parent=parent))


@router.delete("/departments/{dept_id}", response={204: None})
def department_delete(request: HttpRequest, dept_id: int) -> Status[None]:
    caller = actor(request)
    dept = Department.objects.filter(pk=dept_id).first()
    if dept is None:
        raise OutOfScope()
    services.department_delete(actor=caller, dept=dept)
    return Status(204, None)


def _role_out(role: Role) -> dict[str, Any]:
    return {
        "id": role.pk,
        "code": role.code,
        "name_zh": role.name_zh,
        "name_en": role.name_en,
        "description": role.description,
        "builtin": role.builtin,
        "is_admin": role.is_admin,
        "grants": {
            g.entity: {
                "actions": g.actions,
                "scope": g.scope,
                "masked_fields": g.masked_fields,
                "can_reveal": g.can_reveal,
            }
            for g in role.grants.all()
        },
    }


@router.get("/roles", response=list[RoleOut])
def roles(request: HttpRequest) -> list[dict[str, Any]]:
    actor(request)
    return [_role_out(r) for r in selectors.role_list()]


@router.post("/roles", response={201: RoleOut})
def role_create(request: HttpRequest, payload: RoleIn) -> Status[dict[str, Any]]:
    caller = actor(request)
    role = services.role_save(
        actor=caller,
        role=None,
        code=payload.code,
        name_zh=payload.name_zh,
        name_en=payload.name_en,
        description=payload.description,
        grants={k: v.dict() for k, v in payload.grants.items()},
    )
    return Status(201, _role_out(Role.objects.prefetch_related("grants").get(pk=role.pk)))


@router.get("/audit-events", summary="The audit trail (administrators)")
def audit_events(
    request: HttpRequest,
    entity: str = "",
    object_id: str = "",
    action: str = "",
    actor_id: int | None = None,
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    caller = actor(request)
    result = selectors.audit_list(
        actor=caller,
        entity=entity,
        object_id=object_id,
        action=action,
        actor_id=actor_id,
        page=page,
        page_size=page_size,
    )
    items = [
        AuditEventOut(
            id=e.pk,
            created_at=e.created_at,
            actor=e.actor_label,
            action=e.action,
            entity=e.entity,
            object_id=e.object_id,
            object_repr=e.object_repr,
            changes=e.changes,
            ip=e.ip,
        ).dict()
        for e in result.items
    ]
    return result.as_api(items)


@router.get("/tokens", response=list[TokenOut], tags=["tokens"])
def tokens(request: HttpRequest) -> list[ApiToken]:
    return list(selectors.token_list(user=actor(request)))


@router.post("/tokens", response={201: TokenCreated}, tags=["tokens"])
def token_create(request: HttpRequest, payload: TokenIn) -> Status[dict[str, Any]]:
    caller = actor(request)
    token, raw = services.token_create(actor=caller, user=caller, name=payload.name)
    return Status(201, {**TokenOut.from_orm(token).dict(), "token": raw})


@router.delete("/tokens/{token_id}", response={204: None}, tags=["tokens"])
def token_revoke(request: HttpRequest, token_id: int) -> Status[None]:
    caller = actor(request)
    token = ApiToken.objects.filter(pk=token_id, user=caller).first()
    if token is None:
        raise OutOfScope()
    services.token_revoke(actor=caller, token=token)
    return Status(204, None)


@router.get("/custom-fields", response=list[CustomFieldOut], tags=["custom fields"])
def custom_field_list(
    request: HttpRequest, entity: str = Query("", description="lead, account, contact …")
) -> list[CustomField]:
    actor(request)
    qs = CustomField.objects.all()
    if entity:
        qs = qs.filter(entity=entity)
    return list(qs)


@router.post("/custom-fields", response={201: CustomFieldOut}, tags=["custom fields"])
def custom_field_create(request: HttpRequest, payload: CustomFieldIn) -> Status[CustomField]:
    return Status(201, customfield_save(actor=actor(request), field=None, data=payload.dict()))


@router.delete("/custom-fields/{field_id}", response={204: None}, tags=["custom fields"])
def custom_field_delete(request: HttpRequest, field_id: int) -> Status[None]:
    field = CustomField.objects.filter(pk=field_id).first()
    if field is None:
        raise OutOfScope()
    customfield_delete(actor=actor(request), field=field)
    return Status(204, None)
