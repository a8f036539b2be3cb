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
