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


# --- Notifications, e-mail, robot channels, outbound webhooks ---------------------------


class NotificationPreference(models.Model):
    """One user's choice for one kind of notification on one channel (absent: default)."""

    class Channel(models.TextChoices):
        IN_APP = "in_app", _("In the app")
        EMAIL = "email", _("E-mail")
        ROBOT = "robot", _("Robot channel")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="notification_preferences",
    )
    kind = models.CharField(_("kind"), max_length=40)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    enabled = models.BooleanField(_("enabled"), default=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "channel"], name="notification_pref_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.kind}:{self.channel}={self.enabled}"


class EmailTemplate(models.Model):
    """A mail template with a Chinese and an English version; merge fields in ``{{ }}``."""

    key = models.SlugField(_("key"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=120)
    subject_zh = models.CharField(_("subject (Chinese)"), max_length=200)
    body_zh = models.TextField(_("body (Chinese)"))
    subject_en = models.CharField(_("subject (English)"), max_length=200, blank=True)
    body_en = models.TextField(_("body (English)"), blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["key"]
        verbose_name = _("e-mail template")
        verbose_name_plural = _("e-mail templates")

    def __str__(self) -> str:
        return self.name or self.key


class MailLog(models.Model):
    """Every e-mail Guanxi sends (or tried to send), optionally tied to a record."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    template_key = models.CharField(_("template"), max_length=60, blank=True)
    to = models.JSONField(_("recipients"), default=list)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"))
    language = models.CharField(_("language"), max_length=10, blank=True)
    entity = models.CharField(_("record type"), max_length=40, blank=True, db_index=True)
    object_id = models.PositiveBigIntegerField(_("record"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("sent e-mail")
        verbose_name_plural = _("mail log")
        indexes = [models.Index(fields=["entity", "object_id"], name="maillog_record_idx")]

    def __str__(self) -> str:
        return self.subject


class RobotChannel(models.Model):
    """A group robot: DingTalk custom robot, WeCom group robot or Feishu custom bot."""

    class Kind(models.TextChoices):
        DINGTALK = "dingtalk", _("DingTalk robot")
        WECOM = "wecom", _("WeCom group robot")
        FEISHU = "feishu", _("Feishu bot")

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    webhook_url = models.URLField(_("webhook URL"), max_length=500)
    secret = models.CharField(_("signing secret"), max_length=200, blank=True)
    active = models.BooleanField(_("active"), default=True)
    last_status = models.CharField(_("last result"), max_length=200, blank=True)
    last_sent_at = models.DateTimeField(_("last sent"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("robot channel")
        verbose_name_plural = _("robot channels")

    def __str__(self) -> str:
        return self.name


class Webhook(models.Model):
    """An outbound webhook subscription: events POSTed as signed JSON to ``url``."""

    url = models.URLField(_("URL"), max_length=500)
    events = models.JSONField(_("events"), default=list)
    secret = models.CharField(_("secret"), max_length=200, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event sent (or to be sent) to one URL, with its retry state and last response."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Gave up")

    webhook = models.ForeignKey(
        Webhook,
        verbose_name=_("webhook"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="deliveries",
    )
    delivery_id = models.CharField(_("delivery id"), max_length=40, unique=True)
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(_("secret"), max_length=200, blank=True)
    event = models.CharField(_("event"), max_length=60)
    body = models.TextField(_("body"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), db_index=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    response_code = models.PositiveIntegerField(_("response code"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    response_snippet = models.TextField(_("response"), blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due_idx")
        ]

    def __str__(self) -> str:
        return self.delivery_id


# The rules engine's tables live in their own module; importing them here registers them.
from guanxi.automation.rules.models import Rule, RuleFiring, RuleRun  # noqa: E402, F401


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
