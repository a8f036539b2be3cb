from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema


class DepartmentRef(Schema):
    id: int
    name: str


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    department: DepartmentRef | None
    roles: list[str]


class UserOut(MeOut):
    email: str
    mobile: str
    is_active: bool
    language: str
    time_zone: str
    last_login: dt.datetime | None
    created_at: dt.datetime


class UserIn(Schema):
    username: str
    password: str | None = None
    display_name: str = ""
    email: str = ""
    mobile: str = ""
    department_id: int | None = None
    roles: list[str] = []
    language: str | None = None
    time_zone: str | None = None


class UserPatch(Schema):
    display_name: str | None = None
    email: str | None = None
    mobile: str | None = None
    department_id: int | None = None
    roles: list[str] | None = None
    language: str | None = None
    time_zone: str | None = None
    is_active: bool | None = None


class DepartmentOut(Schema):
    id: int
    name: str
    parent_id: int | None
    path: str
    member_count: int = 0


class DepartmentIn(Schema):
    name: str
    parent_id: int | None = None


class GrantSchema(Schema):
    actions: list[str] = []
    scope: str = "own"
    masked_fields: list[str] = []
    can_reveal: bool = False


class RoleOut(Schema):
    id: int
    code: str
    name_zh: str
    name_en: str
    description: str
    builtin: bool
    is_admin: bool
    grants: dict[str, GrantSchema]


class RoleIn(Schema):
    code: str
    name_zh: str
    name_en: str = ""
    description: str = ""
    grants: dict[str, GrantSchema] = {}


class AuditEventOut(Schema):
    id: int
    created_at: dt.datetime
    actor: str
    action: str
    entity: str
    object_id: str
    object_repr: str
    changes: dict[str, Any]
    ip: str | None


class TokenOut(Schema):
    id: int
    name: str
    hint: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class TokenCreated(TokenOut):
    token: str


class TokenIn(Schema):
    name: str


class CustomFieldOut(Schema):
    id: int
    entity: str
    key: str
    label_zh: str
    label_en: str
    kind: str
    required: bool
    position: int
    options: list[dict[str, Any]]
    help_text: str
    active: bool


class CustomFieldIn(Schema):
    entity: str
    key: str
    label_zh: str
    label_en: str = ""
    kind: str = "text"
    required: bool = False
    position: int = 0
    options: list[dict[str, Any]] = []
    help_text: str = ""
    active: bool = True


class ErrorOut(Schema):
    detail: str


class ListOut(Schema):
    count: int
    count_exact: bool
    page: int
    page_size: int
