"""Leads (线索) and their configurable sources."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import OwnedModel


class LeadSource(models.Model):
    """Where leads come from (官网, 展会, 百度 …): a list administrators can extend."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    active = models.BooleanField(_("active"), default=True)
    position = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("lead source")
        verbose_name_plural = _("lead sources")

    def __str__(self) -> str:
        return self.name_zh


class Lead(OwnedModel):
    """A prospective customer not yet qualified; owner None = in the public pool (公海)."""

    class Status(models.TextChoices):
        NEW = "new", _("New")
        CONTACTED = "contacted", _("Contacted")
        QUALIFIED = "qualified", _("Qualified")
        UNQUALIFIED = "unqualified", _("Unqualified")
        CONVERTED = "converted", _("Converted")

    name = models.CharField(_("name"), max_length=100)
    name_pinyin = models.CharField(_("name (pinyin)"), max_length=200, blank=True)
    name_initials = models.CharField(_("name (initials)"), max_length=50, blank=True)
    company = models.CharField(_("company"), max_length=200, blank=True)
    title = models.CharField(_("title"), max_length=100, blank=True)
    mobile = models.CharField(_("mobile"), max_length=40, blank=True)
    mobile_e164 = models.CharField(_("mobile (E.164)"), max_length=20, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    phone_e164 = models.CharField(_("phone (E.164)"), max_length=20, blank=True)
    phone_ext = models.CharField(_("extension"), max_length=10, blank=True)
    email = models.CharField(_("e-mail"), max_length=254, blank=True)
    email_norm = models.CharField(_("e-mail (for matching)"), max_length=254, blank=True)
    wechat = models.CharField(_("WeChat ID"), max_length=100, blank=True)
    source = models.ForeignKey(
        LeadSource,
        verbose_name=_("source"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    campaign = models.CharField(_("campaign"), max_length=200, blank=True)
    province = models.CharField(_("province"), max_length=50, blank=True)
    city = models.CharField(_("city"), max_length=50, blank=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.NEW
    )
    score = models.IntegerField(_("score"), default=0)
    # Why the score is what it is: [{"rule_id", "rule", "points"}] from the scoring rules.
    score_reasons = models.JSONField(_("score reasons"), default=list, blank=True)
    # When a "contacted within N days" rule stops holding: the score is recomputed then.
    score_due_at = models.DateTimeField(_("score due for refresh"), null=True, blank=True)
    next_followup_at = models.DateTimeField(_("next follow-up"), null=True, blank=True)
    last_contacted_at = models.DateTimeField(_("last contacted"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    converted_at = models.DateTimeField(_("converted at"), null=True, blank=True)
    converted_account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("converted to account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    converted_contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("converted to contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    assigned_reason = models.TextField(_("why assigned"), blank=True)
    pool_locked = models.BooleanField(
        _("locked"), default=False, help_text=_("A locked lead is never reclaimed to the pool.")
    )
    # Which pool an unowned lead sits in: the pool of this department; None: the company pool.
    pool_department = models.ForeignKey(
        "identity.Department",
        verbose_name=_("pool"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # When the current owner got the lead (claim, transfer); None: since it was created.
    owned_since = models.DateTimeField(_("owned since"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        indexes = [
            # The list page: "my leads, newest first" and the unscoped newest-first page.
            models.Index(fields=["owner", "-created_at", "-id"], name="lead_owner_created_idx"),
            models.Index(fields=["-created_at", "-id"], name="lead_created_idx"),
            models.Index(
                fields=["owner", "status", "-created_at", "-id"], name="lead_owner_status_idx"
            ),
            models.Index(fields=["status", "-created_at", "-id"], name="lead_status_idx"),
            models.Index(fields=["source", "-created_at", "-id"], name="lead_source_idx"),
            models.Index(fields=["city", "-created_at", "-id"], name="lead_city_idx"),
            # Dedup keys: every write looks these up.
            models.Index(fields=["mobile_e164"], name="lead_mobile_idx"),
            models.Index(fields=["phone_e164"], name="lead_phone_idx"),
            models.Index(fields=["email_norm"], name="lead_email_idx"),
            # Likely duplicates and search.
            models.Index(fields=["company", "name"], name="lead_company_name_idx"),
            models.Index(fields=["name_pinyin"], name="lead_pinyin_idx"),
            models.Index(fields=["name_initials"], name="lead_initials_idx"),
            models.Index(fields=["next_followup_at"], name="lead_next_followup_idx"),
            models.Index(fields=["last_contacted_at"], name="lead_last_contacted_idx"),
            models.Index(fields=["owner", "next_followup_at"], name="lead_owner_followup_idx"),
            # Sort by score (list page "Highest score"), scoped and unscoped.
            models.Index(fields=["-score", "-id"], name="lead_score_idx"),
            models.Index(fields=["owner", "-score", "-id"], name="lead_owner_score_idx"),
            models.Index(fields=["score_due_at"], name="lead_score_due_idx"),
            # The pool pages: unowned leads newest first, filtered by pool (and not
            # converted) from the index itself; the count is an index-only scan. The
            # owner column leads so SQLite's planner prefers it to lead_owner_created_idx.
            models.Index(
                fields=["owner", "-created_at", "-id", "pool_department", "status"],
                condition=models.Q(owner__isnull=True),
                name="lead_pool_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.company})" if self.company else self.name


class Pool(models.Model):
    """A department's own public pool. Without one, records go to the company pool.

    Records point at their pool by department (``pool_department``); the company-wide
    pool is the absence of one (None), so it always exists and needs no row.
    """

    department = models.OneToOneField(
        "identity.Department",
        verbose_name=_("department"),
        on_delete=models.CASCADE,
        related_name="pool",
    )
    name = models.CharField(_("name"), max_length=100)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["department__path"]
        verbose_name = _("department pool")
        verbose_name_plural = _("department pools")

    def __str__(self) -> str:
        return self.name


class PoolSettings(models.Model):
    """Public-pool limits (one row, edited by administrators); see :meth:`current`."""

    max_owned = models.PositiveIntegerField(_("max. owned leads per user"), default=500)
    cooldown_days = models.PositiveIntegerField(_("re-claim cool-down (days)"), default=7)
    max_locked = models.PositiveIntegerField(_("max. locked leads per user"), default=20)
    max_owned_accounts = models.PositiveIntegerField(_("max. owned accounts per user"), default=300)
    max_locked_accounts = models.PositiveIntegerField(
        _("max. locked accounts per user"), default=20
    )

    class Meta:
        verbose_name = _("pool settings")
        verbose_name_plural = _("pool settings")

    def __str__(self) -> str:
        return str(_("pool settings"))

    @classmethod
    def current(cls) -> PoolSettings:
        """The settings row (defaults when nobody has saved one yet)."""
        return cls.objects.order_by("pk").first() or cls()


class PoolRule(models.Model):
    """A reclaim rule: owned leads without follow-up / conversion for N days go back."""

    name = models.CharField(_("name"), max_length=100)
    active = models.BooleanField(_("active"), default=True)
    entity = models.CharField(_("entity"), max_length=20, default="lead")
    department = models.ForeignKey(
        "identity.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("Only owners in this department; empty: everyone."),
    )
    no_followup_days = models.PositiveIntegerField(
        _("no follow-up in (days)"), null=True, blank=True
    )
    not_converted_days = models.PositiveIntegerField(
        _("not converted in (days)"), null=True, blank=True
    )
    no_deal_days = models.PositiveIntegerField(
        _("no new deal in (days)"),
        null=True,
        blank=True,
        help_text=_("Accounts: no deal created for the account; leads: no deal linked to it."),
    )
    not_won_days = models.PositiveIntegerField(
        _("no deal won in (days)"), null=True, blank=True, help_text=_("Accounts only.")
    )
    warn_days_before = models.PositiveIntegerField(_("warn owner (days before)"), default=0)
    tiers = models.JSONField(
        _("tiers"),
        default=list,
        blank=True,
        help_text=_("Accounts only: the rule applies to these tiers; empty: every tier."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("pool rule")
        verbose_name_plural = _("pool rules")

    def __str__(self) -> str:
        return self.name


class PoolEvent(models.Model):
    """Claim history of the pool: claims, releases, reclaims and reclaim warnings."""

    class Kind(models.TextChoices):
        CLAIM = "claim", _("claimed")
        RELEASE = "release", _("released")
        RECLAIM = "reclaim", _("reclaimed")
        WARN = "warn", _("warned")

    lead = models.ForeignKey(
        Lead,
        verbose_name=_("lead"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="pool_events",
    )
    account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="pool_events",
    )
    user = models.ForeignKey(
        "identity.User",
        verbose_name=_("user"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    reason = models.TextField(_("reason"), blank=True)
    rule = models.ForeignKey(
        PoolRule,
        verbose_name=_("rule"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    occasion = models.CharField(_("occasion"), max_length=80, blank=True)
    at = models.DateTimeField(_("at"))

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("pool event")
        verbose_name_plural = _("pool events")
        indexes = [
            models.Index(fields=["lead", "user", "kind", "-at"], name="pool_event_idx"),
            models.Index(fields=["account", "user", "kind", "-at"], name="pool_event_account_idx"),
        ]
        constraints = [
            # A reclaim warning goes out once per record and occasion.
            models.UniqueConstraint(
                fields=["lead", "occasion"],
                condition=models.Q(kind="warn"),
                name="pool_event_warn_once",
            ),
            models.UniqueConstraint(
                fields=["account", "occasion"],
                condition=models.Q(kind="warn"),
                name="pool_event_account_warn_once",
            ),
            # Every event is about exactly one record.
            models.CheckConstraint(
                condition=models.Q(lead__isnull=False, account__isnull=True)
                | models.Q(lead__isnull=True, account__isnull=False),
                name="pool_event_one_record",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.lead_id or self.account_id}"


class AssignmentRule(models.Model):
    """A lead routing rule (分配规则): conditions (all must hold) → who gets the lead.

    ``conditions`` is ``{"source": [codes], "province": [...], "city": [...],
    "industry": [...], "tags": [...], "custom": {key: [values]}}``; an empty or missing
    list does not constrain. Rules are tried by ``position``; the first match wins.
    """

    class Method(models.TextChoices):
        USER = "user", _("One user")
        ROUND_ROBIN = "round_robin", _("Round robin")
        LEAST_LOADED = "least_loaded", _("Fewest open leads")

    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)
    conditions = models.JSONField(_("conditions"), default=dict, blank=True)
    method = models.CharField(_("method"), max_length=20, choices=Method.choices)
    users = models.ManyToManyField(
        "identity.User", verbose_name=_("users"), related_name="+", blank=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("assignment rule")
        verbose_name_plural = _("assignment rules")

    def __str__(self) -> str:
        return self.name


class AssignmentCursor(models.Model):
    """Where a round-robin rule stands: one row per rule, bumped atomically under a row lock.

    Kept apart from the rule so that saving the rule in the admin never rewinds it.
    """

    rule = models.OneToOneField(
        AssignmentRule, primary_key=True, on_delete=models.CASCADE, related_name="cursor"
    )
    position = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("assignment cursor")
        verbose_name_plural = _("assignment cursors")

    def __str__(self) -> str:
        return f"{self.rule_id}@{self.position}"


class AssignmentSettings(models.Model):
    """What happens when no rule matches (one row; see :meth:`current`)."""

    class Fallback(models.TextChoices):
        CREATOR = "creator", _("Keep the creator as owner")
        POOL = "pool", _("Leave in the public pool")
        USER = "user", _("Give to a default user")

    fallback = models.CharField(
        _("when no rule matches"), max_length=10, choices=Fallback.choices, default="creator"
    )
    fallback_user = models.ForeignKey(
        "identity.User",
        verbose_name=_("default user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("assignment settings")
        verbose_name_plural = _("assignment settings")

    def __str__(self) -> str:
        return str(_("assignment settings"))

    @classmethod
    def current(cls) -> AssignmentSettings:
        return cls.objects.order_by("pk").first() or cls()


class ScoringRule(models.Model):
    """A lead scoring rule (评分规则): when its condition holds, add ``points`` (may be < 0).

    Kinds: ``field`` (``field`` is a lead field or ``custom.<key>``; ``operator`` equals /
    contains / filled / in with ``value``), ``source`` (``value``: a source code),
    ``followups`` (at least ``number`` follow-ups), ``recency`` (last contacted within
    ``number`` days).
    """

    class Kind(models.TextChoices):
        FIELD = "field", _("Field value")
        SOURCE = "source", _("Source")
        FOLLOWUPS = "followups", _("Follow-up count")
        RECENCY = "recency", _("Contacted recently")

    class Operator(models.TextChoices):
        EQUALS = "equals", _("equals")
        CONTAINS = "contains", _("contains")
        FILLED = "filled", _("is filled")
        IN = "in", _("is one of")

    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    field = models.CharField(_("field"), max_length=60, blank=True)
    operator = models.CharField(_("operator"), max_length=20, choices=Operator.choices, blank=True)
    value = models.JSONField(_("value"), default=str, blank=True)
    number = models.PositiveIntegerField(_("number"), null=True, blank=True)
    points = models.IntegerField(_("points"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("scoring rule")
        verbose_name_plural = _("scoring rules")

    def __str__(self) -> str:
        return self.name
