"""Ninja schemas of the account and contact API (DESIGN §3 field names)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema


class OwnerOut(Schema):
    id: int
    username: str


class RefOut(Schema):
    id: int
    name: str


class AccountIn(Schema):
    name: str
    industry: str = ""
    size: str = ""
    province: str = ""
    city: str = ""
    address: str = ""
    website: str = ""
    tier: str = ""
    lifecycle_stage: str = "prospect"
    parent_id: int | None = None
    credit_code: str = Field("", description="统一社会信用代码 (18 characters, check digit)")
    special_requirements: str = ""
    tags: list[str] = []
    owner_id: int | None = None
    collaborator_ids: list[int] = []
    custom: dict[str, Any] = {}


class AccountPatch(Schema):
    name: str | None = None
    industry: str | None = None
    size: str | None = None
    province: str | None = None
    city: str | None = None
    address: str | None = None
    website: str | None = None
    tier: str | None = None
    lifecycle_stage: str | None = None
    parent_id: int | None = None
    credit_code: str | None = None
    special_requirements: str | None = None
    tags: list[str] | None = None
    owner_id: int | None = None
    collaborator_ids: list[int] | None = None
    custom: dict[str, Any] | None = None


class AccountOut(Schema):
    id: int
    created_at: str
    updated_at: str
    owner: OwnerOut | None
    custom: dict[str, Any]
    name: str
    name_pinyin: str
    name_initials: str
    industry: str
    size: str
    province: str
    city: str
    address: str
    website: str
    tier: str
    lifecycle_stage: str
    parent: RefOut | None
    credit_code: str
    special_requirements: str
    tags: list[str]
    last_contacted_at: str | None = None
    pool_locked: bool = False
    pool_department_id: int | None = Field(
        None, description="In the public pool: the department whose pool (null: company pool)"
    )


class AccountPage(Schema):
    items: list[AccountOut]
    count: int
    count_exact: bool
    page: int
    page_size: int


class AccountFilter(Schema):
    q: str = ""
    owner: str = ""
    tier: str = ""
    lifecycle_stage: str = ""
    industry: str = ""
    province: str = ""
    city: str = ""
    tag: str = ""
    created_from: str = ""
    created_to: str = ""
    sort: str = "-created_at"
    page: int = 1
    page_size: int = 50


class ContactIn(Schema):
    name: str
    account_id: int | None = None
    title: str = ""
    mobile: str | None = None
    phone: str | None = None
    email: str | None = None
    wechat: str = ""
    birthday: dt.date | None = None
    is_primary: bool = False
    preferred_channel: str = ""
    consent_marketing: bool = False
    consent_source: str = ""
    consent_at: dt.datetime | None = None
    tags: list[str] = []
    notes: str = ""
    last_contacted_at: dt.datetime | None = None
    owner_id: int | None = None
    custom: dict[str, Any] = {}


class ContactPatch(Schema):
    name: str | None = None
    account_id: int | None = None
    title: str | None = None
    mobile: str | None = None
    phone: str | None = None
    email: str | None = None
    wechat: str | None = None
    birthday: dt.date | None = None
    is_primary: bool | None = None
    preferred_channel: str | None = None
    consent_marketing: bool | None = None
    consent_source: str | None = None
    consent_at: dt.datetime | None = None
    tags: list[str] | None = None
    notes: str | None = None
    last_contacted_at: dt.datetime | None = None
    owner_id: int | None = None
    custom: dict[str, Any] | None = None


class ContactOut(Schema):
    id: int
    created_at: str
    updated_at: str
    owner: OwnerOut | None
    custom: dict[str, Any]
    name: str
    name_pinyin: str
    name_initials: str
    account: RefOut | None
    title: str
    mobile: str
    mobile_e164: str
    phone: str
    phone_e164: str
    phone_ext: str
    email: str
    wechat: str
    birthday: str | None
    is_primary: bool
    preferred_channel: str
    consent_marketing: bool
    consent_source: str
    consent_at: str | None
    tags: list[str]
    notes: str
    last_contacted_at: str | None


class ContactPage(Schema):
    items: list[ContactOut]
    count: int
    count_exact: bool
    page: int
    page_size: int


class ContactFilter(Schema):
    q: str = ""
    owner: str = ""
    account: int | None = None
    tag: str = ""
    created_from: str = ""
    created_to: str = ""
    sort: str = "-created_at"
    page: int = 1
    page_size: int = 50


class TransferIn(Schema):
    ids: list[int]
    to_user_id: int | None = Field(..., description="null releases the records to the pool")


class TransferOut(Schema):
    transferred: int
