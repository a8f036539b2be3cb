"""Home-page dashboards per role: each card is one figure (or a short table) with a link
to the records behind it. Every figure is one aggregate query over the viewer's scope.

Which dashboard a user sees follows their data scope on deals: ``all`` → management,
``department`` / ``subtree`` → manager, ``own`` → salesperson. Wider roles may switch to the
narrower dashboards.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.db.models import Count, Max, OuterRef, Q, Subquery, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core import permissions
from guanxi.reports import selectors
from guanxi.reports.periods import Period, sales_period
from guanxi.sales.models import Deal

if TYPE_CHECKING:
    from guanxi.identity.models import User

AT_RISK_DAYS = 30
VIEWS = ["sales", "manager", "management"]
LEAD_AGE_BUCKETS = [(0, 7), (8, 30), (31, 90), (91, None)]


@dataclass
class Comparison:
    current: Decimal | int
    previous: Decimal | int
    change: float | None = field(init=False)

    def __post_init__(self) -> None:
        self.change = selectors.ratio(Decimal(self.current) - Decimal(self.previous), self.previous)


def views_for(actor: User) -> list[str]:
    """The dashboards ``actor`` may open, widest last."""
    if not permissions.can(actor, "deal", "view"):
        return []
    scope = permissions.scope_of(actor, "deal")
    if scope == "all":
        return VIEWS
    if scope in ("department", "subtree"):
        return VIEWS[:2]
    return VIEWS[:1]


def url(name: str, **params: Any) -> str:
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return reverse(name) + (f"?{query}" if query else "")


# --- Salesperson --------------------------------------------------------------------------


def sales_dashboard(*, actor: User, now: dt.datetime | None = None) -> dict[str, Any]:
    from guanxi.activities.models import Activity, Task
    from guanxi.customers.models import Account
    from guanxi.leads.models import Lead

    now = now or timezone.now()
    today = timezone.localdate(now)
    end_of_day = timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min))
    tasks = Task.objects.filter(assignee=actor, done_at__isnull=True).aggregate(
        overdue=Count("id", filter=Q(due_at__lt=now)),
        today=Count("id", filter=Q(due_at__gte=now, due_at__lt=end_of_day)),
    )
    open_statuses = [Lead.Status.NEW, Lead.Status.CONTACTED, Lead.Status.QUALIFIED]
    my_leads = permissions.scoped_queryset(actor, "lead").filter(
        owner=actor, status__in=open_statuses
    )
    followups_overdue = my_leads.filter(next_followup_at__lt=now).count()
    ages: dict[str, Any] = {}
    for low, high in LEAD_AGE_BUCKETS:
        cond = (
            Q(
                created_at__lt=timezone.make_aware(
                    dt.datetime.combine(today - dt.timedelta(days=low - 1), dt.time.min)
                )
            )
            if low
            else Q()
        )
        if high is not None:
            cond &= Q(
                created_at__gte=timezone.make_aware(
                    dt.datetime.combine(today - dt.timedelta(days=high), dt.time.min)
                )
            )
        ages[f"b{low}"] = Count("id", filter=cond)
    age_counts = my_leads.order_by().aggregate(**ages)
    lead_ages = []
    for low, high in LEAD_AGE_BUCKETS:
        label = f"{low}–{high}" if high is not None else f"> {low - 1}"
        lead_ages.append(
            {
                "label": _("%(days)s days") % {"days": label},
                "count": age_counts[f"b{low}"],
                "url": url(
                    "leads:list",
                    owner="me",
                    created_to=(today - dt.timedelta(days=low)).isoformat(),
                    created_from=(today - dt.timedelta(days=high)).isoformat()
                    if high is not None
                    else "",
                ),
            }
        )
    pipeline_rows = (
        selectors.scoped_deals(actor)
        .filter(owner=actor, status=Deal.Status.OPEN)
        .values("stage_id", "stage__name", "stage__name_en", "stage__position")
        .annotate(n=Count("id"), amount=Sum("amount"))
        .order_by("stage__position", "stage_id")
    )
    masked = "amount" in permissions.masked_fields(actor, "deal")
    pipeline = [
        {
            "stage": r["stage__name"],
            "count": r["n"],
            "amount": None if masked else selectors.money(r["amount"]),
            "url": url("sales:deal_list", owner="me", stage=r["stage_id"], status="open"),
        }
        for r in pipeline_rows
    ]
    cutoff = now - dt.timedelta(days=AT_RISK_DAYS)
    last_touch = (
        Activity.objects.filter(target_entity="account", target_id=OuterRef("pk"))
        .order_by()
        .values("target_id")
        .annotate(last=Max("occurred_at"))
        .values("last")
    )
    at_risk_qs = (
        permissions.scoped_queryset(actor, "account", base=Account.objects.all())
        .filter(
            owner=actor, lifecycle_stage__in=[Account.Lifecycle.CUSTOMER, Account.Lifecycle.VIP]
        )
        .annotate(last_touch=Subquery(last_touch))
        .filter(Q(last_touch__lt=cutoff) | Q(last_touch__isnull=True))
        .order_by("last_touch", "id")
    )
    at_risk = [
        {
            "name": a.name,
            "last_touch": a.last_touch,
            "url": reverse("customers:account_detail", args=[a.pk]),
        }
        for a in at_risk_qs[:10]
    ]
    return {
        "tasks_today": tasks["today"],
        "tasks_overdue": tasks["overdue"],
        "tasks_url": reverse("activities:my_day"),
        "followups_overdue": followups_overdue,
        "followups_url": url("leads:list", owner="me", sort="next_followup_at"),
        "pipeline": pipeline,
        "lead_ages": lead_ages,
        "at_risk": at_risk,
        "at_risk_days": AT_RISK_DAYS,
    }


# --- Manager ------------------------------------------------------------------------------


def manager_dashboard(*, actor: User, period: Period, department: Any = None) -> dict[str, Any]:
    funnel = selectors.funnel(actor=actor, period=period, department=department)
    for row in funnel["stages"]:
        row["url"] = url(
            "sales:deal_list",
            reached_stage=row["stage_id"],
            reached_from=period.start.isoformat(),
            reached_to=period.last_day.isoformat(),
            department=department,
        )
    performance = selectors.performance(actor=actor, period=period, department=department)
    lost = selectors.lost(actor=actor, period=period, department=department)
    for row in lost["by_reason"]:
        row["url"] = url(
            "sales:deal_list",
            status="lost",
            loss_reason=row["reason_id"],
            closed_from=period.start.isoformat(),
            closed_to=period.last_day.isoformat(),
            department=department,
        )
    activity = sorted(performance["users"], key=lambda r: (-r["followups"], r["user"]))
    return {
        "forecast": forecast_card(actor=actor, period=period),
        "funnel": funnel,
        "ranking": performance["users"][:10],
        "activity": activity[:10],
        "lost": lost,
    }


def forecast_card(*, actor: User, period: Period) -> dict[str, Any]:
    """Forecast against target (the sales app's forecast) for the period's month, quarter
    or year: committed, weighted, best case, target and attainment per currency."""
    from guanxi.sales import forecast

    sp = sales_period(period)
    result = forecast.deal_forecast(actor=actor, period=sp, group_by="owner")
    return {
        "period": sp.key,
        "totals": result.totals,
        "url": url("forecast:forecast", period=sp.key),
    }


def quality_ranking(*, actor: User) -> list[dict[str, Any]]:
    """Owners by the completeness of their leads (the importing app's 数据之星)."""
    from guanxi.importing import quality

    return quality.owner_ranking(actor=actor, entity_key="lead", limit=10)


# --- Management ---------------------------------------------------------------------------


def _revenue(actor: User, period: Period, department: Any) -> tuple[Decimal, int]:
    row = (
        selectors.scoped_deals(actor, department=department)
        .filter(status=Deal.Status.WON, won_at__gte=period.start_at, won_at__lt=period.end_at)
        .aggregate(total=Sum("amount"), n=Count("id"))
    )
    return selectors.money(row["total"]), row["n"]


def _new_customers(actor: User, period: Period, department: Any) -> int:
    earlier = Deal.objects.filter(status=Deal.Status.WON, won_at__lt=period.start_at).values(
        "account_id"
    )
    return (
        selectors.scoped_deals(actor, department=department)
        .filter(status=Deal.Status.WON, won_at__gte=period.start_at, won_at__lt=period.end_at)
        .exclude(account_id__in=earlier)
        .aggregate(n=Count("account_id", distinct=True))["n"]
    )


def _received(actor: User, period: Period, department: Any) -> Decimal:
    from guanxi.finance.models import Receipt

    qs = permissions.scoped_queryset(actor, "payment", base=Receipt.objects.order_by())
    qs = selectors._owner_filter(
        qs, actor=actor, owner=None, department=department, field="contract__owner"
    )
    row = qs.filter(received_on__gte=period.start, received_on__lt=period.end).aggregate(
        total=Sum("amount")
    )
    return selectors.money(row["total"])


def finance_cards(*, actor: User, period: Period, department: Any = None) -> dict[str, Any]:
    """Received money (回款) against the previous period and the receivables still open
    (total and overdue, per currency) from the finance app's aging."""
    if not permissions.can(actor, "payment", "view"):
        return {}
    from guanxi.finance import receivables

    prev = period.previous()
    return {
        "received": Comparison(
            _received(actor, period, department), _received(actor, prev, department)
        ),
        "receivables": receivables.aging_summary(actor=actor),
        "receivables_url": reverse("finance:receivables"),
    }


def management_dashboard(*, actor: User, period: Period, department: Any = None) -> dict[str, Any]:
    prev = period.previous()
    won, won_n = _revenue(actor, period, department)
    won_prev, won_n_prev = _revenue(actor, prev, department)
    masked = "amount" in permissions.masked_fields(actor, "deal")
    return {
        "won": None if masked else Comparison(won, won_prev),
        "won_count": Comparison(won_n, won_n_prev),
        "won_url": url(
            "sales:deal_list",
            status="won",
            closed_from=period.start.isoformat(),
            closed_to=period.last_day.isoformat(),
            department=department,
        ),
        "new_customers": Comparison(
            _new_customers(actor, period, department), _new_customers(actor, prev, department)
        ),
        "channels": selectors.channels(actor=actor, period=period)["rows"],
        "previous": prev,
        **finance_cards(actor=actor, period=period, department=department),
    }
