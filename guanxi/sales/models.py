"""Pipelines (销售流程), their stages, deals (商机) and loss reasons."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import OwnedModel, TimeStampedModel


def _localised(zh: str, en: str) -> str:
    lang = get_language() or "zh-hans"
    if lang.startswith("en") and en:
        return en
    return zh


class Pipeline(TimeStampedModel):
    """A sales process (新客户, 续费/增购 …) with its own ordered stages; edited by admins."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    is_default = models.BooleanField(_("default"), default=False)
    position = models.PositiveIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="pipeline_one_default"
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return _localised(self.name, self.name_en)


class Stage(models.Model):
    """One column of a pipeline; ``kind`` says whether a deal in it is open, won or lost."""

    class Kind(models.TextChoices):
        OPEN = "open", pgettext_lazy("deal status", "Open")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.CASCADE, related_name="stages"
    )
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    position = models.PositiveIntegerField(_("order"), default=0)
    probability = models.PositiveSmallIntegerField(
        _("probability (%)"),
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.OPEN)
    # Deal fields that must be filled before a deal may enter this stage, e.g.
    # ["amount", "expected_close_date"].
    required_fields = models.JSONField(_("required fields"), default=list, blank=True)

    class Meta:
        ordering = ["pipeline", "position", "id"]
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "name"], name="stage_pipeline_name_uniq"),
            models.CheckConstraint(
                condition=Q(probability__gte=0) & Q(probability__lte=100),
                name="stage_probability_range",
            ),
        ]
        indexes = [models.Index(fields=["pipeline", "position"], name="stage_pipeline_pos_idx")]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return _localised(self.name, self.name_en)

    @property
    def is_open(self) -> bool:
        return self.kind == self.Kind.OPEN


class LossReason(models.Model):
    """Why deals are lost (价格, 竞争对手 …): a list administrators can extend."""

    name_zh = models.CharField(_("Chinese name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    active = models.BooleanField(_("active"), default=True)
    position = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("loss reason")
        verbose_name_plural = _("loss reasons")

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return _localised(self.name_zh, self.name_en)


class Deal(OwnedModel):
    """An opportunity (商机) with an account, moving through the stages of a pipeline.

    ``status`` mirrors the kind of ``stage`` (kept in step by the services) so that lists,
    the kanban and forecasts filter open / won / lost deals without a join.
    """

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("deal status", "Open")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    name = models.CharField(_("name"), max_length=200)
    account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="deals",
    )
    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="deals"
    )
    stage = models.ForeignKey(
        Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="deals"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    amount = models.DecimalField(
        _("amount"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    expected_close_date = models.DateField(_("expected close date"), null=True, blank=True)
    probability = models.PositiveSmallIntegerField(
        _("probability (%)"),
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    collaborators = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("collaborators"),
        blank=True,
        related_name="collaborating_deals",
    )
    source = models.ForeignKey(
        "leads.LeadSource",
        verbose_name=_("source"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    lead = models.ForeignKey(
        "leads.Lead",
        verbose_name=_("lead"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deals",
    )
    competitors = models.JSONField(_("competitors"), default=list, blank=True)
    next_step = models.CharField(_("next step"), max_length=200, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    won_at = models.DateTimeField(_("won at"), null=True, blank=True)
    lost_at = models.DateTimeField(_("lost at"), null=True, blank=True)
    loss_reason = models.ForeignKey(
        LossReason,
        verbose_name=_("loss reason"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deals",
    )
    loss_note = models.TextField(_("loss note"), blank=True)
    stage_changed_at = models.DateTimeField(_("stage changed at"), null=True, blank=True)
    # Order of the card within its kanban column (ascending).
    position = models.BigIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        constraints = [
            models.CheckConstraint(
                condition=Q(probability__gte=0) & Q(probability__lte=100),
                name="deal_probability_range",
            ),
        ]
        indexes = [
            # List pages: "my deals, newest first" and the unscoped newest-first page.
            models.Index(fields=["owner", "-created_at", "-id"], name="deal_owner_created_idx"),
            models.Index(fields=["-created_at", "-id"], name="deal_created_idx"),
            models.Index(fields=["status", "-created_at", "-id"], name="deal_status_idx"),
            models.Index(
                fields=["owner", "status", "-created_at", "-id"], name="deal_owner_status_idx"
            ),
            # Kanban columns: cards of a stage in order, for everyone or one owner.
            models.Index(fields=["stage", "position", "id"], name="deal_stage_pos_idx"),
            models.Index(
                fields=["owner", "stage", "position", "id"], name="deal_owner_stage_pos_idx"
            ),
            models.Index(fields=["pipeline", "status", "stage"], name="deal_pipeline_idx"),
            # Won / lost columns: recently closed deals, latest first.
            models.Index(
                fields=["pipeline", "status", "stage_changed_at"], name="deal_closed_recent_idx"
            ),
            models.Index(
                fields=["stage", "-stage_changed_at", "-id"], name="deal_stage_changed_idx"
            ),
            # Close month filter and forecasts.
            models.Index(fields=["status", "expected_close_date"], name="deal_status_close_idx"),
            models.Index(fields=["owner", "expected_close_date"], name="deal_owner_close_idx"),
            models.Index(fields=["expected_close_date"], name="deal_close_idx"),
            # Won deals on the account page and in reports.
            models.Index(fields=["account", "status", "-created_at"], name="deal_account_idx"),
            models.Index(fields=["status", "won_at"], name="deal_won_idx"),
            # Lost-deal reports by period.
            models.Index(fields=["status", "lost_at"], name="deal_lost_idx"),
            # Forecast and attainment (guanxi.sales.forecast): the period's won / open deals
            # are read from the index alone, grouped by owner, pipeline and currency.
            models.Index(
                fields=["status", "won_at", "owner", "pipeline", "currency", "amount"],
                name="deal_forecast_won_idx",
            ),
            models.Index(
                fields=[
                    "status",
                    "expected_close_date",
                    "owner",
                    "pipeline",
                    "currency",
                    "amount",
                    "probability",
                ],
                name="deal_forecast_open_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class DealContact(models.Model):
    """A contact's role in a deal (decision maker, influencer …)."""

    class Role(models.TextChoices):
        DECISION_MAKER = "decision_maker", _("Decision maker")
        INFLUENCER = "influencer", _("Influencer")
        USER = "user", _("User")
        OTHER = "other", _("Other")

    deal = models.ForeignKey(
        Deal, verbose_name=_("deal"), on_delete=models.CASCADE, related_name="deal_contacts"
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        on_delete=models.CASCADE,
        related_name="deal_roles",
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.OTHER)

    class Meta:
        ordering = ["deal", "id"]
        verbose_name = _("deal contact")
        verbose_name_plural = _("deal contacts")
        constraints = [
            models.UniqueConstraint(fields=["deal", "contact"], name="dealcontact_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.contact} ({self.get_role_display()})"


class DealStageChange(models.Model):
    """One move of a deal between stages (time in stage, cycle length, funnel history).

    The stage names are kept as written at the time, so the history stays readable after
    an administrator renames or deletes a stage.
    """

    deal = models.ForeignKey(
        Deal, verbose_name=_("deal"), on_delete=models.CASCADE, related_name="stage_changes"
    )
    from_stage = models.ForeignKey(
        Stage,
        verbose_name=_("from stage"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    to_stage = models.ForeignKey(
        Stage,
        verbose_name=_("to stage"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    from_stage_name = models.CharField(_("from stage"), max_length=100, blank=True)
    to_stage_name = models.CharField(_("to stage"), max_length=100, blank=True)
    changed_at = models.DateTimeField(_("changed at"))
    # How long the deal had been in ``from_stage`` (None for the first entry).
    time_in_from_stage = models.DurationField(_("time in previous stage"), null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["deal", "changed_at", "id"]
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        indexes = [
            models.Index(fields=["deal", "changed_at"], name="dealstage_deal_idx"),
            models.Index(fields=["to_stage", "changed_at"], name="dealstage_to_idx"),
            models.Index(fields=["changed_at"], name="dealstage_changed_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.from_stage_name} → {self.to_stage_name}"


class SalesTarget(TimeStampedModel):
    """A monthly target (业绩目标) of one user or one department for one measure.

    Only months are stored: the target of a quarter or a year is the sum of its months,
    so the three views can never disagree. ``currency`` is empty for counted measures.
    """

    class Measure(models.TextChoices):
        WON_AMOUNT = "won_amount", _("Won amount")
        RECEIPTS = "receipts", _("Receipts")
        NEW_CUSTOMERS = "new_customers", _("New customers")

    measure = models.CharField(_("measure"), max_length=20, choices=Measure.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sales_targets",
    )
    department = models.ForeignKey(
        "identity.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sales_targets",
    )
    year = models.PositiveSmallIntegerField(_("year"))
    month = models.PositiveSmallIntegerField(
        _("month"), validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    value = models.DecimalField(_("target"), max_digits=18, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, blank=True, default="CNY")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["year", "month", "measure", "id"]
        verbose_name = _("sales target")
        verbose_name_plural = _("sales targets")
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(department__isnull=True))
                | (Q(user__isnull=True) & Q(department__isnull=False)),
                name="salestarget_one_subject",
            ),
            models.CheckConstraint(
                condition=Q(month__gte=1) & Q(month__lte=12), name="salestarget_month_range"
            ),
            models.CheckConstraint(condition=Q(value__gte=0), name="salestarget_value_positive"),
            models.UniqueConstraint(
                fields=["measure", "user", "year", "month"],
                condition=Q(user__isnull=False),
                name="salestarget_user_uniq",
            ),
            models.UniqueConstraint(
                fields=["measure", "department", "year", "month"],
                condition=Q(department__isnull=False),
                name="salestarget_department_uniq",
            ),
        ]
        indexes = [
            # Attainment and forecast read every target of one measure in one year.
            models.Index(fields=["measure", "year", "month"], name="salestarget_period_idx"),
        ]

    def __str__(self) -> str:
        subject = self.user if self.user_id else self.department
        return f"{subject} {self.get_measure_display()} {self.year}-{self.month:02d}"

    @property
    def subject_kind(self) -> str:
        return "user" if self.user_id else "department"


# Catalogue and quotes live in their own modules of this app (guanxi.sales.catalog,
# guanxi.sales.quotes); importing them here registers their models with the app.
from guanxi.sales.catalog.models import PriceList, PriceListItem, Product  # noqa: E402, F401
from guanxi.sales.quotes.models import (  # noqa: E402, F401
    DealLine,
    Quote,
    QuoteLine,
    QuoteSettings,
)
