"""Report figures, every one computed with GROUP BY queries over the viewer's data scope.

All record sets start from :func:`guanxi.core.permissions.scoped_queryset`, so a
salesperson's funnel counts their own deals (and those they collaborate on) and a
manager's the deals of their department tree. Nothing here aggregates an unscoped table.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import (
    Avg,
    Case,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core import permissions
from guanxi.core.errors import FieldError, ValidationFailed
from guanxi.reports.models import CampaignCost
from guanxi.reports.periods import Period
from guanxi.sales.models import Deal, DealStageChange, LossReason, Pipeline, Stage

if TYPE_CHECKING:
    from guanxi.identity.models import User

CENT = Decimal("0.01")


def money(value: Any) -> Decimal:
    return Decimal(value or 0).quantize(CENT, rounding=ROUND_HALF_UP)


def ratio(part: Any, whole: Any, places: int = 4) -> float | None:
    """``part / whole`` rounded, or None when there is nothing to divide by."""
    if not whole:
        return None
    return round(float(part or 0) / float(whole), places)


def _int(field: str, value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationFailed([FieldError(field, _("Enter a number (an id)."))]) from None


def _owner_filter(
    qs: QuerySet[Any], *, actor: User, owner: Any, department: Any, field: str = "owner"
) -> QuerySet[Any]:
    """Narrow a scoped queryset to one owner ("me" or an id) and/or a department subtree."""
    from guanxi.identity.models import Department
    from guanxi.identity.models import User as UserModel

    if owner not in (None, ""):
        qs = qs.filter(**{f"{field}_id": actor.pk if str(owner) == "me" else _int("owner", owner)})
    if department not in (None, ""):
        dept = Department.objects.filter(pk=_int("department", department)).first()
        if dept is None:
            raise ValidationFailed([FieldError("department", _("No such department."))])
        members = UserModel.objects.filter(department__path__startswith=dept.path).values("id")
        qs = qs.filter(**{f"{field}_id__in": members})
    return qs


def scoped_deals(actor: User, *, owner: Any = None, department: Any = None) -> QuerySet[Deal]:
    qs = permissions.scoped_queryset(actor, "deal", base=Deal.objects.order_by())
    return _owner_filter(qs, actor=actor, owner=owner, department=department)


def pipeline_for(value: Any) -> Pipeline:
    if value in (None, ""):
        pipeline = Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.first()
        if pipeline is None:
            raise ValidationFailed([FieldError("pipeline", _("There is no pipeline yet."))])
        return pipeline
    found = Pipeline.objects.filter(pk=_int("pipeline", value)).first()
    if found is None:
        raise ValidationFailed([FieldError("pipeline", _("No such pipeline."))])
    return found


# --- Funnel -------------------------------------------------------------------------------


def funnel(
    *,
    actor: User,
    period: Period,
    pipeline: Any = None,
    owner: Any = None,
    department: Any = None,
) -> dict[str, Any]:
    """How many deals reached each open stage of ``pipeline`` during ``period``.

    Rules (decision 0008-charts, "The funnel"): a deal reached stage S in the period when one of
    its stage changes in the period entered S *or a later stage* (so a deal that skips a
    stage counts as having passed it, and a won deal has passed every open stage); each deal
    counts at most once per stage however often it moves back and forth. ``won`` / ``lost``
    count deals that entered a won / lost stage in the period. ``conversion_rate`` of a
    stage is its count over the previous stage's (None for the first); ``won`` over the
    last open stage, plus ``win_rate`` = won / (won + lost). ``avg_days_in_stage`` averages
    the time deals spent in a stage before leaving it in the period. ``amount`` sums the
    deals' current amounts (masked roles get null).
    """
    pipe = pipeline_for(pipeline)
    stages = list(Stage.objects.filter(pipeline=pipe).order_by("position", "id"))
    open_stages = [s for s in stages if s.kind == Stage.Kind.OPEN]
    won_ids = [s.pk for s in stages if s.kind == Stage.Kind.WON]
    lost_ids = [s.pk for s in stages if s.kind == Stage.Kind.LOST]
    top = len(open_stages)
    deals = scoped_deals(actor, owner=owner, department=department).filter(pipeline=pipe)
    masked = "amount" in permissions.masked_fields(actor, "deal")
    rank = Case(
        *[When(to_stage_id=s.pk, then=Value(i + 1)) for i, s in enumerate(open_stages)],
        When(to_stage_id__in=won_ids or [0], then=Value(top)),
        default=Value(0),
        output_field=IntegerField(),
    )
    per_deal = (
        DealStageChange.objects.filter(
            deal_id__in=deals.values("id"),
            changed_at__gte=period.start_at,
            changed_at__lt=period.end_at,
            to_stage__pipeline=pipe,
        )
        .order_by()
        .values("deal_id")
        .annotate(
            reached=Max(rank),
            won=Max(Case(When(to_stage_id__in=won_ids or [0], then=Value(1)), default=Value(0))),
            lost=Max(Case(When(to_stage_id__in=lost_ids or [0], then=Value(1)), default=Value(0))),
            amount=Max("deal__amount"),
        )
    )
    inner_sql, params = per_deal.query.sql_with_params()
    q = connection.ops.quote_name
    sql = (
        f"SELECT m.{q('reached')}, m.{q('won')}, m.{q('lost')}, COUNT(*), SUM(m.{q('amount')}) "
        f"FROM ({inner_sql}) m GROUP BY 1, 2, 3"
    )
    by_rank: Counter[int] = Counter()
    amount_by_rank: dict[int, Decimal] = {}
    won_count = lost_count = 0
    won_amount = lost_amount = Decimal(0)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for reached, won, lost, count, amount in cursor.fetchall():
            by_rank[int(reached or 0)] += count
            amount_by_rank[int(reached or 0)] = amount_by_rank.get(
                int(reached or 0), Decimal(0)
            ) + Decimal(amount or 0)
            if won:
                won_count += count
                won_amount += Decimal(amount or 0)
            if lost:
                lost_count += count
                lost_amount += Decimal(amount or 0)
    durations = {
        row["from_stage_id"]: row["avg"]
        for row in DealStageChange.objects.filter(
            deal_id__in=deals.values("id"),
            changed_at__gte=period.start_at,
            changed_at__lt=period.end_at,
            from_stage__in=[s.pk for s in open_stages],
            time_in_from_stage__isnull=False,
        )
        .order_by()
        .values("from_stage_id")
        .annotate(avg=Avg("time_in_from_stage"))
    }
    rows: list[dict[str, Any]] = []
    previous: int | None = None
    for i, stage in enumerate(open_stages):
        r = i + 1
        count = sum(n for k, n in by_rank.items() if k >= r)
        amount = sum((a for k, a in amount_by_rank.items() if k >= r), Decimal(0))
        avg = durations.get(stage.pk)
        rows.append(
            {
                "stage": stage.label,
                "stage_id": stage.pk,
                "count": count,
                "amount": None if masked else str(money(amount)),
                "conversion_rate": None if previous is None else ratio(count, previous),
                "avg_days_in_stage": None if avg is None else round(avg.total_seconds() / 86400, 1),
            }
        )
        previous = count
    last = rows[-1]["count"] if rows else 0
    return {
        "pipeline": {"id": pipe.pk, "name": pipe.label},
        "date_from": period.start.isoformat(),
        "date_to": period.last_day.isoformat(),
        "stages": rows,
        "won": {
            "count": won_count,
            "amount": None if masked else str(money(won_amount)),
            "conversion_rate": ratio(won_count, last),
            "win_rate": ratio(won_count, won_count + lost_count),
        },
        "lost": {
            "count": lost_count,
            "amount": None if masked else str(money(lost_amount)),
            "rate": ratio(lost_count, won_count + lost_count),
        },
    }


# --- Channels -----------------------------------------------------------------------------


def channels(*, actor: User, period: Period) -> dict[str, Any]:
    """Leads, conversions, won deals, cost, cost per lead, ROI and CAC per lead source.

    ``leads``: leads created in the period; ``converted``: those of them converted (at any
    time so far); ``deals_won`` / ``won_amount``: deals from the source won in the period;
    ``customers``: distinct accounts among them; ``cost``: campaign costs of the months
    the period touches (company-wide; null for users without ``campaign_cost`` view);
    ``roi`` = (won_amount − cost) / cost; ``cac`` = cost / customers.
    """
    from guanxi.leads.models import LeadSource

    leads = permissions.scoped_queryset(actor, "lead").order_by()
    lead_rows = {
        r["source_id"]: r
        for r in leads.filter(created_at__gte=period.start_at, created_at__lt=period.end_at)
        .values("source_id")
        .annotate(leads=Count("id"), converted=Count("id", filter=Q(converted_at__isnull=False)))
    }
    deal_rows = {
        r["source_id"]: r
        for r in scoped_deals(actor)
        .filter(status=Deal.Status.WON, won_at__gte=period.start_at, won_at__lt=period.end_at)
        .values("source_id")
        .annotate(
            deals_won=Count("id"),
            won_amount=Sum("amount"),
            customers=Count("account_id", distinct=True),
        )
    }
    see_cost = permissions.can(actor, "campaign_cost", "view")
    costs: dict[int, Decimal] = {}
    if see_cost:
        costs = {
            r["source_id"]: r["cost"]
            for r in CampaignCost.objects.filter(
                month__gte=period.start.replace(day=1), month__lt=period.end
            )
            .order_by()
            .values("source_id")
            .annotate(cost=Sum("amount"))
        }
    masked = "amount" in permissions.masked_fields(actor, "deal")
    sources = {s.pk: s for s in LeadSource.objects.all()}
    keys = sorted(
        set(lead_rows) | set(deal_rows) | set(costs),
        key=lambda k: (k is None, sources[k].position if k in sources else 0, k or 0),
    )
    rows = []
    for key in keys:
        lr, dr = lead_rows.get(key, {}), deal_rows.get(key, {})
        n_leads, converted = lr.get("leads", 0), lr.get("converted", 0)
        won_amount = money(dr.get("won_amount"))
        cost = money(costs.get(key)) if see_cost else None
        customers = dr.get("customers", 0)
        source = sources.get(key) if key is not None else None
        rows.append(
            {
                "source": source.code if source else None,
                "source_id": key,
                "source_name": source.name_zh if source else _("(no source)"),
                "leads": n_leads,
                "converted": converted,
                "conversion_rate": ratio(converted, n_leads),
                "deals_won": dr.get("deals_won", 0),
                "customers": customers,
                "won_amount": None if masked else str(won_amount),
                "cost": None if cost is None else str(cost),
                "cost_per_lead": None
                if cost is None or not n_leads
                else str(money(cost / n_leads)),
                "cac": None if cost is None or not customers else str(money(cost / customers)),
                "roi": None
                if cost is None or not cost or masked
                else ratio(won_amount - cost, cost),
            }
        )
    return {
        "date_from": period.start.isoformat(),
        "date_to": period.last_day.isoformat(),
        "rows": rows,
    }


# --- Performance --------------------------------------------------------------------------


def _won_in(deals: QuerySet[Deal], period: Period) -> QuerySet[Deal]:
    return deals.filter(
        status=Deal.Status.WON, won_at__gte=period.start_at, won_at__lt=period.end_at
    )


def performance(*, actor: User, period: Period, department: Any = None) -> dict[str, Any]:
    """Per user and per department: follow-ups, new leads, new customers, deals won, won
    amount, receipts (回款 received in the period on the user's contracts; null without
    ``payment`` view), won-amount target attainment (%, null without a target; for the
    month / quarter / year the period stands for) and average cycle length (days from a won deal's creation to its win).

    A "new customer" is an account whose first won deal falls in the period. Each figure
    counts only records in ``actor``'s scope for its entity.
    """
    from guanxi.activities.models import Activity
    from guanxi.identity.models import User as UserModel
    from guanxi.leads.models import Lead

    def by_owner(qs: QuerySet[Any], **ann: Any) -> dict[int, dict[str, Any]]:
        return {r["owner_id"]: r for r in qs.order_by().values("owner_id").annotate(**ann)}

    acts = _owner_filter(
        permissions.scoped_queryset(actor, "activity", base=Activity.objects.all()),
        actor=actor,
        owner=None,
        department=department,
    ).filter(occurred_at__gte=period.start_at, occurred_at__lt=period.end_at)
    leads = _owner_filter(
        permissions.scoped_queryset(actor, "lead", base=Lead.objects.all()),
        actor=actor,
        owner=None,
        department=department,
    ).filter(created_at__gte=period.start_at, created_at__lt=period.end_at)
    deals = scoped_deals(actor, department=department)
    won = _won_in(deals, period)
    earlier = Deal.objects.filter(status=Deal.Status.WON, won_at__lt=period.start_at).values(
        "account_id"
    )
    cycle = ExpressionWrapper(F("won_at") - F("created_at"), output_field=DurationField())
    figures = {
        "followups": by_owner(acts, n=Count("id")),
        "new_leads": by_owner(leads, n=Count("id")),
        "new_customers": by_owner(
            won.exclude(account_id__in=earlier), n=Count("account_id", distinct=True)
        ),
        "won": by_owner(won, n=Count("id"), amount=Sum("amount"), cycle=Avg(cycle)),
    }
    attainment = _attainment(actor, period)
    receipts: dict[int, Decimal] = {}
    see_receipts = permissions.can(actor, "payment", "view")
    if see_receipts:
        from guanxi.finance.models import Receipt

        pay = permissions.scoped_queryset(actor, "payment", base=Receipt.objects.all())
        pay = _owner_filter(
            pay, actor=actor, owner=None, department=department, field="contract__owner"
        ).filter(received_on__gte=period.start, received_on__lt=period.end)
        receipts = {
            r["contract__owner_id"]: r["total"]
            for r in pay.order_by().values("contract__owner_id").annotate(total=Sum("amount"))
        }
    figures["receipts"] = {k: {"n": v} for k, v in receipts.items()}
    owner_ids = {k for rows in figures.values() for k in rows if k is not None}
    users = {
        u.pk: u for u in UserModel.objects.filter(pk__in=owner_ids).select_related("department")
    }
    masked = "amount" in permissions.masked_fields(actor, "deal")
    rows = []
    for uid in owner_ids:
        user = users[uid]
        w = figures["won"].get(uid, {})
        cyc = w.get("cycle")
        rows.append(
            {
                "user_id": uid,
                "user": user.label,
                "department_id": user.department_id,
                "department": user.department.name if user.department else "",
                "followups": figures["followups"].get(uid, {}).get("n", 0),
                "new_leads": figures["new_leads"].get(uid, {}).get("n", 0),
                "new_customers": figures["new_customers"].get(uid, {}).get("n", 0),
                "deals_won": w.get("n", 0),
                "won_amount": None if masked else str(money(w.get("amount"))),
                "avg_cycle_days": None if cyc is None else round(cyc.total_seconds() / 86400, 1),
                "receipts": str(money(receipts.get(uid))) if see_receipts else None,
                "target_attainment": attainment["user"].get(uid),
                "_receipts": money(receipts.get(uid)),
                "_amount": money(w.get("amount")),
                "_cycle_total": (cyc.total_seconds() * w.get("n", 0)) if cyc else 0.0,
            }
        )
    rows.sort(key=lambda r: (-r["_amount"], -r["deals_won"], r["user"]))
    departments: dict[Any, dict[str, Any]] = {}
    for r in rows:
        d = departments.setdefault(
            r["department_id"],
            {
                "department_id": r["department_id"],
                "department": r["department"],
                "followups": 0,
                "new_leads": 0,
                "new_customers": 0,
                "deals_won": 0,
                "_amount": Decimal(0),
                "_cycle_total": 0.0,
                "_receipts": Decimal(0),
            },
        )
        for key in (
            "followups",
            "new_leads",
            "new_customers",
            "deals_won",
            "_amount",
            "_cycle_total",
        ):
            d[key] += r[key]
    dept_rows = []
    for d in departments.values():
        d["won_amount"] = None if masked else str(money(d["_amount"]))
        d["receipts"] = str(money(d["_receipts"])) if see_receipts else None
        d["target_attainment"] = attainment["department"].get(d["department_id"])
        d["avg_cycle_days"] = (
            round(d["_cycle_total"] / d["deals_won"] / 86400, 1) if d["deals_won"] else None
        )
        dept_rows.append(d)
    dept_rows.sort(key=lambda r: (-r["_amount"], r["department"]))
    for r in [*rows, *dept_rows]:
        r.pop("_amount")
        r.pop("_cycle_total")
        r.pop("_receipts")
    return {
        "date_from": period.start.isoformat(),
        "date_to": period.last_day.isoformat(),
        "users": rows,
        "departments": dept_rows,
    }


def _attainment(actor: User, period: Period) -> dict[str, dict[Any, str | None]]:
    """Won-amount attainment (%) per user and department from the sales targets, for the
    month / quarter / year that the period stands for (see periods.sales_period)."""
    from guanxi.reports.periods import sales_period
    from guanxi.sales import forecast

    result = forecast.attainment(actor=actor, period=sales_period(period), measure="won_amount")
    out: dict[str, dict[Any, str | None]] = {"user": {}, "department": {}}
    for kind, lines in (("user", result.users), ("department", result.departments)):
        for line in lines:
            pct = line.percent
            out[kind][line.id] = None if pct is None else str(pct)
    return out


# --- Customers ----------------------------------------------------------------------------

DIMENSIONS = ["industry", "province", "tier", "size", "lifecycle_stage"]


def customers(*, actor: User, top: int = 10) -> dict[str, Any]:
    """Accounts in scope by industry, region (province), tier, size and lifecycle stage;
    the top accounts by won amount; the repeat-purchase rate (accounts with two or more
    won deals over accounts with at least one)."""
    from guanxi.customers.models import Account

    accounts = permissions.scoped_queryset(actor, "account", base=Account.objects.order_by())
    distribution = {}
    for dim in DIMENSIONS:
        distribution[dim] = [
            {"value": r[dim] or "", "count": r["n"]}
            for r in accounts.values(dim).annotate(n=Count("id")).order_by("-n", dim)[:20]
        ]
    won = scoped_deals(actor).filter(status=Deal.Status.WON)
    per_account = won.values("account_id").annotate(n=Count("id"))
    buyers = per_account.aggregate(
        buyers=Count("account_id"), repeat=Count("account_id", filter=Q(n__gte=2))
    )
    masked = "amount" in permissions.masked_fields(actor, "deal")
    top_rows = [
        {
            "account_id": r["account_id"],
            "account": r["account__name"],
            "deals_won": r["n"],
            "won_amount": None if masked else str(money(r["total"])),
        }
        for r in won.values("account_id", "account__name")
        .annotate(n=Count("id"), total=Sum("amount"))
        .order_by("-total", "account_id")[:top]
    ]
    return {
        "distribution": distribution,
        "top_customers": top_rows,
        "buyers": buyers["buyers"],
        "repeat_buyers": buyers["repeat"],
        "repeat_purchase_rate": ratio(buyers["repeat"], buyers["buyers"]),
    }


# --- Lost deals ---------------------------------------------------------------------------


def lost(*, actor: User, period: Period, department: Any = None) -> dict[str, Any]:
    """Deals lost in the period by loss reason, by competitor named on the deal and by the
    stage they were lost at (the stage they left for a lost stage)."""
    deals = scoped_deals(actor, department=department).filter(
        status=Deal.Status.LOST, lost_at__gte=period.start_at, lost_at__lt=period.end_at
    )
    masked = "amount" in permissions.masked_fields(actor, "deal")
    reasons = {r.pk: r for r in LossReason.objects.all()}
    by_reason = [
        {
            "reason_id": r["loss_reason_id"],
            "reason": reasons[r["loss_reason_id"]].label
            if r["loss_reason_id"] in reasons
            else _("(no reason)"),
            "count": r["n"],
            "amount": None if masked else str(money(r["total"])),
        }
        for r in deals.values("loss_reason_id")
        .annotate(n=Count("id"), total=Sum("amount"))
        .order_by("-n")
    ]
    competitors: Counter[str] = Counter()
    for names in deals.values_list("competitors", flat=True).iterator():
        for name in {str(n).strip() for n in (names or []) if str(n).strip()}:
            competitors[name] += 1
    by_stage = [
        {"stage": r["from_stage_name"] or _("(none)"), "count": r["n"]}
        for r in DealStageChange.objects.filter(
            deal_id__in=deals.values("id"),
            to_stage__kind=Stage.Kind.LOST,
            changed_at__gte=period.start_at,
            changed_at__lt=period.end_at,
        )
        .order_by()
        .values("from_stage_name")
        .annotate(n=Count("deal_id", distinct=True))
        .order_by("-n", "from_stage_name")
    ]
    return {
        "date_from": period.start.isoformat(),
        "date_to": period.last_day.isoformat(),
        "count": sum(r["count"] for r in by_reason),
        "by_reason": by_reason,
        "by_competitor": [{"competitor": k, "count": v} for k, v in competitors.most_common(20)],
        "by_stage": by_stage,
    }


# --- Campaign costs -----------------------------------------------------------------------


def campaign_cost_list(*, actor: User, year: int | None = None) -> list[CampaignCost]:
    qs = permissions.scoped_queryset(
        actor, "campaign_cost", base=CampaignCost.objects.select_related("source")
    )
    if year:
        qs = qs.filter(month__year=year)
    return list(qs.order_by("-month", "source__position", "source_id")[:500])


def campaign_cost_as_dict(cost: CampaignCost) -> dict[str, Any]:
    return {
        "id": cost.pk,
        "source": cost.source.code,
        "source_name": cost.source.name_zh,
        "month": f"{cost.month:%Y-%m}",
        "amount": str(money(cost.amount)),
        "currency": cost.currency,
        "note": cost.note,
        "created_at": cost.created_at.isoformat(),
        "updated_at": cost.updated_at.isoformat(),
    }


def now() -> dt.datetime:
    return timezone.now()
