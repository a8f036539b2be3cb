"""Rules, the record of which rule fired for which record and occasion, and the run log."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import TimeStampedModel


class Rule(TimeStampedModel):
    class Trigger(models.TextChoices):
        EVENT = "event", _("When an event happens")
        DATE = "date", _("Days before or after a date")
        INACTIVITY = "inactivity", _("No follow-up for some days")

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    entity = models.CharField(_("record type"), max_length=40)
    trigger = models.CharField(_("trigger"), max_length=20, choices=Trigger.choices)
    event = models.CharField(_("event"), max_length=80, blank=True)
    date_field = models.CharField(_("date field"), max_length=80, blank=True)
    # Negative: before the date (contract end − 30 days); positive: after it.
    offset_days = models.IntegerField(_("days after the date"), default=0)
    inactivity_days = models.PositiveIntegerField(_("days without follow-up"), default=0)
    conditions = models.JSONField(_("conditions"), default=dict, blank=True)
    actions = models.JSONField(_("actions"), default=list, blank=True)
    enabled = models.BooleanField(_("enabled"), default=False)
    template_key = models.CharField(_("template"), max_length=60, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("automation rule")
        verbose_name_plural = _("automation rules")
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["enabled", "trigger"], name="rule_enabled_trigger_idx")]

    def __str__(self) -> str:
        return self.name


class RuleFiring(models.Model):
    """A rule fired for a record on an occasion: the unique key makes firing idempotent."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="firings")
    record_id = models.PositiveBigIntegerField()
    occasion = models.CharField(max_length=120)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "record_id", "occasion"], name="rule_firing_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.rule_id}:{self.record_id}@{self.occasion}"


class RuleRun(models.Model):
    class Status(models.TextChoices):
        OK = "ok", _("Succeeded")
        PARTIAL = "partial", _("Some actions failed")
        ERROR = "error", _("Failed")
        STOPPED = "stopped", _("Stopped (loop protection)")

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="runs")
    record_id = models.PositiveBigIntegerField(null=True, blank=True)
    occasion = models.CharField(max_length=120, blank=True)
    event = models.CharField(max_length=80, blank=True)
    depth = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OK)
    # [{"type", "summary", "status": ok|error|retrying, "message", "attempts"}]
    results = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["rule", "-created_at"], name="rule_run_rule_time_idx")]

    def __str__(self) -> str:
        return f"{self.rule_id}:{self.record_id} {self.status}"
