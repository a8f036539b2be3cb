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


class SavedView(TimeStampedModel):
    """A named list view (场景) of an entity: filters + sort (``query``) and columns.

    Private to its owner, or shared with everyone or with chosen roles. Sharing never
    widens what anyone sees: each viewer's list is still cut to their own data scope.
    """

    class Visibility(models.TextChoices):
        PRIVATE = "private", _("Only me")
        EVERYONE = "everyone", _("Everyone")
        ROLES = "roles", _("Chosen roles")

    entity = models.CharField(_("entity"), max_length=40)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        related_name="saved_views",
    )
    name = models.CharField(_("name"), max_length=60)
    # The list's query-string parameters ({"status": "new", "sort": "-score", ...}).
    query = models.JSONField(_("filters and sort"), default=dict, blank=True)
    # Column keys in display order; empty: the viewer's own columns.
    columns = models.JSONField(_("columns"), default=list, blank=True)
    visibility = models.CharField(
        _("shared with"), max_length=10, choices=Visibility.choices, default=Visibility.PRIVATE
    )
    roles = models.ManyToManyField(
        "identity.Role", verbose_name=_("roles"), blank=True, related_name="+"
    )
    position = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        indexes = [
            models.Index(fields=["entity", "owner"], name="savedview_owner_idx"),
            models.Index(fields=["entity", "visibility"], name="savedview_shared_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "owner", "name"], name="savedview_owner_name_uniq"
            )
        ]

    def __str__(self) -> str:
        return self.name


class ListPreference(models.Model):
    """One user's list settings for one entity: chosen columns and default view."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="list_preferences"
    )
    entity = models.CharField(_("entity"), max_length=40)
    columns = models.JSONField(_("columns"), default=list, blank=True)
    default_view = models.ForeignKey(
        SavedView,
        verbose_name=_("default view"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("list preference")
        verbose_name_plural = _("list preferences")
        constraints = [
            models.UniqueConstraint(fields=["user", "entity"], name="listpref_user_entity_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.entity}"


class BulkOperation(models.Model):
    """A bulk change made from a list, kept so that tag and field edits can be undone.

    ``undo`` holds what reverting needs: the field and each record's previous value, or
    the records a tag was added to / removed from.
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    entity = models.CharField(_("entity"), max_length=40)
    action = models.CharField(_("action"), max_length=20)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    skipped = models.JSONField(_("skipped"), default=dict, blank=True)
    undo = models.JSONField(_("undo data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    undone_at = models.DateTimeField(_("undone at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("bulk operation")
        verbose_name_plural = _("bulk operations")

    def __str__(self) -> str:
        return f"{self.entity} {self.action} #{self.pk}"


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


class RequiredFieldRule(models.Model):
    """Fields (standard, or ``custom.<key>``) an admin made required for one entity
    (数据治理): enforced on create and on every change through the services and imports."""

    entity = models.CharField(_("entity"), max_length=40, unique=True)
    fields = models.JSONField(_("required fields"), default=list, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("required-field rule")
        verbose_name_plural = _("required-field rules")

    def __str__(self) -> str:
        return self.entity
