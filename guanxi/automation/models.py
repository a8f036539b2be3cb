"""Approvals: a request on any record, its steps (one approver each) and the decisions."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ApprovalRequest(models.Model):
    """One request to approve one record (``entity`` + ``object_id``).

    A rejected request stays as history; submitting again makes a new request.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        CANCELLED = "cancelled", _("Cancelled")

    entity = models.CharField(_("record type"), max_length=40)
    object_id = models.PositiveBigIntegerField(_("record"))
    object_repr = models.CharField(_("record name"), max_length=200, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True, db_index=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("approval request")
        verbose_name_plural = _("approval requests")
        indexes = [
            models.Index(fields=["entity", "object_id", "-created_at"], name="approval_object_idx"),
            models.Index(fields=["requested_by", "-created_at"], name="approval_requester_idx"),
        ]
        constraints = [
            # At most one open request per record.
            models.UniqueConstraint(
                fields=["entity", "object_id"],
                condition=models.Q(status="pending"),
                name="approval_one_pending_per_record",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entity}#{self.object_id} ({self.status})"


class ApprovalStep(models.Model):
    """One approver's turn; steps are decided in ``position`` order."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        SKIPPED = "skipped", _("Skipped")

    request = models.ForeignKey(ApprovalRequest, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(_("order"))
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approver"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.WAITING
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        ordering = ["request", "position"]
        verbose_name = _("approval step")
        verbose_name_plural = _("approval steps")
        indexes = [
            models.Index(fields=["approver", "status"], name="approval_step_inbox_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["request", "position"], name="approval_step_position"),
        ]

    def __str__(self) -> str:
        return f"{self.request_id}/{self.position}: {self.status}"


class ApprovalDecision(models.Model):
    """What an approver decided, with the comment; append-only."""

    class Decision(models.TextChoices):
        APPROVE = "approve", _("Approved")
        REJECT = "reject", _("Rejected")

    request = models.ForeignKey(ApprovalRequest, on_delete=models.CASCADE, related_name="decisions")
    step = models.ForeignKey(ApprovalStep, on_delete=models.CASCADE, related_name="decisions")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices)
    comment = models.TextField(_("comment"), blank=True)
    at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("approval decision")
        verbose_name_plural = _("approval decisions")

    def __str__(self) -> str:
        return f"{self.request_id}: {self.decision}"


# The rules engine's tables live in their own module; importing them here registers them.
from guanxi.automation.rules.models import Rule, RuleFiring, RuleRun  # noqa: E402, F401
