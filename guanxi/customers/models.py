"""Accounts (企业客户) and contacts (联系人)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import OwnedModel


class Account(OwnedModel):
    """A customer company."""

    class Tier(models.TextChoices):
        A = "A", "A"
        B = "B", "B"
        C = "C", "C"

    class Lifecycle(models.TextChoices):
        PROSPECT = "prospect", _("Prospect")
        CUSTOMER = "customer", _("Customer")
        VIP = "vip", _("VIP")
        DORMANT = "dormant", _("Dormant")
        CHURNED = "churned", _("Churned")

    name = models.CharField(_("name"), max_length=200)
    name_pinyin = models.CharField(_("name (pinyin)"), max_length=400, blank=True)
    name_initials = models.CharField(_("name (initials)"), max_length=100, blank=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    size = models.CharField(_("size"), max_length=50, blank=True)
    province = models.CharField(_("province"), max_length=50, blank=True)
    city = models.CharField(_("city"), max_length=50, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    website = models.CharField(_("website"), max_length=300, blank=True)
    tier = models.CharField(_("tier"), max_length=1, choices=Tier.choices, blank=True)
    lifecycle_stage = models.CharField(
        _("lifecycle stage"),
        max_length=20,
        choices=Lifecycle.choices,
        default=Lifecycle.PROSPECT,
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
    )
    credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    special_requirements = models.TextField(_("special requirements"), blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    collaborators = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("collaborators"),
        blank=True,
        related_name="collaborating_accounts",
    )
    last_contacted_at = models.DateTimeField(_("last contacted"), null=True, blank=True)
    pool_locked = models.BooleanField(
        _("locked"),
        default=False,
        help_text=_("A locked account is never reclaimed to the pool."),
    )
    # Which pool an unowned account sits in: this department's pool; None: the company pool.
    pool_department = models.ForeignKey(
        "identity.Department",
        verbose_name=_("pool"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # When the current owner got the account (claim, transfer); None: since it was created.
    owned_since = models.DateTimeField(_("owned since"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        constraints = [
            models.UniqueConstraint(
                fields=["credit_code"],
                condition=~Q(credit_code=""),
                name="account_credit_code_uniq",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "-created_at", "-id"], name="account_owner_created_idx"),
            models.Index(fields=["-created_at", "-id"], name="account_created_idx"),
            models.Index(fields=["name"], name="account_name_idx"),
            models.Index(fields=["name_pinyin"], name="account_pinyin_idx"),
            models.Index(fields=["name_initials"], name="account_initials_idx"),
            models.Index(fields=["tier", "-created_at", "-id"], name="account_tier_idx"),
            models.Index(
                fields=["lifecycle_stage", "-created_at", "-id"], name="account_stage_idx"
            ),
            models.Index(fields=["city", "-created_at", "-id"], name="account_city_idx"),
            # The pool pages: unowned accounts newest first, filtered by pool from the
            # index itself; the count is an index-only scan. The owner column leads so
            # SQLite's planner prefers it to account_owner_created_idx.
            models.Index(
                fields=["owner", "-created_at", "-id", "pool_department"],
                condition=Q(owner__isnull=True),
                name="account_pool_idx",
            ),
            # The "no follow-up in N days" reclaim rule.
            models.Index(fields=["last_contacted_at"], name="account_last_contacted_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class Contact(OwnedModel):
    """A person, usually at an account."""

    class Channel(models.TextChoices):
        PHONE = "phone", _("Phone")
        WECHAT = "wechat", _("WeChat")
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("SMS")
        VISIT = "visit", _("Visit")

    name = models.CharField(_("name"), max_length=100)
    name_pinyin = models.CharField(_("name (pinyin)"), max_length=200, blank=True)
    name_initials = models.CharField(_("name (initials)"), max_length=50, blank=True)
    account = models.ForeignKey(
        Account,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contacts",
    )
    title = models.CharField(_("title"), max_length=100, blank=True)
    mobile = models.CharField(_("mobile"), max_length=40, blank=True)
    mobile_e164 = models.CharField(_("mobile (E.164)"), max_length=20, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    phone_e164 = models.CharField(_("phone (E.164)"), max_length=20, blank=True)
    phone_ext = models.CharField(_("extension"), max_length=10, blank=True)
    email = models.CharField(_("e-mail"), max_length=254, blank=True)
    email_norm = models.CharField(_("e-mail (for matching)"), max_length=254, blank=True)
    wechat = models.CharField(_("WeChat ID"), max_length=100, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    preferred_channel = models.CharField(
        _("preferred channel"), max_length=20, choices=Channel.choices, blank=True
    )
    consent_marketing = models.BooleanField(_("marketing consent"), default=False)
    consent_source = models.CharField(_("consent source"), max_length=200, blank=True)
    consent_at = models.DateTimeField(_("consent time"), null=True, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    last_contacted_at = models.DateTimeField(_("last contacted"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        indexes = [
            models.Index(fields=["owner", "-created_at", "-id"], name="contact_owner_created_idx"),
            models.Index(fields=["-created_at", "-id"], name="contact_created_idx"),
            models.Index(fields=["account", "-is_primary", "id"], name="contact_account_idx"),
            models.Index(fields=["mobile_e164"], name="contact_mobile_idx"),
            models.Index(fields=["phone_e164"], name="contact_phone_idx"),
            models.Index(fields=["email_norm"], name="contact_email_idx"),
            models.Index(fields=["name"], name="contact_name_idx"),
            models.Index(fields=["name_pinyin"], name="contact_pinyin_idx"),
            models.Index(fields=["name_initials"], name="contact_initials_idx"),
            models.Index(fields=["last_contacted_at"], name="contact_last_contacted_idx"),
        ]

    def __str__(self) -> str:
        return self.name
