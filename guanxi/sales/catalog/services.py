"""Catalogue writes: products, price lists and their prices. Validated, audited, evented."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext as _

from guanxi.core import audit, events, money, permissions
from guanxi.core.errors import Conflict, FieldError, ValidationFailed
from guanxi.sales.catalog.models import PriceList, PriceListItem, Product

if TYPE_CHECKING:
    from guanxi.identity.models import User

PRODUCT_CREATED = events.define("product.created", "A product was added to the catalogue")
PRODUCT_UPDATED = events.define("product.updated", "A product was changed")
PRICE_LIST_CHANGED = events.define("price_list.changed", "A price list or its prices changed")

PRODUCT_FIELDS = (
    "sku",
    "name",
    "name_en",
    "category",
    "unit",
    "list_price",
    "currency",
    "tax_rate",
    "description",
    "active",
)
PRICE_LIST_FIELDS = ("name", "tier", "currency", "active")
MAX_AMOUNT = Decimal("9999999999999999.99")


def clean_amount(
    errors: list[FieldError], field: str, value: Any, currency: str, *, required: bool = True
) -> Decimal | None:
    """A non-negative Decimal within the currency's minor unit, or a FieldError."""
    if value in (None, ""):
        if required:
            errors.append(FieldError(field, _("Enter an amount.")))
        return None
    try:
        amount = money.to_decimal(value)
    except ValueError:
        errors.append(FieldError(field, _("Enter a number, e.g. 1299.00.")))
        return None
    if amount < 0:
        errors.append(FieldError(field, _("The amount cannot be negative.")))
    elif amount > MAX_AMOUNT:
        errors.append(FieldError(field, _("The amount is too large.")))
    elif money.has_more_digits(amount, currency):
        errors.append(
            FieldError(
                field,
                _("%(currency)s amounts have at most %(n)d decimals.")
                % {"currency": currency, "n": money.minor_unit(currency)},
            )
        )
    return amount


def clean_percent(errors: list[FieldError], field: str, value: Any) -> Decimal | None:
    try:
        rate = money.to_decimal(value)
    except ValueError:
        errors.append(FieldError(field, _("Enter a percentage, e.g. 13.")))
        return None
    if not Decimal(0) <= rate <= Decimal(100):
        errors.append(FieldError(field, _("Enter a percentage between 0 and 100.")))
    elif rate != rate.quantize(Decimal("0.01")):
        errors.append(FieldError(field, _("At most two decimals.")))
    return rate


def clean_currency(errors: list[FieldError], value: Any) -> str:
    code = str(value or money.DEFAULT_CURRENCY).strip().upper()
    if code not in money.MINOR_UNITS:
        errors.append(
            FieldError(
                "currency",
                _("Unsupported currency; use one of %(codes)s.")
                % {"codes": ", ".join(money.MINOR_UNITS)},
            )
        )
    return code


def _text(
    errors: list[FieldError],
    data: dict[str, Any],
    field: str,
    limit: int,
    *,
    required: bool = False,
) -> str:
    value = str(data.get(field) or "").strip()
    if required and not value:
        errors.append(FieldError(field, _("This field is required.")))
    if len(value) > limit:
        errors.append(
            FieldError(
                field,
                _("At most %(n)d characters (%(len)d given).") % {"n": limit, "len": len(value)},
            )
        )
    return value


def _product_values(data: dict[str, Any], product: Product | None) -> dict[str, Any]:
    current = {f: getattr(product, f) for f in PRODUCT_FIELDS} if product else {}
    merged = {**current, **{k: v for k, v in data.items() if k in PRODUCT_FIELDS}}
    errors: list[FieldError] = []
    unknown = sorted(set(data) - set(PRODUCT_FIELDS))
    for name in unknown:
        errors.append(FieldError(name, _("Unknown field.")))
    out: dict[str, Any] = {
        "sku": _text(errors, merged, "sku", 64, required=True),
        "name": _text(errors, merged, "name", 200, required=True),
        "name_en": _text(errors, merged, "name_en", 200),
        "category": _text(errors, merged, "category", 100),
        "unit": _text(errors, merged, "unit", 20) or "件",
        "description": str(merged.get("description") or ""),
        "active": bool(merged.get("active", True)),
    }
    out["currency"] = clean_currency(errors, merged.get("currency"))
    out["list_price"] = clean_amount(
        errors, "list_price", merged.get("list_price"), out["currency"]
    )
    out["tax_rate"] = clean_percent(errors, "tax_rate", merged.get("tax_rate", "13"))
    if (
        out["sku"]
        and Product.objects.filter(sku__iexact=out["sku"])
        .exclude(pk=product.pk if product else -1)
        .exists()
    ):
        errors.append(FieldError("sku", _("Another product already has this SKU.")))
    if errors:
        raise ValidationFailed(errors)
    return out


def product_create(*, actor: User, data: dict[str, Any]) -> Product:
    """Add a product (needs ``product.create``); SKUs are unique regardless of case."""
    permissions.require(actor, "product", "create")
    values = _product_values(data, None)
    with transaction.atomic():
        product = Product.objects.create(**values, created_by=actor)
        audit.record(
            actor=actor,
            action="create",
            entity="product",
            obj=product,
            changes=audit.diff({}, audit.snapshot(product, PRODUCT_FIELDS)),
        )
        events.emit(PRODUCT_CREATED, {"id": product.pk, "sku": product.sku}, actor_id=actor.pk)
    return product


def product_update(*, actor: User, product: Product, data: dict[str, Any]) -> Product:
    """Change a product the caller may edit (the caller loaded it through the scope)."""
    permissions.require(actor, "product", "edit")
    values = _product_values(data, product)
    with transaction.atomic():
        before = audit.snapshot(product, PRODUCT_FIELDS)
        for key, value in values.items():
            setattr(product, key, value)
        product.save()
        changes = audit.diff(before, audit.snapshot(product, PRODUCT_FIELDS))
        if changes:
            audit.record(
                actor=actor, action="update", entity="product", obj=product, changes=changes
            )
            events.emit(
                PRODUCT_UPDATED, {"id": product.pk, "changes": list(changes)}, actor_id=actor.pk
            )
    return product


def product_delete(*, actor: User, product: Product) -> None:
    """Delete a product nobody quoted yet; a used product can only be deactivated."""
    permissions.require(actor, "product", "delete")
    from guanxi.sales.quotes.models import DealLine, QuoteLine

    if (
        QuoteLine.objects.filter(product=product).exists()
        or DealLine.objects.filter(product=product).exists()
    ):
        raise Conflict(_("This product is used on quotes or deals; deactivate it instead."))
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="delete",
            entity="product",
            obj=product,
            changes=audit.diff(audit.snapshot(product, PRODUCT_FIELDS), {}),
        )
        product.delete()


def _price_list_values(data: dict[str, Any], price_list: PriceList | None) -> dict[str, Any]:
    current = {f: getattr(price_list, f) for f in PRICE_LIST_FIELDS} if price_list else {}
    merged = {**current, **{k: v for k, v in data.items() if k in PRICE_LIST_FIELDS}}
    errors: list[FieldError] = [
        FieldError(name, _("Unknown field.")) for name in sorted(set(data) - set(PRICE_LIST_FIELDS))
    ]
    tier = str(merged.get("tier") or "").strip().upper()
    if tier and tier not in PriceList.Tier.values:
        errors.append(FieldError("tier", _("Choose tier A, B or C, or none.")))
    out = {
        "name": _text(errors, merged, "name", 100, required=True),
        "tier": tier,
        "currency": clean_currency(errors, merged.get("currency")),
        "active": bool(merged.get("active", True)),
    }
    if out["tier"] and out["active"]:
        clash = PriceList.objects.filter(
            tier=out["tier"], currency=out["currency"], active=True
        ).exclude(pk=price_list.pk if price_list else -1)
        if clash.exists():
            errors.append(
                FieldError("tier", _("Another active price list already serves this tier."))
            )
    if errors:
        raise ValidationFailed(errors)
    return out


def price_list_save(
    *, actor: User, price_list: PriceList | None, data: dict[str, Any]
) -> PriceList:
    """Create (``price_list`` None) or change a price list; needs ``product.edit``."""
    permissions.require(actor, "product", "edit" if price_list else "create")
    values = _price_list_values(data, price_list)
    with transaction.atomic():
        before = audit.snapshot(price_list, PRICE_LIST_FIELDS) if price_list else {}
        if price_list is None:
            price_list = PriceList.objects.create(**values, created_by=actor)
            action = "create"
        else:
            for key, value in values.items():
                setattr(price_list, key, value)
            price_list.save()
            action = "update"
        changes = audit.diff(before, audit.snapshot(price_list, PRICE_LIST_FIELDS))
        if changes:
            audit.record(
                actor=actor, action=action, entity="price_list", obj=price_list, changes=changes
            )
            events.emit(PRICE_LIST_CHANGED, {"id": price_list.pk}, actor_id=actor.pk)
    return price_list


def price_list_set_price(
    *, actor: User, price_list: PriceList, product: Product, price: Any
) -> PriceListItem:
    """Set the price of ``product`` on ``price_list`` (in the list's currency)."""
    permissions.require(actor, "product", "edit")
    errors: list[FieldError] = []
    amount = clean_amount(errors, "price", price, price_list.currency)
    if errors:
        raise ValidationFailed(errors)
    assert amount is not None
    with transaction.atomic():
        item = PriceListItem.objects.filter(price_list=price_list, product=product).first()
        old = item.price if item else None
        if item is None:
            item = PriceListItem.objects.create(
                price_list=price_list, product=product, price=amount
            )
        else:
            item.price = amount
            item.save(update_fields=["price"])
        if old != amount:
            audit.record(
                actor=actor,
                action="update",
                entity="price_list",
                obj=price_list,
                changes={f"price.{product.sku}": [old, amount]},
            )
            events.emit(PRICE_LIST_CHANGED, {"id": price_list.pk}, actor_id=actor.pk)
    return item


def price_list_remove_price(*, actor: User, price_list: PriceList, product: Product) -> None:
    permissions.require(actor, "product", "edit")
    with transaction.atomic():
        item = PriceListItem.objects.filter(price_list=price_list, product=product).first()
        if item is None:
            return
        audit.record(
            actor=actor,
            action="update",
            entity="price_list",
            obj=price_list,
            changes={f"price.{product.sku}": [item.price, None]},
        )
        item.delete()
        events.emit(PRICE_LIST_CHANGED, {"id": price_list.pk}, actor_id=actor.pk)
