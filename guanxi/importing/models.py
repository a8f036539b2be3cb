"""Import batches (one per import, the unit of undo) and the mappings users saved."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportBatch(models.Model):
    """One import of one file into one entity.

    Created records are kept as id ranges in ``created`` ({"lead": [[first, last], …]}),
    which bulk inserts make compact; updated records have an :class:`ImportedChange` each.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Being set up")
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        CANCELLING = "cancelling", _("Cancelling")
        CANCELLED = "cancelled", _("Cancelled")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        UNDONE = "undone", _("Undone")

    class Entity(models.TextChoices):
        LEADS = "leads", _("Leads")
        CONTACTS = "contacts", _("Contacts")
        ACCOUNTS = "accounts", _("Accounts")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    entity = models.CharField(_("entity"), max_length=20, choices=Entity.choices)
    file_name = models.CharField(_("file name"), max_length=255)
    file_hash = models.CharField(_("file hash (SHA-256)"), max_length=64, db_index=True)
    file_size = models.BigIntegerField(_("file size"), default=0)
    stored_file = models.CharField(_("stored file"), max_length=500, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    options = models.JSONField(_("options"), default=dict, blank=True)
    file_info = models.JSONField(_("file details"), default=dict, blank=True)
    rows_estimated = models.IntegerField(_("rows (estimated)"), default=0)
    rows_done = models.IntegerField(_("rows processed"), default=0)
    rows_total = models.IntegerField(_("rows"), default=0)
    rows_imported = models.IntegerField(_("created"), default=0)
    rows_updated = models.IntegerField(_("updated"), default=0)
    rows_duplicate = models.IntegerField(_("duplicates"), default=0)
    rows_invalid = models.IntegerField(_("invalid"), default=0)
    rows_empty = models.IntegerField(_("empty rows"), default=0)
    created = models.JSONField(_("created records"), default=dict, blank=True)
    report = models.JSONField(_("report"), default=dict, blank=True)
    message = models.TextField(_("message"), blank=True)
    created_at = models.DateTimeField(_("started"), auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    undone_at = models.DateTimeField(_("undone"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("undone by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        indexes = [models.Index(fields=["user", "-created_at"], name="import_user_idx")]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.entity})"

    @property
    def finished(self) -> bool:
        return self.status in {
            self.Status.DONE,
            self.Status.FAILED,
            self.Status.CANCELLED,
            self.Status.UNDONE,
        }

    @property
    def progress(self) -> int:
        """Percent done (estimated from the file while running)."""
        if self.finished:
            return 100
        if not self.rows_estimated:
            return 0
        return min(99, int(self.rows_done * 100 / self.rows_estimated))

    def created_ids(self, entity_key: str) -> list[int]:
        out: list[int] = []
        for first, last in self.created.get(entity_key, []):
            out.extend(range(first, last + 1))
        return out


class ImportedChange(models.Model):
    """An existing record an import updated: the values before and after (for undo)."""

    batch = models.ForeignKey(
        ImportBatch, verbose_name=_("import"), on_delete=models.CASCADE, related_name="changes"
    )
    entity = models.CharField(_("entity"), max_length=20)
    record_id = models.BigIntegerField(_("record"))
    row = models.IntegerField(_("row"))
    before = models.JSONField(_("before"), default=dict)
    after = models.JSONField(_("after"), default=dict)

    class Meta:
        ordering = ["id"]
        verbose_name = _("imported change")
        verbose_name_plural = _("imported changes")

    def __str__(self) -> str:
        return f"{self.entity} {self.record_id}"


class SavedMapping(models.Model):
    """A user's column mapping for one set of headers, offered again for the same headers."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    entity = models.CharField(_("entity"), max_length=20)
    headers_hash = models.CharField(_("headers"), max_length=64)
    mapping = models.JSONField(_("mapping"), default=dict)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("saved mapping")
        verbose_name_plural = _("saved mappings")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "entity", "headers_hash"], name="import_mapping_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.entity}"


class DuplicateScan(models.Model):
    """One run of the duplicate finder, over the records its user may see."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    groups_count = models.PositiveIntegerField(_("groups"), default=0)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("duplicate scan")
        verbose_name_plural = _("duplicate scans")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.pk} {self.status}"


class DuplicateGroup(models.Model):
    """Records sharing one key: ``hard`` (phone, e-mail, credit code, account name) or
    ``likely`` (name + company, pinyin name + company: for review only)."""

    class Kind(models.TextChoices):
        HARD = "hard", _("Duplicate")
        LIKELY = "likely", _("Likely duplicate")

    class Match(models.TextChoices):
        PHONE = "phone", _("same phone")
        EMAIL = "email", _("same e-mail")
        CREDIT_CODE = "credit_code", _("same credit code")
        ACCOUNT_NAME = "account_name", _("same account name")
        NAME = "name", _("same name and company")
        PINYIN = "pinyin", _("same pinyin name and company")

    scan = models.ForeignKey(
        DuplicateScan, verbose_name=_("scan"), on_delete=models.CASCADE, related_name="groups"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    match = models.CharField(_("match"), max_length=20, choices=Match.choices)
    key = models.CharField(_("key"), max_length=700)

    class Meta:
        verbose_name = _("duplicate group")
        verbose_name_plural = _("duplicate groups")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.match} {self.key}"


class DuplicateMember(models.Model):
    """One record of a :class:`DuplicateGroup` (a lead, contact or account by id)."""

    group = models.ForeignKey(
        DuplicateGroup, verbose_name=_("group"), on_delete=models.CASCADE, related_name="members"
    )
    entity_key = models.CharField(_("record type"), max_length=20)
    object_id = models.BigIntegerField(_("record"))

    class Meta:
        verbose_name = _("duplicate group member")
        verbose_name_plural = _("duplicate group members")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.entity_key} {self.object_id}"
