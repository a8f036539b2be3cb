"""Forecast and attainment (reads only).

Forecast of a period, in the viewer's deal scope, per owner, department or pipeline:

- committed: Σ amount of deals won in the period (``won_at``);
- weighted: Σ amount × probability / 100 of open deals expected to close in the period
  (the deal's own probability, which may differ from its stage's);
- best case: committed + Σ amount of those open deals.

Lost deals never count. Amounts are summed per currency and never converted: a group
with deals in CNY and USD has one line per currency, CNY first.

Attainment of a period: actual vs target per user and department, the percentage, and
ranks (users within their department and the company, departments among their sibling
departments). Ranks are computed over everyone with a target or a result, but a viewer
only sees the lines their data scope covers: a salesperson sees their own line with its
rank ("3 of 8") and no colleague's figures.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Case, Count, DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum, When
from django.utils.translation import gettext as _

from guanxi.core import money as core_money
from guanxi.core import permissions
from guanxi.core.errors import FieldError, NotPermitted, ValidationFailed
from guanxi.identity.models import Department
from guanxi.identity.models import User as UserModel
from guanxi.sales import measures
from guanxi.sales.models import Deal, Pipeline, SalesTarget
from guanxi.sales.periods import Period
from guanxi.sales.targets import DEFAULT_CURRENCY, MONEY_MEASURES, target_in_scope_ids, target_sums

if TYPE_CHECKING:
    from guanxi.identity.models import User

GROUP_BY = ("owner", "department", "pipeline")
TENTH = Decimal("0.1")
ZERO = Decimal(0)
HUNDRED = Decimal(100)
MASK = "****"


def money(value: Decimal | None, currency: str = DEFAULT_CURRENCY) -> Decimal:
    """Rounded half-up to the currency's minor unit (fen for CNY, whole yen for JPY)."""
    return core_money.quantize(value or ZERO, currency or DEFAULT_CURRENCY)


def percent(actual: Decimal, target: Decimal | None) -> Decimal | None:
    """actual / target in per cent, one decimal, half up; None without a positive target."""
    if target is None or target <= 0:
        return None
    return (actual * HUNDRED / target).quantize(TENTH, rounding=ROUND_HALF_UP)


def currency_order(currency: str) -> tuple[int, str]:
    return (0 if currency in (DEFAULT_CURRENCY, "") else 1, currency)


# --- Forecast ---------------------------------------------------------------------------


@dataclass
class ForecastLine:
    kind: str  # owner | department | pipeline | total | month
    id: Any
    label: str
    currency: str
    depth: int = 0
    committed: Decimal = ZERO
    open_amount: Decimal = ZERO
    weighted: Decimal = ZERO
    won_count: int = 0
    open_count: int = 0
    target: Decimal | None = None
    bars: dict[str, float] = field(default_factory=dict)
    # The viewer's role hides what deals are worth: amounts, percentages and bars.
    masked: bool = False

    @property
    def best_case(self) -> Decimal:
        return self.committed + self.open_amount

    @property
    def expected(self) -> Decimal:
        """Committed plus weighted pipeline: the most likely result."""
        return self.committed + self.weighted

    @property
    def attainment(self) -> Decimal | None:
        return None if self.masked else percent(self.committed, self.target)

    @property
    def expected_attainment(self) -> Decimal | None:
        return None if self.masked else percent(self.expected, self.target)

    def add(self, other: ForecastLine) -> None:
        self.committed += other.committed
        self.open_amount += other.open_amount
        self.weighted += other.weighted
        self.won_count += other.won_count
        self.open_count += other.open_count

    def as_dict(self) -> dict[str, Any]:
        def amount(value: Decimal) -> str:
            return MASK if self.masked else str(money(value, self.currency))

        return {
            "group": {"type": self.kind, "id": self.id, "label": self.label, "depth": self.depth},
            "currency": self.currency,
            "committed": amount(self.committed),
            "weighted": amount(self.weighted),
            "open_amount": amount(self.open_amount),
            "best_case": amount(self.best_case),
            "won_count": self.won_count,
            "open_count": self.open_count,
            "target": None if self.target is None else str(money(self.target, self.currency)),
            "attainment": None if self.attainment is None else str(self.attainment),
            "expected_attainment": None
            if self.expected_attainment is None
            else str(self.expected_attainment),
        }


@dataclass
class Forecast:
    period: Period
    group_by: str
    pipeline: Pipeline | None
    lines: list[ForecastLine]
    totals: list[ForecastLine]
    months: list[ForecastLine]
    amount_masked: bool = False

    @property
    def currencies(self) -> list[str]:
        return sorted({t.currency for t in self.totals}, key=currency_order)

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": {
                "key": self.period.key,
                "kind": self.period.kind,
                "start": self.period.start.isoformat(),
                "end": self.period.last_day.isoformat(),
            },
            "group_by": self.group_by,
            "pipeline": {"id": self.pipeline.pk, "name": self.pipeline.label}
            if self.pipeline
            else None,
            "currencies": self.currencies,
            "amount_masked": self.amount_masked,
            "rows": [line.as_dict() for line in self.lines],
            "totals": [line.as_dict() for line in self.totals],
            "months": [{**line.as_dict(), "month": line.id} for line in self.months],
        }


def _money_field() -> DecimalField:
    return DecimalField(max_digits=24, decimal_places=2)


def _product() -> ExpressionWrapper:
    # amount × probability in the database; divided by 100 (and rounded once) in Python.
    return ExpressionWrapper(F("amount") * F("probability"), output_field=_money_field())


def _aggregates(months: list[Period]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The aggregates of the won and the open query; with ``months``, each month's sums
    as conditional aggregates of the same scan (``m<i>``: amount, ``w<i>``: weighted)."""
    won: dict[str, Any] = {"total": Sum("amount"), "n": Count("id")}
    open_: dict[str, Any] = {"total": Sum("amount"), "w": Sum(_product()), "n": Count("id")}
    for i, month in enumerate(months):
        start, end = month.bounds()
        won[f"m{i}"] = Sum(
            Case(When(won_at__gte=start, won_at__lt=end, then=F("amount"))),
            output_field=_money_field(),
        )
        in_month = Q(expected_close_date__gte=month.start, expected_close_date__lt=month.end)
        open_[f"m{i}"] = Sum(Case(When(in_month, then=F("amount"))), output_field=_money_field())
        open_[f"w{i}"] = Sum(Case(When(in_month, then=_product())), output_field=_money_field())
    return won, open_


def _collect(
    won: Iterable[dict[str, Any]], open_: Iterable[dict[str, Any]], key: str
) -> dict[tuple[Any, str], ForecastLine]:
    lines: dict[tuple[Any, str], ForecastLine] = {}

    def line(group: Any, currency: str) -> ForecastLine:
        found = lines.get((group, currency))
        if found is None:
            found = lines[(group, currency)] = ForecastLine("", group, "", currency)
        return found

    for row in won:
        ln = line(row[key], row["currency"])
        ln.committed += row["total"] or ZERO
        ln.won_count += row["n"]
    for row in open_:
        ln = line(row[key], row["currency"])
        ln.open_amount += row["total"] or ZERO
        ln.weighted += (row["w"] or ZERO) / HUNDRED
        ln.open_count += row["n"]
    return lines


def clean_group_by(value: Any) -> str:
    text = str(value or "owner")
    if text not in GROUP_BY:
        raise ValidationFailed(
            [
                FieldError(
                    "group_by", _("Choose one of: %(choices)s.") % {"choices": ", ".join(GROUP_BY)}
                )
            ]
        )
    return text


def clean_pipeline(value: Any) -> Pipeline | None:
    if value in (None, ""):
        return None
    try:
        return Pipeline.objects.get(pk=int(value))
    except (TypeError, ValueError, Pipeline.DoesNotExist) as exc:
        raise ValidationFailed([FieldError("pipeline", _("Unknown pipeline."))]) from exc


def deal_forecast(
    *, actor: User, period: Period, group_by: str = "owner", pipeline: Pipeline | None = None
) -> Forecast:
    """The forecast of ``period`` over the deals ``actor`` may see (see module doc).

    Two aggregate queries over the deals (won, open; each also sums the months of a
    quarter or year in the same scan) plus the targets and the labels of the groups: the
    number of deals does not change the number of queries.
    """
    group_by = clean_group_by(group_by)
    base: QuerySet[Deal] = permissions.scoped_queryset(actor, "deal")
    if pipeline is not None:
        base = base.filter(pipeline=pipeline)
    field_name = measures.DEAL_GROUPS[group_by]
    months = period.month_periods() if len(period.months) > 1 else []
    won_aggs, open_aggs = _aggregates(months)
    won = list(
        measures.won_deals(base, period)
        .values(field_name, "currency")
        .annotate(**won_aggs)
        .order_by()
    )
    open_ = list(
        measures.open_deals(base, period)
        .values(field_name, "currency")
        .annotate(**open_aggs)
        .order_by()
    )
    grouped = _collect(won, open_, field_name)

    # Targets (won amount) the viewer may see, for owners and departments.
    target_users, target_depts = target_in_scope_ids(actor=actor)
    targets = (
        target_sums(measure=SalesTarget.Measure.WON_AMOUNT, period=period)
        if group_by != "pipeline" and pipeline is None
        else {}
    )

    if group_by == "owner":
        lines = _owner_lines(grouped, targets, target_users, _deal_users(actor))
    elif group_by == "department":
        lines = _department_lines(grouped, targets, target_depts)
    else:
        lines = _pipeline_lines(grouped)

    totals: dict[str, ForecastLine] = {}
    for ln in grouped.values():
        total = totals.setdefault(ln.currency, ForecastLine("total", None, _("Total"), ln.currency))
        total.add(ln)
    if group_by == "owner":
        for ln in lines:
            if ln.target is not None:
                total = totals.setdefault(
                    ln.currency, ForecastLine("total", None, _("Total"), ln.currency)
                )
                total.target = (total.target or ZERO) + ln.target
    month_lines = _month_lines(won, open_, months)
    result = Forecast(
        period=period,
        group_by=group_by,
        pipeline=pipeline,
        lines=lines,
        totals=sorted(totals.values(), key=lambda t: currency_order(t.currency)),
        months=month_lines,
        amount_masked="amount" in permissions.masked_fields(actor, "deal"),
    )
    if result.amount_masked:
        for ln in [*result.lines, *result.totals, *result.months]:
            ln.masked = True
    else:
        _scale_bars([*result.lines, *result.months])
    return result


def _owner_lines(
    grouped: dict[tuple[Any, str], ForecastLine],
    targets: dict[tuple[str, int], dict[Any, Decimal]],
    target_users: set[int] | None,
    deal_users: set[int] | None,
) -> list[ForecastLine]:
    """Owners with deals in the period, and people with a target and nothing yet (their
    line shows 0 against the target) when the viewer's deal and target scopes cover them."""
    lines = dict(grouped)
    for (kind, subject_id), by_currency in targets.items():
        if kind != "user" or (target_users is not None and subject_id not in target_users):
            continue
        if deal_users is not None and subject_id not in deal_users:
            continue
        for currency, value in by_currency.items():
            ln = lines.setdefault(
                (subject_id, currency), ForecastLine("owner", subject_id, "", currency)
            )
            ln.target = value
    ids = {owner for owner, _c in lines if owner is not None}
    names = {
        u["id"]: u["display_name"] or u["username"]
        for u in UserModel.objects.filter(pk__in=ids).values("id", "display_name", "username")
    }
    out = []
    for (owner, _cur), ln in lines.items():
        ln.kind, ln.id = "owner", owner
        ln.label = names.get(owner, "") if owner is not None else _("Unassigned")
        out.append(ln)
    out.sort(key=lambda ln: (-ln.best_case, currency_order(ln.currency), ln.label))
    return out


def _deal_users(actor: User) -> set[int] | None:
    """Owners whose deals the deal scope covers (None: everyone)."""
    return permissions.visible_users(actor, ["deal"])


def _department_lines(
    grouped: dict[tuple[Any, str], ForecastLine],
    targets: dict[tuple[str, int], dict[Any, Decimal]],
    target_depts: set[int] | None,
) -> list[ForecastLine]:
    """Department lines rolled up over the tree: a department includes those below it."""
    departments = list(Department.objects.order_by("path").only("id", "name", "path", "parent"))
    paths = {d.pk: d.path for d in departments}
    rolled: dict[tuple[int, str], ForecastLine] = {}
    unassigned: dict[str, ForecastLine] = {}
    for (dept_id, currency), ln in grouped.items():
        path = paths.get(dept_id) if dept_id is not None else None
        if path is None:
            target_line = unassigned.setdefault(
                currency, ForecastLine("department", None, _("No department"), currency)
            )
            target_line.add(ln)
            continue
        for dept in departments:
            if path.startswith(dept.path):
                target_line = rolled.setdefault(
                    (dept.pk, currency), ForecastLine("department", dept.pk, dept.name, currency)
                )
                target_line.add(ln)
    for (kind, subject_id), by_currency in targets.items():
        if kind != "department" or (target_depts is not None and subject_id not in target_depts):
            continue
        for currency, value in by_currency.items():
            dept_obj = next((d for d in departments if d.pk == subject_id), None)
            if dept_obj is None:
                continue
            ln = rolled.setdefault(
                (subject_id, currency),
                ForecastLine("department", subject_id, dept_obj.name, currency),
            )
            ln.target = value
    present = {dept_id for dept_id, _c in rolled}
    base_depth = min((d.depth for d in departments if d.pk in present), default=0)
    out: list[ForecastLine] = []
    for dept in departments:
        for currency in sorted({c for (d, c) in rolled if d == dept.pk}, key=currency_order):
            ln = rolled[(dept.pk, currency)]
            ln.depth = dept.depth - base_depth
            out.append(ln)
    out.extend(unassigned[c] for c in sorted(unassigned, key=currency_order))
    return out


def _pipeline_lines(grouped: dict[tuple[Any, str], ForecastLine]) -> list[ForecastLine]:
    pipelines = {p.pk: p for p in Pipeline.objects.all()}
    out = []
    for (pipeline_id, _cur), ln in grouped.items():
        ln.kind, ln.id = "pipeline", pipeline_id
        p = pipelines.get(pipeline_id)
        ln.label = p.label if p else "—"
        out.append(ln)
    order = {pk: i for i, pk in enumerate(pipelines)}
    out.sort(key=lambda ln: (order.get(ln.id, 0), currency_order(ln.currency)))
    return out


def _month_lines(
    won: list[dict[str, Any]], open_: list[dict[str, Any]], months: list[Period]
) -> list[ForecastLine]:
    """Per month and currency, from the conditional sums of the grouped rows."""
    if not months:
        return []
    currencies = sorted(
        {row["currency"] for row in [*won, *open_]} or {DEFAULT_CURRENCY}, key=currency_order
    )
    lines = {
        (i, c): ForecastLine("month", month.key, month.label, c)
        for i, month in enumerate(months)
        for c in currencies
    }
    for row in won:
        for i in range(len(months)):
            lines[(i, row["currency"])].committed += row[f"m{i}"] or ZERO
    for row in open_:
        for i in range(len(months)):
            ln = lines[(i, row["currency"])]
            ln.open_amount += row[f"m{i}"] or ZERO
            ln.weighted += (row[f"w{i}"] or ZERO) / HUNDRED
    return [lines[(i, c)] for i in range(len(months)) for c in currencies]


def _scale_bars(lines: list[ForecastLine]) -> None:
    """Bar widths (per cent of the widest figure in the same currency) for the page."""
    widest: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for ln in lines:
        widest[ln.currency] = max(widest[ln.currency], ln.best_case, ln.target or ZERO)
    for ln in lines:
        top = widest[ln.currency]
        if top <= 0:
            ln.bars = {"committed": 0.0, "weighted": 0.0, "best_case": 0.0, "target": -1.0}
            continue
        ln.bars = {
            "committed": float(ln.committed / top * 100),
            "weighted": float(ln.weighted / top * 100),
            "best_case": float(ln.best_case / top * 100),
            "target": float(ln.target / top * 100) if ln.target is not None else -1.0,
        }


# --- Attainment -------------------------------------------------------------------------


@dataclass
class AttainmentLine:
    kind: str  # user | department
    id: int
    label: str
    currency: str
    depth: int = 0
    actual: Decimal = ZERO
    target: Decimal | None = None
    others: dict[str, Decimal] = field(default_factory=dict)  # actuals in other currencies
    rank: int | None = None  # in the department (users) / among siblings (departments)
    rank_of: int = 0
    company_rank: int | None = None
    company_of: int = 0
    department: str = ""
    masked: bool = False  # the viewer's role hides deal amounts: no actual, no percentage

    @property
    def percent(self) -> Decimal | None:
        return None if self.masked else percent(self.actual, self.target)

    @property
    def bar(self) -> float:
        value = self.percent
        return 0.0 if value is None else float(min(value, HUNDRED))

    def as_dict(self, measure: str) -> dict[str, Any]:
        is_money = measure in MONEY_MEASURES

        def fmt(v: Decimal | None) -> str | int | None:
            if v is None:
                return None
            return str(money(v, self.currency)) if is_money else int(v)

        def actual(v: Decimal) -> str | int | None:
            return MASK if self.masked else fmt(v)

        return {
            "type": self.kind,
            "id": self.id,
            "label": self.label,
            "department": self.department,
            "depth": self.depth,
            "currency": self.currency,
            "actual": actual(self.actual),
            "target": fmt(self.target),
            "percent": None if self.percent is None else str(self.percent),
            "other_currencies": {
                c: MASK if self.masked else str(money(v, c)) for c, v in sorted(self.others.items())
            },
            "rank": self.rank,
            "rank_of": self.rank_of,
            "company_rank": self.company_rank,
            "company_of": self.company_of,
        }


@dataclass
class Attainment:
    period: Period
    measure: str
    users: list[AttainmentLine]
    departments: list[AttainmentLine]
    me: AttainmentLine | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": {
                "key": self.period.key,
                "kind": self.period.kind,
                "start": self.period.start.isoformat(),
                "end": self.period.last_day.isoformat(),
            },
            "measure": self.measure,
            "me": self.me.as_dict(self.measure) if self.me else None,
            "users": [ln.as_dict(self.measure) for ln in self.users],
            "departments": [ln.as_dict(self.measure) for ln in self.departments],
        }


@dataclass
class Org:
    """Users and departments, read once per request and shared by several reports."""

    users: dict[int, dict[str, Any]]
    departments: list[Department]

    @classmethod
    def load(cls) -> Org:
        users: dict[int, dict[str, Any]] = {
            u["id"]: dict(u)
            for u in UserModel.objects.values(
                "id", "username", "display_name", "is_active", "department_id"
            )
        }
        return cls(users, list(Department.objects.order_by("path")))

    def label(self, user_id: int) -> str:
        u = self.users.get(user_id)
        return (u["display_name"] or u["username"]) if u else "—"


def _rank(lines: list[AttainmentLine]) -> dict[int, int]:
    """Competition ranks (1, 2, 2, 4): by percentage, those without a target after, then
    by the actual figure."""

    def key(ln: AttainmentLine) -> tuple[int, Decimal, Decimal]:
        pct = ln.percent
        return (0 if pct is not None else 1, -(pct or ZERO), -ln.actual)

    ordered = sorted(lines, key=key)
    ranks: dict[int, int] = {}
    previous: tuple[int, Decimal, Decimal] | None = None
    for position, ln in enumerate(ordered, start=1):
        k = key(ln)
        ranks[ln.id] = ranks[ordered[position - 2].id] if previous == k else position
        previous = k
    return ranks


def _line(
    kind: str,
    subject_id: int,
    label: str,
    measure: str,
    actuals: dict[str, Decimal],
    target: dict[Any, Decimal] | None,
) -> AttainmentLine:
    is_money = measure in MONEY_MEASURES
    target_currency, target_value = (None, None)
    if target:
        target_currency = sorted(target, key=currency_order)[0]
        target_value = target[target_currency]
    if is_money:
        currency = target_currency or (
            sorted(actuals, key=currency_order)[0] if actuals else DEFAULT_CURRENCY
        )
    else:
        currency = ""
    return AttainmentLine(
        kind=kind,
        id=subject_id,
        label=label,
        currency=currency,
        actual=actuals.get(currency, ZERO),
        target=target_value,
        others={c: v for c, v in actuals.items() if c != currency},
    )


def attainment(*, actor: User, period: Period, measure: str, org: Org | None = None) -> Attainment:
    """Actual vs target of ``period`` for ``measure``, ranked, limited to what ``actor``
    may see (see module doc). Raises NotPermitted without ``view`` on targets."""
    permissions.require(actor, "target", "view")
    src = measures.source(measure)
    if src is None:
        raise ValidationFailed([FieldError("measure", _("This measure is not available."))])
    org = org or Org.load()
    figures = src.figures(src.base(), period, ["owner", "department"])
    targets = target_sums(measure=measure, period=period)

    by_user: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    by_leaf: dict[int | None, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for fig in figures:
        owner = fig.group["owner"]
        if owner is not None:
            by_user[owner][fig.currency] += fig.total
        by_leaf[fig.group["department"]][fig.currency] += fig.total

    # Users: everyone with a result, and active users with a target.
    user_ids = set(by_user) | {
        sid for (kind, sid) in targets if kind == "user" and org.users.get(sid, {}).get("is_active")
    }
    dept_names = {d.pk: d for d in org.departments}
    user_lines: dict[int, AttainmentLine] = {}
    for uid in user_ids:
        ln = _line(
            "user",
            uid,
            org.label(uid),
            measure,
            dict(by_user.get(uid, {})),
            targets.get(("user", uid)),
        )
        dept_id = org.users.get(uid, {}).get("department_id")
        ln.department = dept_names[dept_id].name if dept_id in dept_names else ""
        user_lines[uid] = ln
    company = _rank(list(user_lines.values()))
    teams: dict[Any, list[AttainmentLine]] = defaultdict(list)
    for uid, ln in user_lines.items():
        teams[org.users.get(uid, {}).get("department_id")].append(ln)
    for members in teams.values():
        ranks = _rank(members)
        for ln in members:
            ln.rank, ln.rank_of = ranks[ln.id], len(members)
    for ln in user_lines.values():
        ln.company_rank, ln.company_of = company[ln.id], len(user_lines)

    # Departments: rolled up over the tree.
    dept_lines: dict[int, AttainmentLine] = {}
    for dept in org.departments:
        actuals: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for leaf_id, by_currency in by_leaf.items():
            leaf = dept_names.get(leaf_id) if leaf_id is not None else None
            if leaf is not None and leaf.path.startswith(dept.path):
                for currency, value in by_currency.items():
                    actuals[currency] += value
        target = targets.get(("department", dept.pk))
        if not actuals and not target:
            continue
        ln = _line("department", dept.pk, dept.name, measure, dict(actuals), target)
        ln.depth = dept.depth
        dept_lines[dept.pk] = ln
    siblings: dict[Any, list[AttainmentLine]] = defaultdict(list)
    for dept in org.departments:
        if dept.pk in dept_lines:
            siblings[dept.parent_id].append(dept_lines[dept.pk])
    for group in siblings.values():
        ranks = _rank(group)
        for ln in group:
            ln.rank, ln.rank_of = ranks[ln.id], len(group)

    # What the viewer may see: figures of users in both the measure's and the targets' scope.
    seen_users = _visible(actor, src.entity)
    target_users, target_depts = target_in_scope_ids(actor=actor)
    if target_users is not None:
        seen_users = target_users if seen_users is None else seen_users & target_users

    def user_visible(uid: int) -> bool:
        return seen_users is None or uid in seen_users

    def dept_visible(dept: Department) -> bool:
        if target_depts is not None and dept.pk not in target_depts:
            return False
        if seen_users is None:
            return True
        members = {
            uid
            for uid, u in org.users.items()
            if u["department_id"] in dept_names
            and dept_names[u["department_id"]].path.startswith(dept.path)
        }
        return members <= seen_users

    visible_users = [ln for uid, ln in user_lines.items() if user_visible(uid)]
    visible_users.sort(key=lambda ln: (ln.company_rank or 0, ln.label))
    visible_depts = [
        dept_lines[d.pk] for d in org.departments if d.pk in dept_lines and dept_visible(d)
    ]
    if visible_depts:
        base_depth = min(ln.depth for ln in visible_depts)
        for ln in visible_depts:
            ln.depth -= base_depth
    if src.masked_by is not None and src.masked_by[1] in _masked(actor, src.masked_by[0]):
        for ln in [*user_lines.values(), *dept_lines.values()]:
            ln.masked = True
    me = user_lines.get(actor.pk)
    if me is None and user_visible(actor.pk):
        me = _line("user", actor.pk, org.label(actor.pk), measure, {}, None)
    if me is not None and not user_visible(actor.pk):
        me = None
    return Attainment(
        period=period, measure=measure, users=visible_users, departments=visible_depts, me=me
    )


def _masked(actor: User, entity_key: str) -> set[str]:
    try:
        return permissions.masked_fields(actor, entity_key)
    except KeyError:
        return set()


def _visible(actor: User, entity_key: str) -> set[int] | None:
    try:
        if not permissions.can(actor, entity_key, "view"):
            return set()
    except KeyError:
        return set()
    return permissions.visible_users(actor, [entity_key])


def my_attainment(
    *, actor: User, periods: list[Period]
) -> list[tuple[Period, str, AttainmentLine | None]]:
    """The actor's own line for each available measure and period (the home panel)."""
    if not permissions.can(actor, "target", "view"):
        raise NotPermitted()
    org = Org.load()
    out = []
    for period in periods:
        for measure in measures.available_measures():
            report = attainment(actor=actor, period=period, measure=measure, org=org)
            out.append((period, measure, report.me))
    return out
