"""Catalogue reads, through the permission layer (entity ``product``)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q, QuerySet

from guanxi.core import permissions
from guanxi.core.pagination import Page, paginate
from guanxi.sales.catalog.models import PriceList, PriceListItem, Product

if TYPE_CHECKING:
    from guanxi.customers.models import Account
    from guanxi.identity.models import User


def product_list(
    *,
    actor: User,
    q: str = "",
    category: str = "",
    active: bool | None = None,
    page: Any = 1,
    page_size: Any = 50,
) -> Page:
    qs: QuerySet[Product] = permissions.scoped_queryset(actor, "product")
    q = (q or "").strip()
    if q:
        qs = qs.filter(Q(sku__icontains=q) | Q(name__icontains=q) | Q(name_en__icontains=q))
    if category:
        qs = qs.filter(category=category)
    if active is not None:
        qs = qs.filter(active=active)
    return paginate(qs.order_by("sku", "id"), page, page_size)


def product_get_for_user(*, actor: User, pk: Any, action: str = "view") -> Product:
    product: Product = permissions.get_for_user(actor, "product", pk, action)
    return product


def product_choices(*, actor: User) -> list[Product]:
    """Active products for pickers (quote and deal lines)."""
    if not permissions.can(actor, "product", "view"):
        return []
    return list(permissions.scoped_queryset(actor, "product").filter(active=True).order_by("sku"))


def product_categories(*, actor: User) -> list[str]:
    qs = permissions.scoped_queryset(actor, "product").exclude(category="")
    return list(qs.order_by("category").values_list("category", flat=True).distinct())


def product_as_dict(product: Product) -> dict[str, Any]:
    return {
        "id": product.pk,
        "sku": product.sku,
        "name": product.name,
        "name_en": product.name_en,
        "category": product.category,
        "unit": product.unit,
        "list_price": product.list_price,
        "currency": product.currency,
        "tax_rate": product.tax_rate,
        "description": product.description,
        "active": product.active,
        "created_at": product.created_at,
        "updated_at": product.updated_at,
    }


def price_list_list(*, actor: User) -> QuerySet[PriceList]:
    permissions.require(actor, "product", "view")
    return PriceList.objects.annotate(item_count=Count("items")).order_by("tier", "name")


def price_list_get(*, actor: User, pk: Any) -> PriceList:
    permissions.require(actor, "product", "view")
    from guanxi.core.errors import OutOfScope

    try:
        return PriceList.objects.get(pk=pk)
    except (PriceList.DoesNotExist, ValueError, TypeError) as exc:
        raise OutOfScope() from exc


def price_list_items(*, actor: User, price_list: PriceList) -> list[PriceListItem]:
    """Prices of the products ``actor`` may see."""
    visible = permissions.scoped_queryset(actor, "product").values("id")
    return list(
        price_list.items.filter(product_id__in=visible)
        .select_related("product")
        .order_by("product__sku")
    )


def price_list_as_dict(
    price_list: PriceList, items: list[PriceListItem] | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": price_list.pk,
        "name": price_list.name,
        "tier": price_list.tier,
        "currency": price_list.currency,
        "active": price_list.active,
        "created_at": price_list.created_at,
        "updated_at": price_list.updated_at,
    }
    if items is not None:
        out["items"] = [
            {
                "product_id": i.product_id,
                "sku": i.product.sku,
                "name": i.product.name,
                "price": i.price,
            }
            for i in items
        ]
    return out


def unit_price_for(*, product: Product, account: Account | None, currency: str) -> Decimal | None:
    """The default unit price of ``product`` for ``account`` in ``currency``.

    The active price list of the account's tier wins; otherwise the list price. A price in
    another currency than the quote's is not converted: None when no price in ``currency``
    exists, and the user enters one.
    """
    tier = getattr(account, "tier", "") or ""
    if tier:
        price = (
            PriceListItem.objects.filter(
                product=product,
                price_list__tier=tier,
                price_list__active=True,
                price_list__currency=currency,
            )
            .values_list("price", flat=True)
            .first()
        )
        if price is not None:
            return price
    if product.currency == currency:
        return product.list_price
    return None
