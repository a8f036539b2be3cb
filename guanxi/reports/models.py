"""Campaign costs (推广费用) per lead source and month: what channels cost, for ROI and CAC."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import TimeStampedModel


class CampaignCost(TimeStampedModel):
    """Money spent on one lead source in one month (``month`` is the month's first day)."""

    source = models.ForeignKey(
        "leads.LeadSource", verbose_name=_("source"), on_delete=models.PROTECT, related_name="+"
    )
    month = models.DateField(_("month"))
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-month", "source_id"]
        verbose_name = _("campaign cost")
        verbose_name_plural = _("campaign costs")
        constraints = [
            models.UniqueConstraint(fields=["source", "month"], name="campaigncost_source_month"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="campaigncost_amount_gte_0"),
        ]
        indexes = [models.Index(fields=["month", "source"], name="campaigncost_month_idx")]

    def __str__(self) -> str:
        return f"{self.source} {self.month:%Y-%m}: {self.amount} {self.currency}"


class Segment(models.TextChoices):
    """The eight RFM segments (R, F, M each high or low against the middle score)."""

    IMPORTANT_VALUE = "important_value", _("Important value (重要价值客户)")
    IMPORTANT_DEVELOP = "important_develop", _("Important to develop (重要发展客户)")
    IMPORTANT_KEEP = "important_keep", _("Important to keep (重要保持客户)")
    IMPORTANT_RETAIN = "important_retain", _("Important to win back (重要挽留客户)")
    GENERAL_VALUE = "general_value", _("General value (一般价值客户)")
    GENERAL_DEVELOP = "general_develop", _("General to develop (一般发展客户)")
    GENERAL_KEEP = "general_keep", _("General to keep (一般保持客户)")
    GENERAL_RETAIN = "general_retain", _("General to win back (一般挽留客户)")


class CustomerScore(models.Model):
    """RFM scores and churn risk of one account, rewritten by ``analytics.refresh``."""

    account = models.OneToOneField(
        "customers.Account",
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="score",
    )
    last_won_at = models.DateTimeField(_("last purchase"), null=True, blank=True)
    recency_days = models.PositiveIntegerField(_("days since last purchase"), null=True)
    frequency = models.PositiveIntegerField(_("purchases"), default=0)
    monetary = models.DecimalField(_("revenue"), max_digits=18, decimal_places=2, default=0)
    r_score = models.PositiveSmallIntegerField(_("R score"), default=0)
    f_score = models.PositiveSmallIntegerField(_("F score"), default=0)
    m_score = models.PositiveSmallIntegerField(_("M score"), default=0)
    segment = models.CharField(_("RFM segment"), max_length=20, choices=Segment.choices, blank=True)
    churn_score = models.PositiveSmallIntegerField(_("churn risk"), default=0)
    churn_reasons = models.JSONField(_("churn reasons"), default=list, blank=True)
    at_risk = models.BooleanField(_("at risk"), default=False)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("customer score")
        verbose_name_plural = _("customer scores")
        indexes = [
            models.Index(fields=["segment"], name="customerscore_segment_idx"),
            models.Index(fields=["at_risk", "-churn_score"], name="customerscore_risk_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.segment} / {self.churn_score}"


class SavedReport(TimeStampedModel):
    """A report-builder definition kept by its owner and shared with roles."""

    name = models.CharField(_("name"), max_length=100)
    definition = models.JSONField(_("definition"), default=dict)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        related_name="saved_reports",
    )
    shared_roles = models.ManyToManyField(
        "identity.Role", verbose_name=_("shared with roles"), blank=True, related_name="+"
    )

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("saved report")
        verbose_name_plural = _("saved reports")

    def __str__(self) -> str:
        return self.name
