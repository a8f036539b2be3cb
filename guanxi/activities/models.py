"""Follow-ups (跟进记录), their attachments, tasks and in-app notifications.

A follow-up or task points at its record through ``target_entity`` (a permission entity
key such as ``lead``) and ``target_id``; the apps that own those records plug in through
:mod:`guanxi.activities.targets`, so this app never imports their models.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import TimeStampedModel


class Activity(TimeStampedModel):
    """One follow-up: a call, visit, WeChat chat, e-mail, meeting or note about a record."""

    class Kind(models.TextChoices):
        CALL = "call", _("Call")
        VISIT = "visit", _("Visit")
        WECHAT = "wechat", _("WeChat")
        EMAIL = "email", _("E-mail")
        MEETING = "meeting", _("Meeting")
        NOTE = "note", _("Note")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.CALL)
    content = models.TextField(_("content"))
    outcome = models.CharField(_("outcome"), max_length=200, blank=True)
    occurred_at = models.DateTimeField(_("time"), default=timezone.now)
    target_entity = models.CharField(_("record type"), max_length=40)
    target_id = models.PositiveBigIntegerField(_("record"))
    # The author: the activity's owner for the permission layer.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    next_followup_at = models.DateTimeField(_("next follow-up"), null=True, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        indexes = [
            models.Index(
                fields=["target_entity", "target_id", "-occurred_at"], name="activity_target_idx"
            ),
            models.Index(fields=["owner", "-occurred_at"], name="activity_owner_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.content[:50]}"


def attachment_upload_to(instance: Attachment, filename: str) -> str:
    # Keep only the extension of what the phone sent; the name is shown from ``name``.
    ext = filename.rsplit(".", 1)[-1].lower()[:10] if "." in filename else "bin"
    now = timezone.now()
    return f"activities/{now:%Y/%m}/{secrets.token_hex(12)}.{ext}"


class Attachment(models.Model):
    """A file on a follow-up, typically a photo taken with a phone."""

    activity = models.ForeignKey(
        Activity, verbose_name=_("follow-up"), on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to=attachment_upload_to, max_length=255)
    name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    size = models.PositiveBigIntegerField(_("size"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.name

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class Task(TimeStampedModel):
    """Something a user has to do, optionally about a record and by a time."""

    class Priority(models.TextChoices):
        LOW = "low", _("Low")
        NORMAL = "normal", _("Normal")
        HIGH = "high", _("High")
        URGENT = "urgent", _("Urgent")

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    target_entity = models.CharField(_("record type"), max_length=40, blank=True)
    target_id = models.PositiveBigIntegerField(_("record"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reminded_at = models.DateTimeField(_("reminded"), null=True, blank=True, editable=False)
    overdue_at = models.DateTimeField(_("reported overdue"), null=True, blank=True, editable=False)
    source_activity = models.ForeignKey(
        Activity,
        verbose_name=_("from follow-up"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
    )

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        indexes = [
            models.Index(fields=["assignee", "done_at", "due_at"], name="task_assignee_due_idx"),
            models.Index(
                fields=["target_entity", "target_id", "-created_at"], name="task_target_idx"
            ),
            models.Index(fields=["due_at", "reminded_at"], name="task_reminder_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def done(self) -> bool:
        return self.done_at is not None


class Notification(models.Model):
    """An in-app notification for one user (reminders, assignments, mentions …)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    verb = models.CharField(_("kind"), max_length=40)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    target_entity = models.CharField(_("record type"), max_length=40, blank=True)
    target_id = models.PositiveBigIntegerField(_("record"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(
                fields=["recipient", "read_at", "-created_at"], name="notification_unread_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def unread(self) -> bool:
        return self.read_at is None
