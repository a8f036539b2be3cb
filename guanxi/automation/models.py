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
        RETURNED = "returned", _("Returned for changes")
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
    policy = models.ForeignKey(
        "automation.ApprovalPolicy",
        verbose_name=_("approval flow"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
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
    """One approver's turn. Rows of the same ``stage`` are decided together: with mode
    ``any`` the first approval settles the stage, with ``all`` every row must approve.
    Stages run in order; ``position`` numbers the rows."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        RETURNED = "returned", _("Returned for changes")
        SKIPPED = "skipped", _("Skipped")

    class Mode(models.TextChoices):
        ANY = "any", _("Any one of them")
        ALL = "all", _("All of them")

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
    stage = models.PositiveSmallIntegerField(_("stage"), default=0)
    mode = models.CharField(_("mode"), max_length=3, choices=Mode.choices, default=Mode.ALL)
    delegated_from = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("delegated by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    activated_at = models.DateTimeField(_("waiting since"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("last reminded"), null=True, blank=True)

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
        RETURN = "return", _("Returned for changes")

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


class ApprovalPolicy(models.Model):
    """A configurable approval flow: for which records (entity + conditions) and its steps.

    The first active policy of the entity (by ``position``) whose conditions hold decides
    the steps of a new request; with none, the entity's built-in approvers apply.
    """

    class Entity(models.TextChoices):
        QUOTE = "quote", _("Quote")
        CONTRACT = "contract", _("Contract")
        DISCOUNT = "discount", _("Discount")
        REFUND = "refund", _("Refund")
        CUSTOM = "custom", _("Custom")

    entity = models.CharField(_("record type"), max_length=40)
    name = models.CharField(_("name"), max_length=100)
    active = models.BooleanField(_("active"), default=True)
    position = models.PositiveIntegerField(_("order"), default=0)
    min_amount = models.DecimalField(
        _("amount at least"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    min_discount = models.DecimalField(
        _("discount at least (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    remind_after_hours = models.PositiveIntegerField(_("remind after (hours)"), default=24)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["entity", "position", "id"]
        verbose_name = _("approval flow")
        verbose_name_plural = _("approval flows")

    def __str__(self) -> str:
        return self.name


class ApprovalPolicyStep(models.Model):
    """One stage of a policy: who approves (department head, a role, a named user)."""

    class Kind(models.TextChoices):
        MANAGER = "manager", _("The owner's department head")
        ROLE = "role", _("Users with a role")
        USER = "user", _("A named user")

    policy = models.ForeignKey(ApprovalPolicy, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(_("order"))
    kind = models.CharField(_("approver"), max_length=10, choices=Kind.choices)
    role = models.ForeignKey(
        "identity.Role",
        verbose_name=_("role"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    mode = models.CharField(
        _("mode"), max_length=3, choices=ApprovalStep.Mode.choices, default=ApprovalStep.Mode.ANY
    )

    class Meta:
        ordering = ["policy", "position", "id"]
        verbose_name = _("approval flow step")
        verbose_name_plural = _("approval flow steps")

    def __str__(self) -> str:
        return f"{self.policy_id}/{self.position}: {self.kind}"


class ApprovalDelegation(models.Model):
    """While ``user`` is away (``starts_on``..``ends_on``), their approvals go to ``delegate``."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="approval_delegations",
    )
    delegate = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("delegate"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-starts_on", "-id"]
        verbose_name = _("approval delegation")
        verbose_name_plural = _("approval delegations")
        indexes = [models.Index(fields=["user", "active", "starts_on"], name="approval_deleg_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.delegate_id}"
