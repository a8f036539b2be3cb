"""Ninja schemas of /products and /price-lists (amounts as decimal strings)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Schema


class ProductIn(Schema):
    sku: str
    name: str
    name_en: str = ""
    category: str = ""
    unit: str = "件"
    list_price: Decimal
    currency: str = "CNY"
    tax_rate: Decimal = Decimal(13)
    description: str = ""
    active: bool = True


class ProductPatch(Schema):
    sku: str | None = None
    name: str | None = None
    name_en: str | None = None
    category: str | None = None
    unit: str | None = None
    list_price: Decimal | None = None
    currency: str | None = None
    tax_rate: Decimal | None = None
    description: str | None = None
    active: bool | None = None


class ProductOut(Schema):
    id: int
    sku: str
    name: str
    name_en: str
    category: str
    unit: str
    list_price: Decimal
    currency: str
    tax_rate: Decimal
    description: str
    active: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class ProductPage(Schema):
    items: list[ProductOut]
    count: int
    count_exact: bool
    page: int
    page_size: int


class PriceListIn(Schema):
    name: str
    tier: str = ""
    currency: str = "CNY"
    active: bool = True


class PriceListPatch(Schema):
    name: str | None = None
    tier: str | None = None
    currency: str | None = None
    active: bool | None = None


class PriceListItemOut(Schema):
    product_id: int
    sku: str
    name: str
    price: Decimal


class PriceListOut(Schema):
    id: int
    name: str
    tier: str
    currency: str
    active: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    items: list[PriceListItemOut] = []


class PriceIn(Schema):
    price: Decimal
