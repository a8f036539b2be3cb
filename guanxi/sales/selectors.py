"""Every read of deals: scoped (core.permissions), masked, paginated, no N+1; the kanban."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core import permissions
from guanxi.core.errors import FieldError, ValidationFailed
from guanxi.core.pagination import Page, paginate
from guanxi.customers.listing import apply_sort, base_dict, iso, json_list_has
from guanxi.sales.models import Deal, DealContact, DealStageChange, LossReason, Pipeline, Stage

if TYPE_CHECKING:
    from guanxi.customers.models import Account
    from guanxi.identity.models import User

DEAL_SORTABLE = {
    "created_at",
    "updated_at",
    "name",
    "amount",
    "expected_close_date",
    "probability",
    "stage_changed_at",
}
FILTERS = ("owner", "stage", "pipeline", "account", "status", "close_month", "tag", "department")
KANBAN_COLUMN_SIZE = 50
# Won and lost columns of the board show what closed recently, not years of history.
CLOSED_RECENT_DAYS = 30
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


def _deals() -> QuerySet[Deal]:
    return Deal.objects.select_related("owner", "account", "stage", "pipeline", "source")


def _int_filter(name: str, value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationFailed([FieldError(name, _("Enter a number (an id)."))]) from None


def month_range(value: str) -> tuple[dt.date, dt.date]:
    """``2026-03`` → (2026-03-01, 2026-04-01); 422 on ``close_month`` otherwise."""
    match = _MONTH.match(str(value).strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValidationFailed([FieldError("close_month", _("Enter a month as YYYY-MM."))])
    year, month = int(match.group(1)), int(match.group(2))
    start = dt.date(year, month, 1)
    end = dt.date(year + (month == 12), month % 12 + 1, 1)
    return start, end


def apply_filters(qs: QuerySet[Deal], *, filters: dict[str, Any], actor: User) -> QuerySet[Deal]:
    """owner (id or "me"), stage, pipeline, account (ids), status (open / won / lost),
    close_month (YYYY-MM of the expected close date), tag, department (owner's, with
    sub-departments)."""
    for name, value in filters.items():
        if value in (None, "", []):
            continue
        if name == "owner":
            qs = qs.filter(owner_id=actor.pk if str(value) == "me" else _int_filter(name, value))
        elif name in ("stage", "pipeline", "account"):
            qs = qs.filter(**{f"{name}_id": _int_filter(name, value)})
        elif name == "status":
            if value not in Deal.Status.values:
                raise ValidationFailed(
                    [
                        FieldError(
                            "status",
                            _("Choose one of: %(c)s.") % {"c": ", ".join(Deal.Status.values)},
                        )
                    ]
                )
            qs = qs.filter(status=value)
        elif name == "close_month":
            start, end = month_range(value)
            qs = qs.filter(expected_close_date__gte=start, expected_close_date__lt=end)
        elif name == "tag":
            qs = qs.filter(json_list_has("tags", str(value)))
        elif name == "department":
            from guanxi.identity.models import Department, User

            dept = Department.objects.filter(pk=_int_filter(name, value)).first()
            if dept is None:
                raise ValidationFailed([FieldError("department", _("No such department."))])
            members = User.objects.filter(department__path__startswith=dept.path).values("id")
            qs = qs.filter(owner_id__in=members)
        elif name == "q":
            qs = qs.filter(Q(name__icontains=value) | Q(account__name__icontains=value))
        elif name == "loss_reason":
            qs = qs.filter(loss_reason_id=_int_filter(name, value))
        elif name == "reached_stage":
            qs = qs.filter(pk__in=_reached(_int_filter(name, value), filters))
        elif name in ("closed_from", "closed_to"):
            day = _day_filter(name, value)
            when = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
            if name == "closed_from":
                qs = qs.filter(Q(won_at__gte=when) | Q(lost_at__gte=when))
            else:
                end = when + dt.timedelta(days=1)
                qs = qs.filter(Q(won_at__lt=end) | Q(lost_at__lt=end))
        elif name in ("reached_from", "reached_to"):
            continue  # read with reached_stage
        else:
            raise ValidationFailed([FieldError(name, _("Unknown filter."))])
    return qs


def _day_filter(name: str, value: Any) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationFailed([FieldError(name, _("Enter a date as YYYY-MM-DD."))]) from None


def _reached(stage_id: int, filters: dict[str, Any]) -> QuerySet[Any]:
    """Ids of deals that reached ``stage_id`` between ``reached_from`` and ``reached_to``
    (days, inclusive) by the funnel report's rule: a change into the stage, a later open
    stage or a won stage of its pipeline (see guanxi.reports.selectors.funnel)."""
    stage = Stage.objects.filter(pk=stage_id).first()
    if stage is None:
        raise ValidationFailed([FieldError("reached_stage", _("No such stage."))])
    later = [
        s.pk
        for s in Stage.objects.filter(pipeline_id=stage.pipeline_id)
        if (s.kind == Stage.Kind.OPEN and (s.position, s.pk) >= (stage.position, stage.pk))
        or s.kind == Stage.Kind.WON
    ]
    changes = DealStageChange.objects.filter(to_stage_id__in=later)
    if filters.get("reached_from"):
        day = _day_filter("reached_from", filters["reached_from"])
        changes = changes.filter(
            changed_at__gte=timezone.make_aware(dt.datetime.combine(day, dt.time.min))
        )
    if filters.get("reached_to"):
        day = _day_filter("reached_to", filters["reached_to"]) + dt.timedelta(days=1)
        changes = changes.filter(
            changed_at__lt=timezone.make_aware(dt.datetime.combine(day, dt.time.min))
        )
    return changes.values("deal_id")


def deal_list(
    *,
    actor: User,
    q: str = "",
    filters: dict[str, Any] | None = None,
    sort: str = "-created_at",
    page: Any = 1,
    page_size: Any = 50,
) -> Page:
    """A page of the deals ``actor`` may see (own scope plus collaborations)."""
    qs = permissions.scoped_queryset(actor, "deal", base=_deals())
    given = {k: v for k, v in (filters or {}).items() if k != "custom"}
    if q.strip():
        given["q"] = q.strip()
    qs = apply_filters(qs, filters=given, actor=actor)
    custom = (filters or {}).get("custom")
    if custom:
        from guanxi.core import custom_fields

        qs = custom_fields.filter_queryset(qs, "deal", dict(custom))
    qs = _sort(qs, sort)
    return paginate(qs, page, page_size)


def _sort(qs: QuerySet[Deal], sort: str) -> QuerySet[Deal]:
    name = (sort or "-created_at").lstrip("-")
    if name == "name":  # deals carry no pinyin key: sort by the name itself
        return qs.order_by("-name" if sort.startswith("-") else "name", "-id")
    return apply_sort(qs, entity_key="deal", sort=sort, allowed=DEAL_SORTABLE)


def deal_get_for_user(*, actor: User, pk: Any, action: str = "view") -> Deal:
    return permissions.get_for_user(actor, "deal", pk, action, base=_deals())


def money(value: Decimal | None) -> str | None:
    if value is None:
        return None
    return str(Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def deal_as_dict(*, actor: User, deal: Deal, mask: set[str] | None = None) -> dict[str, Any]:
    """The JSON of a deal, masked for ``actor`` (DESIGN §3 style)."""
    data: dict[str, Any] = {
        **base_dict(deal),
        "name": deal.name,
        "account": {"id": deal.account_id, "name": deal.account.name},
        "pipeline": {"id": deal.pipeline_id, "name": deal.pipeline.name},
        "stage": {
            "id": deal.stage_id,
            "name": deal.stage.name,
            "kind": deal.stage.kind,
            "probability": deal.stage.probability,
        },
        "status": deal.status,
        "amount": money(deal.amount),
        "currency": deal.currency,
        "expected_close_date": iso(deal.expected_close_date),
        "probability": deal.probability,
        "source": deal.source.code if deal.source_id and deal.source else None,
        "lead_id": deal.lead_id,
        "competitors": list(deal.competitors or []),
        "next_step": deal.next_step,
        "tags": list(deal.tags or []),
        "won_at": iso(deal.won_at),
        "lost_at": iso(deal.lost_at),
        "loss_reason": deal.loss_reason_id,
        "loss_note": deal.loss_note,
        "stage_changed_at": iso(deal.stage_changed_at),
        "position": deal.position,
    }
    return permissions.apply_mask(actor, "deal", data, mask)


def deal_detail_extras(*, actor: User, deal: Deal) -> dict[str, Any]:
    """Collaborators, contacts with roles (masked by the contact rules), stage history."""
    from guanxi.customers.selectors import contact_as_dict

    contacts = []
    if permissions.can(actor, "contact", "view"):
        visible = permissions.scoped_queryset(actor, "contact").values("id")
        rows = (
            DealContact.objects.filter(deal=deal, contact_id__in=visible)
            .select_related("contact", "contact__owner", "contact__account")
            .order_by("id")
        )
        mask = permissions.masked_fields(actor, "contact")
        contacts = [
            {
                "contact": r.contact,
                "role": r.role,
                "role_label": r.get_role_display(),
                "data": contact_as_dict(actor=actor, contact=r.contact, mask=mask),
            }
            for r in rows
        ]
    history = list(
        DealStageChange.objects.filter(deal=deal)
        .select_related("actor")
        .order_by("changed_at", "id")
    )
    return {
        "collaborators": list(deal.collaborators.all()),
        "contacts": contacts,
        "stage_history": history,
        "loss_reason": deal.loss_reason if deal.loss_reason_id else None,
    }


def deal_contacts_as_list(*, actor: User, deal: Deal) -> list[dict[str, Any]]:
    return [
        {"contact_id": c["contact"].pk, "name": c["contact"].name, "role": c["role"]}
        for c in deal_detail_extras(actor=actor, deal=deal)["contacts"]
    ]


def account_deals(*, actor: User, account: Account, limit: int = 20) -> dict[str, Any]:
    """The deals of an account the actor may see, and its won-deal count and total
    (repeat purchases), in two queries."""
    if not permissions.can(actor, "deal", "view"):
        return {"deals": [], "won_count": 0, "won_totals": [], "open_count": 0}
    qs = permissions.scoped_queryset(actor, "deal", base=_deals()).filter(account=account)
    deals = list(qs.order_by("-created_at", "-id")[:limit])
    totals = list(
        qs.order_by()
        .values("status", "currency")
        .annotate(n=Count("id"), total=Coalesce(Sum("amount"), Value(Decimal("0"))))
    )
    won = [t for t in totals if t["status"] == Deal.Status.WON]
    return {
        "deals": deals,
        "won_count": sum(t["n"] for t in won),
        "won_totals": [(t["currency"], money(t["total"])) for t in won],
        "open_count": sum(t["n"] for t in totals if t["status"] == Deal.Status.OPEN),
        "amount_masked": "amount" in permissions.masked_fields(actor, "deal"),
    }


# --- Pipelines --------------------------------------------------------------------------


def pipeline_list(*, active_only: bool = True) -> list[Pipeline]:
    """Pipelines with their stages (two queries). Not customer data: no scope."""
    qs = Pipeline.objects.order_by("position", "id").prefetch_related("stages")
    if active_only:
        qs = qs.filter(active=True)
    return list(qs)


def loss_reason_list(*, active_only: bool = True) -> list[LossReason]:
    qs = LossReason.objects.order_by("position", "id")
    if active_only:
        qs = qs.filter(active=True)
    return list(qs)


def pipeline_as_dict(pipeline: Pipeline) -> dict[str, Any]:
    return {
        "id": pipeline.pk,
        "name": pipeline.name,
        "name_en": pipeline.name_en,
        "is_default": pipeline.is_default,
        "position": pipeline.position,
        "active": pipeline.active,
        "stages": [
            {
                "id": s.pk,
                "name": s.name,
                "name_en": s.name_en,
                "position": s.position,
                "probability": s.probability,
                "kind": s.kind,
                "required_fields": list(s.required_fields or []),
            }
            for s in sorted(pipeline.stages.all(), key=lambda s: (s.position, s.pk))
        ],
    }


# --- Kanban -----------------------------------------------------------------------------


@dataclass
class Card:
    """What a kanban card shows: read as plain values (no model instances), so a board of
    hundreds of cards renders fast."""

    id: int
    name: str
    account: str
    owner: str
    amount: str
    currency: str
    close: str


@dataclass
class Column:
    stage: Stage
    cards: list[Card]
    count: int = 0
    # (currency, amount, weighted amount) per currency: amounts in different currencies
    # are never added up.
    totals: list[tuple[str, Decimal, Decimal]] = field(default_factory=list)
    has_more: bool = False


@dataclass
class Board:
    pipeline: Pipeline
    columns: list[Column]
    amount_masked: bool
    closed_since: dt.datetime | None


_CARD_FIELDS = (
    "id",
    "name",
    "amount",
    "currency",
    "expected_close_date",
    "account__name",
    "owner__display_name",
    "owner__username",
)


def _cards(qs: QuerySet[Deal], masked: bool) -> list[Card]:
    cards = []
    for row in qs.values_list(*_CARD_FIELDS):
        pk, name, amount, currency, close, account, display_name, username = row
        if masked:
            money_text = "****"
        elif amount is None:
            money_text = "—"
        else:
            money_text = f"{currency} {Decimal(amount):,.2f}"
        cards.append(
            Card(
                id=pk,
                name=name,
                account=account or "",
                owner=display_name or username or "—",
                amount=money_text,
                currency=currency,
                close=close.strftime("%m-%d") if close else "—",
            )
        )
    return cards


def _column_order(stage: Stage) -> tuple[str, str]:
    # Open columns keep the order users drag into; closed ones show the latest first.
    return ("position", "id") if stage.is_open else ("-stage_changed_at", "-id")


def _board_queryset(
    actor: User, pipeline: Pipeline, filters: dict[str, Any]
) -> tuple[QuerySet[Deal], QuerySet[Deal], dt.datetime | None]:
    """The open deals and the closed deals shown on the board (each its own indexed
    range: (pipeline, status, stage) and (pipeline, status, stage_changed_at))."""
    qs = permissions.scoped_queryset(actor, "deal").filter(pipeline=pipeline)
    given = {k: v for k, v in filters.items() if k in FILTERS and k != "pipeline"}
    qs = apply_filters(qs, filters=given, actor=actor)
    open_qs = qs.filter(status=Deal.Status.OPEN)
    closed_qs = qs.filter(status__in=[Deal.Status.WON, Deal.Status.LOST])
    closed_since = None
    if not given.get("close_month"):
        closed_since = timezone.now() - dt.timedelta(days=CLOSED_RECENT_DAYS)
        closed_qs = closed_qs.filter(stage_changed_at__gte=closed_since)
    return open_qs, closed_qs, closed_since


def _totals_query(qs: QuerySet[Deal]) -> QuerySet[Any]:
    weighted = ExpressionWrapper(
        F("amount") * F("probability") / Value(Decimal("100")),
        output_field=DecimalField(max_digits=20, decimal_places=4),
    )
    return (
        qs.order_by()
        .values("stage_id", "currency")
        .annotate(n=Count("id"), amount_sum=Sum("amount"), weighted_sum=Sum(weighted))
    )


def kanban(
    *,
    actor: User,
    pipeline: Pipeline,
    filters: dict[str, Any] | None = None,
    column_size: int = KANBAN_COLUMN_SIZE,
) -> Board:
    """The board of ``pipeline``: per stage the first ``column_size`` cards in order and
    the column totals (count, amount, amount weighted by probability).

    Totals come from one aggregate query (open and recently closed deals, UNION ALL);
    each non-empty column's cards from one indexed query: 1 + stages queries whatever
    the number of deals. Won and lost columns show deals closed in the last 30 days
    (latest first) unless a close month is chosen.
    """
    stages = sorted(pipeline.stages.all(), key=lambda s: (s.position, s.pk))
    open_qs, closed_qs, closed_since = _board_queryset(actor, pipeline, dict(filters or {}))
    counts: dict[int, int] = {}
    totals: dict[int, list[tuple[str, Decimal, Decimal]]] = {}
    rows = list(_totals_query(open_qs).union(_totals_query(closed_qs), all=True))
    for row in sorted(rows, key=lambda r: (r["stage_id"], r["currency"])):
        counts[row["stage_id"]] = counts.get(row["stage_id"], 0) + row["n"]
        if row["amount_sum"] is not None:
            totals.setdefault(row["stage_id"], []).append(
                (row["currency"], _cents(row["amount_sum"]), _cents(row["weighted_sum"]))
            )
    masked = "amount" in permissions.masked_fields(actor, "deal")
    columns = []
    for stage in stages:
        count = counts.get(stage.pk, 0)
        cards: list[Card] = []
        if count:
            base = open_qs if stage.is_open else closed_qs
            cards = _cards(
                base.filter(stage_id=stage.pk).order_by(*_column_order(stage))[:column_size],
                masked,
            )
        columns.append(
            Column(
                stage=stage,
                cards=cards,
                count=count,
                totals=totals.get(stage.pk, []),
                has_more=count > len(cards),
            )
        )
    return Board(
        pipeline=pipeline, columns=columns, amount_masked=masked, closed_since=closed_since
    )


def kanban_column(
    *,
    actor: User,
    pipeline: Pipeline,
    stage: Stage,
    filters: dict[str, Any] | None = None,
    offset: int = 0,
    column_size: int = KANBAN_COLUMN_SIZE,
) -> tuple[list[Card], bool]:
    """More cards of one column ("load more"): the cards after ``offset`` and whether
    there are still more."""
    open_qs, closed_qs, _since = _board_queryset(actor, pipeline, dict(filters or {}))
    base = open_qs if stage.is_open else closed_qs
    masked = "amount" in permissions.masked_fields(actor, "deal")
    rows = _cards(
        base.filter(stage_id=stage.pk).order_by(*_column_order(stage))[
            offset : offset + column_size + 1
        ],
        masked,
    )
    return rows[:column_size], len(rows) > column_size


def _cents(value: Any) -> Decimal:
    if value is None:
        return Decimal("0.00")
    return Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def stage_duration(deal: Deal, now: dt.datetime | None = None) -> dt.timedelta:
    """How long the deal has been in its current stage."""
    now = now or timezone.now()
    return now - (deal.stage_changed_at or deal.created_at)


def stage_deal_counts() -> dict[int, int]:
    """Deals per stage over all deals (settings page: what deleting a stage would move).
    Not customer data: counts only, for administrators."""
    return dict(
        Deal.objects.order_by()
        .values("stage_id")
        .annotate(n=Count("id"))
        .values_list("stage_id", "n")
    )
