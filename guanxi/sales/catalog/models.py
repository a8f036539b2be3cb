"""The product catalogue: products with a list price, and price lists per customer tier."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import TimeStampedModel


class Product(TimeStampedModel):
    """Something we sell: a unique SKU, a list price in one currency and a VAT rate."""

    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    category = models.CharField(_("category"), max_length=100, blank=True, db_index=True)
    unit = models.CharField(_("unit"), max_length=20, default="件")
    list_price = models.DecimalField(_("list price"), max_digits=18, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    tax_rate = models.DecimalField(
        _("tax rate (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("13.00"),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    description = models.TextField(_("description"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["sku"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        indexes = [models.Index(fields=["active", "sku"], name="product_active_sku_idx")]

    def __str__(self) -> str:
        return f"{self.sku} {self.label}"

    @property
    def label(self) -> str:
        lang = get_language() or "zh-hans"
        if lang.startswith("en") and self.name_en:
            return self.name_en
        return self.name


class PriceList(TimeStampedModel):
    """Prices that replace the list price, e.g. for the customers of tier A."""

    class Tier(models.TextChoices):
        A = "A", _("Tier A")
        B = "B", _("Tier B")
        C = "C", _("Tier C")

    name = models.CharField(_("name"), max_length=100)
    tier = models.CharField(_("customer tier"), max_length=1, choices=Tier.choices, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["tier", "name"]
        verbose_name = _("price list")
        verbose_name_plural = _("price lists")
        constraints = [
            # One active price list per tier, so a customer's price is never ambiguous.
            models.UniqueConstraint(
                fields=["tier", "currency"],
                condition=models.Q(active=True) & ~models.Q(tier=""),
                name="pricelist_one_active_per_tier",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PriceListItem(models.Model):
    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="prices"
    )
    price = models.DecimalField(_("price"), max_digits=18, decimal_places=2)

    class Meta:
        ordering = ["product__sku"]
        verbose_name = _("price list item")
        verbose_name_plural = _("price list items")
        constraints = [
            models.UniqueConstraint(
                fields=["price_list", "product"], name="pricelistitem_list_product"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.price_list_id}/{self.product_id}: {self.price}"
