"""Products and price lists: validation, scope, API, pages."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from guanxi.core.errors import Conflict, NotPermitted, OutOfScope, ValidationFailed
from guanxi.core.models import AuditEvent
from guanxi.sales.catalog import selectors, services
from guanxi.sales.catalog.models import PriceListItem, Product
from guanxi.sales.quotes import services as quote_services
from guanxi.tests_support import crm_factories, factories
from guanxi.tests_support import org as org_support

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def _data(**extra: Any) -> dict[str, Any]:
    return {"sku": "GX-STD", "name": "标准版", "list_price": "1999.00", **extra}


def test_create_validates_and_audits() -> None:
    admin = factories.admin()
    product = services.product_create(actor=admin, data=_data(name_en="Standard"))
    assert (product.unit, product.tax_rate, product.currency) == ("件", Decimal("13.00"), "CNY")
    assert AuditEvent.objects.filter(entity="product", action="create").count() == 1
    with pytest.raises(ValidationFailed) as info:
        services.product_create(
            actor=admin,
            data=_data(sku="gx-std", list_price="12.345", tax_rate="120", currency="ABC"),
        )
    fields = {e.field for e in info.value.errors}
    assert fields == {"sku", "currency", "tax_rate", "list_price"}
    with pytest.raises(ValidationFailed) as info:
        services.product_create(
            actor=admin, data=_data(sku="JP-1", currency="JPY", list_price="10.5")
        )
    assert info.value.errors[0].field == "list_price"
    assert "JPY amounts have at most 0 decimals" in info.value.errors[0].message


def test_salespeople_view_but_do_not_edit() -> None:
    admin = factories.admin()
    product = services.product_create(actor=admin, data=_data())
    sales = factories.user("sales")
    assert [p.pk for p in selectors.product_list(actor=sales).items] == [product.pk]
    with pytest.raises(NotPermitted):
        services.product_update(actor=sales, product=product, data={"name": "x"})
    manager = factories.user("manager")
    services.product_update(actor=manager, product=product, data={"list_price": "1899.00"})
    assert Product.objects.get(pk=product.pk).list_price == Decimal("1899.00")


def test_scope_own_products_only(client: Client, api_client: Any) -> None:
    """A role limited to its own products sees neither list entry nor detail of others."""
    org = org_support.build()
    role = org_support.role(
        org.admin, {"product": {"actions": ["view", "create", "edit"], "scope": "own"}}
    )
    actor = org.give(org.actor, role)
    peer = org.give(
        org.peer,
        org_support.role(org.admin, {"product": {"actions": ["view", "create"], "scope": "own"}}),
    )
    mine = services.product_create(actor=actor, data=_data(sku="MINE"))
    theirs = services.product_create(actor=peer, data=_data(sku="THEIRS"))
    assert [p.sku for p in selectors.product_list(actor=actor).items] == ["MINE"]
    with pytest.raises(OutOfScope):
        selectors.product_get_for_user(actor=actor, pk=theirs.pk)
    api = api_client.login(actor)
    assert [i["sku"] for i in api.get("products").json()["items"]] == ["MINE"]
    assert api.get(f"products/{theirs.pk}").status_code == 404
    assert api.patch(f"products/{theirs.pk}", {"name": "x"}).status_code == 404
    assert api.get(f"products/{mine.pk}").status_code == 200
    client.force_login(actor)
    page = client.get(reverse("catalog:product_list")).content.decode()
    assert "MINE" in page and "THEIRS" not in page
    assert client.get(reverse("catalog:product_edit", args=[theirs.pk])).status_code == 404
    # Without any product grant: 403 on the API list, the page is refused too.
    nobody = factories.user("service")
    nobody.roles.clear()
    assert api_client.login(nobody).get("products").status_code == 403


def test_api_crud_and_price_lists(api_client: Any) -> None:
    manager = factories.user("manager")
    api = api_client.login(manager)
    resp = api.post("products", _data(list_price="abc"))
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "list_price"
    resp = api.post("products", _data())
    assert resp.status_code == 201 and resp.json()["list_price"] == "1999.00"
    pid = resp.json()["id"]
    assert api.post("products", _data()).status_code == 422  # duplicate SKU
    assert api.patch(f"products/{pid}", {"active": False}).json()["active"] is False
    assert api.get("products", active="true").json()["count"] == 0
    resp = api.post("price-lists", {"name": "B 类价", "tier": "B"})
    assert resp.status_code == 201
    plid = resp.json()["id"]
    resp = api.put(f"price-lists/{plid}/items/{pid}", {"price": "1700.00"})
    assert resp.json()["items"] == [
        {"product_id": pid, "sku": "GX-STD", "name": "标准版", "price": "1700.00"}
    ]
    assert api.put(f"price-lists/{plid}/items/{pid}", {"price": "-1"}).status_code == 422
    assert api.delete(f"price-lists/{plid}/items/{pid}").json()["items"] == []
    assert api.delete(f"products/{pid}").status_code == 204


def test_used_products_are_deactivated_not_deleted() -> None:
    admin = factories.admin()
    product = services.product_create(actor=admin, data=_data())
    quote_services.quote_create(
        actor=admin,
        data={"account_id": crm_factories.account(admin).pk, "lines": [{"product_id": product.pk}]},
    )
    with pytest.raises(Conflict, match="deactivate"):
        services.product_delete(actor=admin, product=product)


def test_pages(client: Client) -> None:
    manager = factories.user("manager", language="en")
    client.force_login(manager)
    resp = client.post(
        reverse("catalog:product_create"),
        {
            "sku": "P-1",
            "name": "专业版",
            "unit": "套",
            "list_price": "2999",
            "currency": "CNY",
            "tax_rate": "13",
            "active": "on",
        },
    )
    assert resp.status_code == 302
    product = Product.objects.get(sku="P-1")
    resp = client.post(
        reverse("catalog:product_create"),
        {
            "sku": "p-1",
            "name": "重复",
            "unit": "套",
            "list_price": "1",
            "currency": "CNY",
            "tax_rate": "13",
        },
    )
    assert (
        resp.status_code == 400 and "Another product already has this SKU." in resp.content.decode()
    )
    page = client.get(reverse("catalog:product_list"), {"q": "专业"}).content.decode()
    assert "P-1" in page and "¥2,999.00" in page
    resp = client.post(
        reverse("catalog:price_lists"),
        {"name": "A 价", "tier": "A", "currency": "CNY", "active": "on"},
    )
    assert resp.status_code == 302
    detail = resp["Location"]
    resp = client.post(detail, {"form": "price", "product": product.pk, "price": "2500"})
    assert resp.status_code == 302
    assert PriceListItem.objects.get(product=product).price == Decimal("2500.00")
    assert "¥2,500.00" in client.get(detail).content.decode()
    client.force_login(factories.user("sales"))
    assert client.post(reverse("catalog:product_create"), {}).status_code == 403
