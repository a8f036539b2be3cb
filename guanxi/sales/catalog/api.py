"""/products and /price-lists: the catalogue."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router
from ninja.responses import Status

from guanxi.api.auth import actor
from guanxi.sales.catalog import selectors, services
from guanxi.sales.catalog.schemas import (
    PriceIn,
    PriceListIn,
    PriceListOut,
    PriceListPatch,
    ProductIn,
    ProductOut,
    ProductPage,
    ProductPatch,
)

router = Router(tags=["products"])


@router.get("/products", response=ProductPage, summary="Products in the caller's scope")
def product_list(
    request: HttpRequest,
    q: str = "",
    category: str = "",
    active: bool | None = None,
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    result = selectors.product_list(
        actor=actor(request), q=q, category=category, active=active, page=page, page_size=page_size
    )
    return result.as_api([selectors.product_as_dict(p) for p in result.items])


@router.post("/products", response={201: ProductOut})
def product_create(request: HttpRequest, payload: ProductIn) -> Status[dict[str, Any]]:
    product = services.product_create(actor=actor(request), data=payload.dict())
    return Status(201, selectors.product_as_dict(product))


@router.get("/products/{int:product_id}", response=ProductOut)
def product_detail(request: HttpRequest, product_id: int) -> dict[str, Any]:
    return selectors.product_as_dict(
        selectors.product_get_for_user(actor=actor(request), pk=product_id)
    )


@router.patch("/products/{int:product_id}", response=ProductOut)
def product_update(request: HttpRequest, product_id: int, payload: ProductPatch) -> dict[str, Any]:
    caller = actor(request)
    product = selectors.product_get_for_user(actor=caller, pk=product_id, action="edit")
    product = services.product_update(
        actor=caller, product=product, data=payload.dict(exclude_unset=True)
    )
    return selectors.product_as_dict(product)


@router.delete("/products/{int:product_id}", response={204: None})
def product_delete(request: HttpRequest, product_id: int) -> Status[None]:
    caller = actor(request)
    product = selectors.product_get_for_user(actor=caller, pk=product_id, action="delete")
    services.product_delete(actor=caller, product=product)
    return Status(204, None)


@router.get("/price-lists", response=list[PriceListOut])
def price_list_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        selectors.price_list_as_dict(p) for p in selectors.price_list_list(actor=actor(request))
    ]


@router.post("/price-lists", response={201: PriceListOut})
def price_list_create(request: HttpRequest, payload: PriceListIn) -> Status[dict[str, Any]]:
    caller = actor(request)
    price_list = services.price_list_save(actor=caller, price_list=None, data=payload.dict())
    return Status(201, selectors.price_list_as_dict(price_list, []))


def _full(caller: Any, pk: int) -> dict[str, Any]:
    price_list = selectors.price_list_get(actor=caller, pk=pk)
    return selectors.price_list_as_dict(
        price_list, selectors.price_list_items(actor=caller, price_list=price_list)
    )


@router.get("/price-lists/{int:price_list_id}", response=PriceListOut)
def price_list_detail(request: HttpRequest, price_list_id: int) -> dict[str, Any]:
    return _full(actor(request), price_list_id)


@router.patch("/price-lists/{int:price_list_id}", response=PriceListOut)
def price_list_update(
    request: HttpRequest, price_list_id: int, payload: PriceListPatch
) -> dict[str, Any]:
    caller = actor(request)
    price_list = selectors.price_list_get(actor=caller, pk=price_list_id)
    services.price_list_save(
        actor=caller, price_list=price_list, data=payload.dict(exclude_unset=True)
    )
    return _full(caller, price_list_id)


@router.put("/price-lists/{int:price_list_id}/items/{int:product_id}", response=PriceListOut)
def price_list_set_price(
    request: HttpRequest, price_list_id: int, product_id: int, payload: PriceIn
) -> dict[str, Any]:
    caller = actor(request)
    price_list = selectors.price_list_get(actor=caller, pk=price_list_id)
    product = selectors.product_get_for_user(actor=caller, pk=product_id)
    services.price_list_set_price(
        actor=caller, price_list=price_list, product=product, price=payload.price
    )
    return _full(caller, price_list_id)


@router.delete("/price-lists/{int:price_list_id}/items/{int:product_id}", response=PriceListOut)
def price_list_remove_price(
    request: HttpRequest, price_list_id: int, product_id: int
) -> dict[str, Any]:
    caller = actor(request)
    price_list = selectors.price_list_get(actor=caller, pk=price_list_id)
    product = selectors.product_get_for_user(actor=caller, pk=product_id)
    services.price_list_remove_price(actor=caller, price_list=price_list, product=product)
    return _full(caller, price_list_id)
