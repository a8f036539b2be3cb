"""Contracts (合同), payment plans (回款计划), receipts (回款记录), invoices (开票记录).

Money is a ``Decimal`` with an ISO currency; every amount of a contract's plan, receipts
and invoices is in the contract's currency. ``Installment.received`` is the sum of the
allocations of receipts to it, kept in step by the services so receivables and aging are
plain aggregate queries.
"""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import OwnedModel, TimeStampedModel

DEFAULT_NUMBER_PATTERN = "HT-{year}-{seq:04d}"
DEFAULT_INVOICE_PATTERN = "FP-{year}-{seq:05d}"


class FinanceSettings(models.Model):
    """Approval threshold and renewal reminder lead time (one row, edited by administrators).

    Contract and invoice number patterns live with the document numbering
    (``guanxi.core.numbering``, sequences ``contract`` and ``invoice``)."""

    approval_threshold = models.DecimalField(
        _("approval above (amount)"),
        max_digits=16,
        decimal_places=2,
        default=Decimal("100000.00"),
        help_text=_("Contracts above this amount need the owner's department head to approve."),
    )
    renewal_days = models.PositiveIntegerField(_("renewal reminder (days before end)"), default=30)

    class Meta:
        verbose_name = _("finance settings")
        verbose_name_plural = _("finance settings")

    def __str__(self) -> str:
        return str(_("finance settings"))

    @classmethod
    def current(cls) -> FinanceSettings:
        """The settings row (defaults when nobody has saved one yet)."""
        return cls.objects.order_by("pk").first() or cls()


def scan_upload_to(instance: Contract, filename: str) -> str:
    ext = filename.rsplit(".", 1)[-1].lower()[:10] if "." in filename else "bin"
    now = timezone.now()
    return f"contracts/{now:%Y/%m}/{secrets.token_hex(12)}.{ext}"


class Contract(OwnedModel):
    """A signed (or to-be-signed) agreement with an account."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PENDING = "pending_approval", _("Pending approval")
        ACTIVE = "active", _("Active")
        EXPIRED = "expired", _("Expired")
        TERMINATED = "terminated", _("Terminated")

    number = models.CharField(_("contract number"), max_length=60, unique=True)
    account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="contracts",
    )
    deal = models.ForeignKey(
        "sales.Deal",
        verbose_name=_("deal"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contracts",
    )
    title = models.CharField(_("title"), max_length=200)
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    starts_on = models.DateField(_("start date"), null=True, blank=True)
    ends_on = models.DateField(_("end date"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    scan = models.FileField(_("signed scan"), upload_to=scan_upload_to, max_length=255, blank=True)
    scan_name = models.CharField(_("scan file name"), max_length=255, blank=True)
    scan_content_type = models.CharField(max_length=100, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    approval_request_id = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    activated_at = models.DateTimeField(_("activated"), null=True, blank=True)
    terminated_at = models.DateTimeField(_("terminated"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        indexes = [
            models.Index(fields=["owner", "-created_at", "-id"], name="contract_owner_created_idx"),
            models.Index(fields=["-created_at", "-id"], name="contract_created_idx"),
            models.Index(fields=["account", "-created_at"], name="contract_account_idx"),
            models.Index(fields=["status", "ends_on"], name="contract_status_end_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class Installment(TimeStampedModel):
    """One line of a contract's payment plan (回款计划)."""

    class State(models.TextChoices):
        UNPAID = "unpaid", _("Unpaid")
        PARTIAL = "partial", _("Partially paid")
        PAID = "paid", _("Paid")
        OVERDUE = "overdue", _("Overdue")

    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.CASCADE, related_name="installments"
    )
    position = models.PositiveIntegerField(_("no."), default=1)
    due_on = models.DateField(_("due date"))
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    received = models.DecimalField(
        _("received"), max_digits=16, decimal_places=2, default=Decimal("0.00")
    )
    notes = models.CharField(_("notes"), max_length=200, blank=True)

    class Meta:
        ordering = ["contract", "position", "id"]
        verbose_name = _("installment")
        verbose_name_plural = _("installments")
        indexes = [
            models.Index(fields=["contract", "position"], name="installment_contract_idx"),
            models.Index(fields=["due_on"], name="installment_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.contract.number} #{self.position}"

    @property
    def outstanding(self) -> Decimal:
        return max(self.amount - self.received, Decimal("0.00"))

    def state_on(self, today: dt.date) -> str:
        """Unpaid, partial, paid or overdue on ``today`` (derived, never stored)."""
        if self.received >= self.amount:
            return self.State.PAID
        if self.due_on < today:
            return self.State.OVERDUE
        if self.received > 0:
            return self.State.PARTIAL
        return self.State.UNPAID


class Receipt(TimeStampedModel):
    """Money received (回款记录), against one installment or the contract as a whole."""

    class Method(models.TextChoices):
        BANK = "bank_transfer", _("Bank transfer")
        CASH = "cash", _("Cash")
        CHEQUE = "cheque", _("Cheque")
        ALIPAY = "alipay", _("Alipay")
        WECHAT = "wechat_pay", _("WeChat Pay")
        OTHER = "other", _("Other")

    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.PROTECT, related_name="receipts"
    )
    installment = models.ForeignKey(
        Installment,
        verbose_name=_("installment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="receipts",
    )
    received_on = models.DateField(_("date received"))
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    method = models.CharField(
        _("method"), max_length=20, choices=Method.choices, default=Method.BANK
    )
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    overpayment_note = models.CharField(_("overpayment note"), max_length=300, blank=True)
    notes = models.CharField(_("notes"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-received_on", "-id"]
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        indexes = [
            models.Index(fields=["contract", "-received_on"], name="receipt_contract_idx"),
            models.Index(fields=["-received_on", "-id"], name="receipt_date_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.contract.number} {self.amount} {self.received_on}"


class Allocation(models.Model):
    """The part of a receipt applied to one installment (a contract-level receipt is
    spread over the open installments, earliest due first)."""

    receipt = models.ForeignKey(Receipt, on_delete=models.CASCADE, related_name="allocations")
    installment = models.ForeignKey(
        Installment, on_delete=models.PROTECT, related_name="allocations"
    )
    amount = models.DecimalField(max_digits=16, decimal_places=2)

    class Meta:
        verbose_name = _("allocation")
        constraints = [
            models.UniqueConstraint(
                fields=["receipt", "installment"], name="allocation_receipt_installment_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.receipt_id} → {self.installment_id}: {self.amount}"


class Invoice(TimeStampedModel):
    """An invoice issued against a contract (开票记录)."""

    class Kind(models.TextChoices):
        NORMAL = "normal", _("General VAT invoice (普票)")
        SPECIAL = "special", _("Special VAT invoice (专票)")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ISSUED = "issued", _("Issued")
        VOID = "void", _("Void")

    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.PROTECT, related_name="invoices"
    )
    number = models.CharField(_("invoice number"), max_length=60, unique=True)
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    issued_on = models.DateField(_("invoice date"))
    kind = models.CharField(_("type"), max_length=10, choices=Kind.choices, default=Kind.NORMAL)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    over_note = models.CharField(_("note on exceeding the contract"), max_length=300, blank=True)
    notes = models.CharField(_("notes"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-issued_on", "-id"]
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        indexes = [models.Index(fields=["contract", "-issued_on"], name="invoice_contract_idx")]

    def __str__(self) -> str:
        return self.number


class Reminder(models.Model):
    """A reminder already sent: ``key`` names the occasion (``renewal:<contract>:<end>``,
    ``overdue:<installment>:<bucket>``), so a periodic task run twice sends it once."""

    key = models.CharField(max_length=120, unique=True)
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("sent reminder")

    def __str__(self) -> str:
        return self.key
