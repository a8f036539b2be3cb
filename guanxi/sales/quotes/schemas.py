"""Ninja schemas of /quotes (amounts as decimal strings, DESIGN §3)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Field, Schema


class UserRef(Schema):
    id: int
    username: str


class AccountRef(Schema):
    id: int
    name: str


class LineIn(Schema):
    product_id: int | None = None
    description: str | None = None
    quantity: Decimal | None = None
    unit: str | None = None
    unit_price: Decimal | None = Field(
        None, description="Defaults to the account tier's price list, else the list price"
    )
    discount: Decimal | None = Field(None, description="Percent, 0–100")
    tax_rate: Decimal | None = Field(None, description="Percent; defaults to the product's")


class LineOut(Schema):
    id: int
    position: int
    product_id: int | None
    sku: str
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    discount: Decimal
    tax_rate: Decimal
    gross: Decimal | None = None
    discount_amount: Decimal | None = None
    net: Decimal | None = None
    tax: Decimal | None = None
    total: Decimal | None = None


class TaxGroupOut(Schema):
    rate: Decimal
    net: Decimal
    tax: Decimal


class QuoteIn(Schema):
    account_id: int
    deal_id: int | None = None
    contact_id: int | None = None
    title: str = ""
    currency: str = "CNY"
    valid_until: dt.date | None = None
    terms: str = ""
    owner_id: int | None = None
    lines: list[LineIn] = []
    copy_deal_lines: bool = Field(False, description="Start from the deal's product lines")


class QuotePatch(Schema):
    deal_id: int | None = None
    contact_id: int | None = None
    title: str | None = None
    currency: str | None = None
    valid_until: dt.date | None = None
    terms: str | None = None


class QuoteOut(Schema):
    id: int
    number: str
    version: int
    original_id: int | None
    is_current: bool
    title: str
    account: AccountRef
    deal_id: int | None
    contact_id: int | None
    owner: UserRef | None
    currency: str
    valid_until: dt.date | None
    terms: str
    status: str
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal
    max_discount: Decimal
    approved_at: dt.datetime | None
    sent_at: dt.datetime | None
    accepted_at: dt.datetime | None
    custom: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime
    lines: list[LineOut] = []
    tax_breakdown: list[TaxGroupOut] = []


class QuotePage(Schema):
    items: list[QuoteOut]
    count: int
    count_exact: bool
    page: int
    page_size: int


class SubmitIn(Schema):
    reason: str = ""


class DecisionIn(Schema):
    comment: str = ""
