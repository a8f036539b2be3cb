"""Web forms (线索自动入库): public lead-capture forms and their raw submissions."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class WebForm(models.Model):
    """A lead-capture form an administrator designs; served at ``/f/<slug>/``.

    ``fields`` is the ordered list of inputs: ``[{"key", "label_zh", "label_en",
    "required"}]`` where ``key`` is a lead field (``name``, ``mobile`` …) or
    ``custom.<key>`` for a lead custom field.
    """

    class Routing(models.TextChoices):
        RULES = "rules", _("Assignment rules")
        USER = "user", _("A fixed user")
        POOL = "pool", _("Public pool")

    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("address"), max_length=60, unique=True)
    title_zh = models.CharField(_("Chinese title"), max_length=200)
    title_en = models.CharField(_("English title"), max_length=200, blank=True)
    intro_zh = models.TextField(_("Chinese introduction"), blank=True)
    intro_en = models.TextField(_("English introduction"), blank=True)
    fields = models.JSONField(_("fields"), default=list)
    consent_enabled = models.BooleanField(_("ask for consent"), default=False)
    consent_required = models.BooleanField(_("consent required"), default=False)
    consent_text_zh = models.CharField(_("Chinese consent text"), max_length=500, blank=True)
    consent_text_en = models.CharField(_("English consent text"), max_length=500, blank=True)
    thanks_zh = models.TextField(_("Chinese thank-you text"), blank=True)
    thanks_en = models.TextField(_("English thank-you text"), blank=True)
    redirect_url = models.URLField(_("redirect after submitting"), max_length=500, blank=True)
    source = models.ForeignKey(
        "leads.LeadSource",
        verbose_name=_("lead source"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    campaign = models.CharField(_("campaign"), max_length=200, blank=True)
    routing = models.CharField(
        _("owner"), max_length=10, choices=Routing.choices, default=Routing.RULES
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("fixed owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    active = models.BooleanField(_("active"), default=True)
    rate_limit = models.PositiveIntegerField(_("submissions per IP"), default=5)
    rate_window_minutes = models.PositiveIntegerField(_("rate window (minutes)"), default=10)
    min_fill_seconds = models.PositiveIntegerField(_("minimum fill time (seconds)"), default=3)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Submissions are saved in this administrator's name."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("web form")
        verbose_name_plural = _("web forms")

    def __str__(self) -> str:
        return self.name


class FormSubmission(models.Model):
    """One POST to a web form, kept raw whatever came of it."""

    class Outcome(models.TextChoices):
        CREATED = "created", _("Lead created")
        DUPLICATE = "duplicate", _("Added to an existing record")
        INVALID = "invalid", _("Invalid")
        SPAM = "spam", _("Spam")
        ERROR = "error", _("Error")

    form = models.ForeignKey(
        WebForm, verbose_name=_("web form"), on_delete=models.CASCADE, related_name="submissions"
    )
    created_at = models.DateTimeField(_("time"), auto_now_add=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    data = models.JSONField(_("submitted values"), default=dict)
    utm = models.JSONField(_("UTM parameters"), default=dict, blank=True)
    lead = models.ForeignKey(
        "leads.Lead",
        verbose_name=_("lead"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    duplicate_entity = models.CharField(_("existing record type"), max_length=20, blank=True)
    duplicate_id = models.BigIntegerField(_("existing record"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=400, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("form submission")
        verbose_name_plural = _("form submissions")
        indexes = [
            models.Index(fields=["form", "-created_at", "-id"], name="formsub_form_idx"),
            models.Index(fields=["form", "outcome"], name="formsub_outcome_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.form} #{self.pk}"
