"""Quotes (报价单) with their lines, deal line items, and the quote approval settings."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import OwnedModel, TimeStampedModel

PERCENT = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))]


class LineFields(models.Model):
    """What a quote line and a deal line share: a product or free text, quantity, price."""

    position = models.PositiveIntegerField(_("order"), default=0)
    product = models.ForeignKey(
        "sales.Product",
        verbose_name=_("product"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    description = models.CharField(_("description"), max_length=500)
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=4)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    unit_price = models.DecimalField(_("unit price"), max_digits=18, decimal_places=2)
    discount = models.DecimalField(
        _("discount (%)"), max_digits=5, decimal_places=2, default=Decimal(0), validators=PERCENT
    )
    tax_rate = models.DecimalField(
        _("tax rate (%)"), max_digits=5, decimal_places=2, default=Decimal(0), validators=PERCENT
    )

    class Meta:
        abstract = True


class Quote(OwnedModel):
    """A priced offer to an account. Versions share ``number``; ``original`` is version 1."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PENDING_APPROVAL = "pending_approval", _("Pending approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        SENT = "sent", _("Sent")
        ACCEPTED = "accepted", _("Accepted")
        EXPIRED = "expired", _("Expired")

    number = models.CharField(_("number"), max_length=40)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    original = models.ForeignKey(
        "self",
        verbose_name=_("original quote"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="revisions",
    )
    is_current = models.BooleanField(_("current version"), default=True)
    title = models.CharField(_("subject"), max_length=200, blank=True)
    account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="quotes",
    )
    deal = models.ForeignKey(
        "sales.Deal",
        verbose_name=_("deal"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="quotes",
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="quotes",
    )
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    terms = models.TextField(_("terms"), blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    # Totals kept in step with the lines by the services (lists, thresholds, reports).
    subtotal = models.DecimalField(_("subtotal"), max_digits=18, decimal_places=2, default=0)
    discount_total = models.DecimalField(_("discount"), max_digits=18, decimal_places=2, default=0)
    tax_total = models.DecimalField(_("tax"), max_digits=18, decimal_places=2, default=0)
    total = models.DecimalField(_("total"), max_digits=18, decimal_places=2, default=0)
    max_discount = models.DecimalField(
        _("largest line discount (%)"), max_digits=5, decimal_places=2, default=0
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        constraints = [
            models.UniqueConstraint(fields=["number", "version"], name="quote_number_version"),
        ]
        indexes = [
            models.Index(fields=["owner", "-created_at", "-id"], name="quote_owner_created_idx"),
            models.Index(fields=["is_current", "-created_at", "-id"], name="quote_current_idx"),
            models.Index(fields=["status", "-created_at"], name="quote_status_idx"),
            models.Index(fields=["account", "-created_at"], name="quote_account_idx"),
            models.Index(fields=["status", "valid_until"], name="quote_expiry_idx"),
        ]

    def __str__(self) -> str:
        return self.number if self.version == 1 else f"{self.number} v{self.version}"


class QuoteLine(LineFields):
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")

    class Meta:
        ordering = ["quote", "position", "id"]
        verbose_name = _("quote line")
        verbose_name_plural = _("quote lines")

    def __str__(self) -> str:
        return self.description


class DealLine(LineFields):
    """A product (or free-text item) on a deal; a quote can start from them."""

    deal = models.ForeignKey("sales.Deal", on_delete=models.CASCADE, related_name="lines")

    class Meta:
        ordering = ["deal", "position", "id"]
        verbose_name = _("deal line")
        verbose_name_plural = _("deal lines")

    def __str__(self) -> str:
        return self.description


class QuoteSettings(TimeStampedModel):
    """When a quote needs its owner's manager to approve it (one row)."""

    discount_threshold = models.DecimalField(
        _("approval above line discount (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal(20),
        validators=PERCENT,
    )
    amount_threshold = models.DecimalField(
        _("approval above total"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    amount_currency = models.CharField(_("currency of that total"), max_length=3, default="CNY")
    default_terms = models.TextField(_("default terms"), blank=True)
    default_validity_days = models.PositiveSmallIntegerField(_("valid for (days)"), default=30)

    class Meta:
        verbose_name = _("quote settings")
        verbose_name_plural = _("quote settings")

    def __str__(self) -> str:
        return "quote settings"
