from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class OwnedModel(TimeStampedModel):
    """A customer-data record: has an owner (None = in the public pool) and custom fields."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)

    class Meta:
        abstract = True


class AppendOnlyQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("The audit trail is append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("The audit trail is append-only.")


class AuditEvent(models.Model):
    """One entry of the append-only audit trail.

    Written explicitly by services (never by signals), so every entry names the actor
    and the reason for the change.
    """

    class Action(models.TextChoices):
        CREATE = "create", _("created")
        UPDATE = "update", _("changed")
        DELETE = "delete", _("deleted")
        LOGIN = "login", _("logged in")
        LOGIN_FAILED = "login_failed", _("failed to log in")
        LOGOUT = "logout", _("logged out")
        LOCKED = "locked", _("account locked")
        EXPORT = "export", _("exported")
        IMPORT = "import", _("imported")
        MERGE = "merge", _("merged")
        TRANSFER = "transfer", _("transferred")
        REVEAL = "reveal", _("revealed a masked field")
        PERMISSION = "permission", _("changed permissions")
        TOKEN = "token", _("API token")
        CONVERT = "convert", _("converted")
        CLAIM = "claim", _("claimed from the pool")
        RELEASE = "release", _("released to the pool")
        RECLAIM = "reclaim", _("reclaimed to the pool")
        ASSIGN = "assign", _("assigned")

    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Kept even if the user is renamed or the row is gone: the trail must stay readable.
    actor_label = models.CharField(_("actor"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    entity = models.CharField(_("entity"), max_length=40)
    object_id = models.CharField(_("record"), max_length=64, blank=True)
    object_repr = models.CharField(_("record name"), max_length=200, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [
            models.Index(fields=["entity", "object_id", "-created_at"], name="audit_record_idx"),
            models.Index(fields=["actor", "-created_at"], name="audit_actor_idx"),
            models.Index(fields=["action", "-created_at"], name="audit_action_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_label} {self.action} {self.entity}#{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("The audit trail is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("The audit trail is append-only.")


class CustomField(TimeStampedModel):
    """An admin-defined field of an entity; values live in the entity's ``custom`` JSON."""

    class Kind(models.TextChoices):
        TEXT = "text", _("Text")
        LONG_TEXT = "long_text", _("Long text")
        NUMBER = "number", _("Whole number")
        DECIMAL = "decimal", _("Decimal")
        DATE = "date", _("Date")
        DATETIME = "datetime", _("Date and time")
        SELECT = "select", _("Single select")
        MULTI_SELECT = "multi_select", _("Multi select")
        USER = "user", _("User")
        BOOLEAN = "boolean", _("Yes / no")
        URL = "url", _("URL")
        PHONE = "phone", _("Phone")
        EMAIL = "email", _("E-mail")

    entity = models.CharField(_("entity"), max_length=40, db_index=True)
    key = models.SlugField(
        _("key"),
        max_length=50,
        help_text=_("Used in the API and in imports; lower-case letters, digits and underscores."),
    )
    label_zh = models.CharField(_("Chinese label"), max_length=100)
    label_en = models.CharField(_("English label"), max_length=100, blank=True)
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices, default=Kind.TEXT)
    required = models.BooleanField(_("required"), default=False)
    position = models.PositiveIntegerField(_("order"), default=0)
    # [{"value": "a", "label_zh": "甲", "label_en": "A"}, ...] for select kinds.
    options = models.JSONField(_("options"), default=list, blank=True)
    help_text = models.CharField(_("help text"), max_length=200, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["entity", "position", "id"]
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        constraints = [
            models.UniqueConstraint(fields=["entity", "key"], name="customfield_entity_key_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.entity}.{self.key}"

    def label(self, language: str | None = None) -> str:
        from django.utils.translation import get_language

        lang = language or get_language() or "zh-hans"
        if lang.startswith("en") and self.label_en:
            return self.label_en
        return self.label_zh

    def option_label(self, value: str, language: str | None = None) -> str:
        from django.utils.translation import get_language

        lang = language or get_language() or "zh-hans"
        for option in self.options:
            if option.get("value") == value:
                if lang.startswith("en") and option.get("label_en"):
                    return str(option["label_en"])
                return str(option.get("label_zh") or value)
        return value


class Note(OwnedModel):
    """An organisation-wide note or announcement.

    The smallest real entity behind the permission layer and the custom fields engine.
    """

    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("note")
        verbose_name_plural = _("notes")

    def __str__(self) -> str:
        return self.title


class NumberSequence(models.Model):
    """The last number handed out for one sequence (``key``) in one period (a year).

    Rows are locked while a number is taken, inside the caller's transaction, so a
    rolled-back create gives its number back and two creates never share one.
    """

    key = models.CharField(_("sequence"), max_length=40)
    period = models.CharField(_("period"), max_length=10)
    last = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("number sequence")
        verbose_name_plural = _("number sequences")
        constraints = [
            models.UniqueConstraint(fields=["key", "period"], name="numbersequence_key_period"),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.period}: {self.last}"


class NumberPattern(TimeStampedModel):
    """The administrator's pattern for one sequence, e.g. ``HT{year}{seq:05d}``."""

    key = models.CharField(_("sequence"), max_length=40, unique=True)
    pattern = models.CharField(_("pattern"), max_length=60)

    class Meta:
        verbose_name = _("number pattern")
        verbose_name_plural = _("number patterns")

    def __str__(self) -> str:
        return f"{self.key}: {self.pattern}"


class CompanyProfile(TimeStampedModel):
    """Our own company as printed on quotes and contracts (one row, edited by admins)."""

    name = models.CharField(_("company name"), max_length=200)
    name_en = models.CharField(_("English company name"), max_length=200, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    address_en = models.CharField(_("English address"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    email = models.CharField(_("e-mail"), max_length=200, blank=True)
    website = models.CharField(_("website"), max_length=200, blank=True)
    tax_id = models.CharField(_("unified social credit code"), max_length=40, blank=True)
    bank = models.CharField(_("bank and account"), max_length=300, blank=True)
    logo = models.FileField(_("logo"), upload_to="company/", blank=True)

    class Meta:
        verbose_name = _("company profile")
        verbose_name_plural = _("company profile")

    def __str__(self) -> str:
        return self.name
