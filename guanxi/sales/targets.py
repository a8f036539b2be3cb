"""Sales targets (业绩目标): the permission entity, every write and every read.

Targets are stored per month for one user or one department and one measure; a quarter
or a year is the sum of its months. Who may set them: a role that grants ``create`` /
``edit`` / ``delete`` on the ``target`` entity, for the users and departments its data
scope covers (the built-in 销售经理 role: its department and sub-departments; admins:
everyone). A user target is matched on the target's user like any owned record; a
department target is in scope when the department is (``department``: one's own,
``subtree``: one's own and those below, ``all``: any).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.core import audit, events, permissions
from guanxi.core import money as core_money
from guanxi.core.errors import Conflict, FieldError, ValidationFailed
from guanxi.core.models import AuditEvent
from guanxi.core.pagination import Page, paginate
from guanxi.identity.models import Department
from guanxi.identity.models import User as UserModel
from guanxi.sales.models import SalesTarget
from guanxi.sales.periods import MAX_YEAR, MIN_YEAR, Period

if TYPE_CHECKING:
    from guanxi.identity.models import User

Measure = SalesTarget.Measure
MONEY_MEASURES = frozenset({Measure.WON_AMOUNT.value, Measure.RECEIPTS.value})
DEFAULT_CURRENCY = "CNY"
CENT = Decimal("0.01")
MAX_VALUE = Decimal("9999999999999999.99")
_CURRENCY = re.compile(r"^[A-Z]{3}$")

TARGET_CREATED = events.define("target.created", "A sales target was set")
TARGET_UPDATED = events.define("target.updated", "A sales target was changed")
TARGET_DELETED = events.define("target.deleted", "A sales target was removed")

A = AuditEvent.Action


# --- Permission entity ------------------------------------------------------------------


def department_scope_q(user: User, scope: str | None) -> Q | None:
    """The Q on departments that ``scope`` covers for ``user``; None = every department."""
    if scope == "all":
        return None
    if scope in (None, "own") or user.department_id is None:
        return Q(pk__in=[])
    if scope == "department":
        return Q(pk=user.department_id)
    path = user.department.path if user.department else ""
    return Q(path__startswith=path or "/")


def _department_targets_visible(user: User) -> Q:
    q = department_scope_q(user, permissions.scope_of(user, "target"))
    if q is None:
        return Q(department__isnull=False)
    return Q(department__in=Department.objects.filter(q).values("id"))


TARGET = permissions.register(
    permissions.Entity(
        key="target",
        model=SalesTarget,
        label=gettext_lazy("Sales targets"),
        owner_field="user",
        extra_visibility=_department_targets_visible,
    )
)


@dataclass(frozen=True)
class Subjects:
    """Users and departments whose targets an actor may see or set."""

    users: list[User]
    departments: list[Department]

    @property
    def user_ids(self) -> set[int]:
        return {u.pk for u in self.users}

    @property
    def department_ids(self) -> set[int]:
        return {d.pk for d in self.departments}


def target_subjects(*, actor: User, action: str = "view") -> Subjects:
    """Active users and departments in ``actor``'s target scope for ``action``.

    Raises NotPermitted when the actor's roles do not grant ``action`` on targets.
    """
    permissions.require(actor, "target", action)
    scope = permissions.scope_of(actor, "target") or "own"
    users = UserModel.objects.filter(is_active=True).select_related("department")
    ids = permissions.scope_user_ids(actor, scope)
    if ids is not None:
        users = users.filter(pk__in=ids)
    dept_q = department_scope_q(actor, scope)
    departments = Department.objects.all() if dept_q is None else Department.objects.filter(dept_q)
    return Subjects(
        users=list(users.order_by("department__path", "display_name", "username")),
        departments=list(departments.order_by("path")),
    )


# --- Cleaning ---------------------------------------------------------------------------


def clean_measure(value: Any, name: str = "measure") -> str:
    if value not in Measure.values:
        raise ValidationFailed(
            [
                FieldError(
                    name, _("Choose one of: %(choices)s.") % {"choices": ", ".join(Measure.values)}
                )
            ]
        )
    return str(value)


def clean_value(
    measure: str, value: Any, name: str = "value", currency: str = DEFAULT_CURRENCY
) -> Decimal:
    """A target figure: ≥ 0, rounded half-up to the currency's minor unit; a whole number
    for counts."""
    try:
        number = Decimal(str(value).strip().replace(",", "")) if value is not None else None
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite():
        raise ValidationFailed([FieldError(name, _("Enter a number."))])
    if number < 0:
        raise ValidationFailed([FieldError(name, _("A target cannot be negative."))])
    if number > MAX_VALUE:
        raise ValidationFailed([FieldError(name, _("This number is too large."))])
    if measure not in MONEY_MEASURES and number != number.to_integral_value():
        raise ValidationFailed([FieldError(name, _("New customers are counted in whole numbers."))])
    if measure in MONEY_MEASURES:
        return core_money.quantize(number, currency or DEFAULT_CURRENCY).quantize(CENT)
    return number.quantize(CENT, rounding=ROUND_HALF_UP)


def clean_currency(measure: str, value: Any, name: str = "currency") -> str:
    """ISO 4217 code for money measures (default CNY); empty for counted measures."""
    if measure not in MONEY_MEASURES:
        if value not in (None, ""):
            raise ValidationFailed([FieldError(name, _("New customers have no currency."))])
        return ""
    code = str(value or DEFAULT_CURRENCY).strip().upper()
    if not _CURRENCY.match(code):
        raise ValidationFailed(
            [FieldError(name, _("Use a three-letter ISO currency code such as CNY or USD."))]
        )
    return code


def clean_year(value: Any, name: str = "year") -> int:
    try:
        year = int(value)
    except (TypeError, ValueError):
        year = 0
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValidationFailed(
            [
                FieldError(
                    name,
                    _("The year must be between %(min)s and %(max)s.")
                    % {"min": MIN_YEAR, "max": MAX_YEAR},
                )
            ]
        )
    return year


def clean_month(value: Any, name: str = "month") -> int:
    try:
        month = int(value)
    except (TypeError, ValueError):
        month = 0
    if not 1 <= month <= 12:
        raise ValidationFailed([FieldError(name, _("The month must be between 1 and 12."))])
    return month


def _subject(
    actor: User, data: dict[str, Any], action: str
) -> tuple[User | None, Department | None]:
    """The user or department a new target is for, checked against ``actor``'s scope."""
    user_id: Any = data.get("user_id")
    dept_id: Any = data.get("department_id")
    if (user_id in (None, "")) == (dept_id in (None, "")):
        raise ValidationFailed(
            [FieldError("user_id", _("Give either a user or a department, not both."))]
        )
    subjects = target_subjects(actor=actor, action=action)
    try:
        if user_id not in (None, ""):
            user = next((u for u in subjects.users if u.pk == int(user_id)), None)
            if user is None:
                raise ValidationFailed(
                    [FieldError("user_id", _("Unknown user, or outside your department."))]
                )
            return user, None
        dept = next((d for d in subjects.departments if d.pk == int(dept_id)), None)
    except (TypeError, ValueError) as exc:
        name = "user_id" if user_id not in (None, "") else "department_id"
        raise ValidationFailed([FieldError(name, _("Enter a whole number."))]) from exc
    if dept is None:
        raise ValidationFailed(
            [FieldError("department_id", _("Unknown department, or outside your scope."))]
        )
    return None, dept


def _check_currency_of_year(
    *, measure: str, user_id: int | None, dept_id: int | None, year: int, currency: str, pk: Any
) -> None:
    """All months of a subject's yearly targets share one currency (sums stay meaningful)."""
    if measure not in MONEY_MEASURES:
        return
    other = (
        SalesTarget.objects.filter(
            Q(user_id=user_id) if user_id is not None else Q(department_id=dept_id),
            measure=measure,
            year=year,
        )
        .exclude(pk=pk)
        .exclude(currency=currency)
        .values_list("currency", flat=True)
        .first()
    )
    if other:
        raise ValidationFailed(
            [
                FieldError(
                    "currency",
                    _("The other months of this year are in %(currency)s; use one currency.")
                    % {"currency": other},
                )
            ]
        )


def _payload(target: SalesTarget) -> dict[str, Any]:
    return {
        "id": target.pk,
        "measure": target.measure,
        "user_id": target.user_id,
        "department_id": target.department_id,
        "year": target.year,
        "month": target.month,
        "value": str(target.value),
        "currency": target.currency,
    }


AUDIT_FIELDS = ["measure", "user", "department", "year", "month", "value", "currency"]


# --- Writes -----------------------------------------------------------------------------


def target_create(*, actor: User, data: dict[str, Any]) -> SalesTarget:
    """Set the target of one user or department for one month and measure.

    ``data``: measure, user_id or department_id, year, month, value, currency (money
    measures; default CNY). The subject must be in the actor's target scope for
    ``create``; an existing target for the same month → Conflict (update it instead).
    """
    permissions.require(actor, "target", "create")
    measure = clean_measure(data.get("measure"))
    errors: list[FieldError] = []
    values: dict[str, Any] = {}
    for name, fn in (
        ("year", lambda v: clean_year(v)),
        ("month", lambda v: clean_month(v)),
        ("currency", lambda v: clean_currency(measure, v)),
        ("value", lambda v: clean_value(measure, v, currency=values.get("currency", ""))),
    ):
        try:
            values[name] = fn(data.get(name))
        except ValidationFailed as exc:
            errors.extend(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    user, dept = _subject(actor, data, "create")
    _check_currency_of_year(
        measure=measure,
        user_id=user.pk if user else None,
        dept_id=dept.pk if dept else None,
        year=values["year"],
        currency=values["currency"],
        pk=None,
    )
    target = SalesTarget(measure=measure, user=user, department=dept, created_by=actor, **values)
    try:
        with transaction.atomic():
            target.save()
            audit.record(
                actor=actor,
                action=A.CREATE,
                entity="target",
                obj=target,
                changes=audit.diff({}, audit.snapshot(target, AUDIT_FIELDS)),
            )
    except IntegrityError as exc:
        raise Conflict(
            _("A target for this month already exists; change it instead of adding another.")
        ) from exc
    events.emit(TARGET_CREATED, _payload(target), actor_id=actor.pk)
    return target


def target_update(*, actor: User, target: SalesTarget, data: dict[str, Any]) -> SalesTarget:
    """Change the figure or currency of a target in the actor's ``edit`` scope.

    The measure, subject and month of a target are fixed; other keys → ValidationFailed.
    """
    target = target_get_for_user(actor=actor, pk=target.pk, action="edit")
    fixed = sorted(set(data) & {"measure", "user_id", "department_id", "year", "month"})
    if fixed:
        raise ValidationFailed(
            [
                FieldError(name, _("This cannot be changed; delete the target instead."))
                for name in fixed
            ]
        )
    before = audit.snapshot(target, AUDIT_FIELDS)
    errors: list[FieldError] = []
    try:
        if "currency" in data:
            target.currency = clean_currency(target.measure, data["currency"])
    except ValidationFailed as exc:
        errors.extend(exc.errors)
    try:
        if "value" in data or "currency" in data:
            value = data.get("value", target.value)
            target.value = clean_value(target.measure, value, currency=target.currency)
    except ValidationFailed as exc:
        errors.extend(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    _check_currency_of_year(
        measure=target.measure,
        user_id=target.user_id,
        dept_id=target.department_id,
        year=target.year,
        currency=target.currency,
        pk=target.pk,
    )
    changes = audit.diff(before, audit.snapshot(target, AUDIT_FIELDS))
    if not changes:
        return target
    with transaction.atomic():
        target.save(update_fields=["value", "currency", "updated_at"])
        audit.record(actor=actor, action=A.UPDATE, entity="target", obj=target, changes=changes)
    events.emit(TARGET_UPDATED, _payload(target), actor_id=actor.pk)
    return target


def target_delete(*, actor: User, target: SalesTarget) -> None:
    """Remove a target in the actor's ``delete`` scope."""
    target = target_get_for_user(actor=actor, pk=target.pk, action="delete")
    payload = _payload(target)
    with transaction.atomic():
        audit.record(
            actor=actor,
            action=A.DELETE,
            entity="target",
            obj=target,
            changes=audit.diff(audit.snapshot(target, AUDIT_FIELDS), {}),
        )
        target.delete()
    events.emit(TARGET_DELETED, payload, actor_id=actor.pk)


@dataclass
class GridRow:
    """One row of the targets grid as submitted: a subject, its currency, twelve cells."""

    kind: str  # "user" or "department"
    id: int
    currency: Any = None
    months: dict[int, Any] = field(default_factory=dict)  # month → raw value ("" = none)

    @property
    def key(self) -> str:
        return f"{self.kind}-{self.id}"


@dataclass
class GridResult:
    created: int = 0
    updated: int = 0
    deleted: int = 0


def target_grid_save(*, actor: User, measure: str, year: int, rows: list[GridRow]) -> GridResult:
    """Save a year of monthly targets for several subjects at once (the targets grid).

    A filled cell creates or changes that month's target, an empty one removes it; the
    row's currency applies to all its months. Every cell is validated first: one bad cell
    → ValidationFailed naming each bad cell (``<kind>-<id>-<month>``) and nothing saved.
    Each created / changed / removed target is audited and emits its event.
    """
    measure = clean_measure(measure)
    year = clean_year(year)
    errors: list[FieldError] = []
    wanted: dict[tuple[str, int, int], tuple[Decimal | None, str]] = {}
    needs: set[str] = set()
    for row in rows:
        if row.kind not in ("user", "department"):
            errors.append(FieldError(row.key, _("Unknown kind of row.")))
            continue
        try:
            currency = clean_currency(measure, row.currency, name=f"{row.key}-currency")
        except ValidationFailed as exc:
            errors.extend(exc.errors)
            currency = DEFAULT_CURRENCY
        for month in range(1, 13):
            raw = row.months.get(month, "")
            if raw is None or str(raw).strip() == "":
                wanted[(row.kind, row.id, month)] = (None, currency)
                continue
            try:
                wanted[(row.kind, row.id, month)] = (
                    clean_value(measure, raw, name=f"{row.key}-{month}", currency=currency),
                    currency,
                )
            except ValidationFailed as exc:
                errors.extend(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    existing = {
        (t.subject_kind, t.user_id or t.department_id, t.month): t
        for t in SalesTarget.objects.filter(
            Q(user_id__in=[r.id for r in rows if r.kind == "user"])
            | Q(department_id__in=[r.id for r in rows if r.kind == "department"]),
            measure=measure,
            year=year,
        )
    }
    for (kind, subject_id, month), (value, currency) in wanted.items():
        current = existing.get((kind, subject_id, month))
        if current is None and value is not None:
            needs.add("create")
        elif current is not None and value is None:
            needs.add("delete")
        elif current is not None and (current.value != value or current.currency != currency):
            needs.add("edit")
    for action in sorted(needs):
        permissions.require(actor, "target", action)
    if needs:
        # One data scope per entity covers every action, so one look-up serves them all.
        subjects = target_subjects(actor=actor, action=sorted(needs)[0])
        for row in rows:
            allowed = subjects.user_ids if row.kind == "user" else subjects.department_ids
            if row.id not in allowed:
                errors.append(
                    FieldError(row.key, _("Outside your scope: you cannot set this target."))
                )
        if errors:
            raise ValidationFailed(errors)
    result = GridResult()
    emitted: list[tuple[str, dict[str, Any]]] = []
    with transaction.atomic():
        for (kind, subject_id, month), (value, currency) in sorted(wanted.items()):
            current = existing.get((kind, subject_id, month))
            if current is None:
                if value is None:
                    continue
                target = SalesTarget.objects.create(
                    measure=measure,
                    user_id=subject_id if kind == "user" else None,
                    department_id=subject_id if kind == "department" else None,
                    year=year,
                    month=month,
                    value=value,
                    currency=currency,
                    created_by=actor,
                )
                audit.record(
                    actor=actor,
                    action=A.CREATE,
                    entity="target",
                    obj=target,
                    changes=audit.diff({}, audit.snapshot(target, AUDIT_FIELDS)),
                )
                emitted.append((TARGET_CREATED, _payload(target)))
                result.created += 1
            elif value is None:
                payload = _payload(current)
                audit.record(
                    actor=actor,
                    action=A.DELETE,
                    entity="target",
                    obj=current,
                    changes=audit.diff(audit.snapshot(current, AUDIT_FIELDS), {}),
                )
                current.delete()
                emitted.append((TARGET_DELETED, payload))
                result.deleted += 1
            elif current.value != value or current.currency != currency:
                assert value is not None
                before = audit.snapshot(current, AUDIT_FIELDS)
                current.value, current.currency = value, currency
                current.save(update_fields=["value", "currency", "updated_at"])
                audit.record(
                    actor=actor,
                    action=A.UPDATE,
                    entity="target",
                    obj=current,
                    changes=audit.diff(before, audit.snapshot(current, AUDIT_FIELDS)),
                )
                emitted.append((TARGET_UPDATED, _payload(current)))
                result.updated += 1
        for name, payload in emitted:
            events.emit(name, payload, actor_id=actor.pk)
    return result


# --- Reads ------------------------------------------------------------------------------


def _base() -> QuerySet[SalesTarget]:
    return SalesTarget.objects.select_related("user", "department")


def target_list(
    *,
    actor: User,
    year: Any = None,
    month: Any = None,
    measure: Any = None,
    user_id: Any = None,
    department_id: Any = None,
    page: Any = 1,
    page_size: Any = 50,
) -> Page:
    """A page of the targets ``actor`` may see, by year, month, subject."""
    qs: QuerySet[SalesTarget] = permissions.scoped_queryset(actor, "target", base=_base())
    if measure not in (None, ""):
        qs = qs.filter(measure=clean_measure(measure))
    if year not in (None, ""):
        qs = qs.filter(year=clean_year(year))
    if month not in (None, ""):
        qs = qs.filter(month=clean_month(month))
    for name, value in (("user_id", user_id), ("department_id", department_id)):
        if value in (None, ""):
            continue
        try:
            qs = qs.filter(**{name: int(value)})
        except (TypeError, ValueError) as exc:
            raise ValidationFailed([FieldError(name, _("Enter a whole number."))]) from exc
    return paginate(qs.order_by("year", "month", "measure", "id"), page, page_size)


def target_get_for_user(*, actor: User, pk: Any, action: str = "view") -> SalesTarget:
    """One target in ``actor``'s scope for ``action`` (OutOfScope → 404 otherwise)."""
    target: SalesTarget = permissions.get_for_user(actor, "target", pk, action, base=_base())
    return target


def target_as_dict(*, target: SalesTarget) -> dict[str, Any]:
    user, dept = target.user, target.department
    return {
        "id": target.pk,
        "measure": target.measure,
        "user": {"id": user.pk, "username": user.username, "display_name": user.label}
        if user
        else None,
        "department": {"id": dept.pk, "name": dept.name} if dept else None,
        "year": target.year,
        "month": target.month,
        "value": str(target.value),
        "currency": target.currency,
        "created_at": target.created_at,
        "updated_at": target.updated_at,
    }


def target_sums(
    *, measure: str, period: Period, by_month: bool = False
) -> dict[tuple[str, int], dict[Any, Decimal]]:
    """Targets of every subject for ``period``, summed over its months, in one query.

    ``{("user" | "department", id): {currency: total}}``; with ``by_month`` the inner key
    is ``(month, currency)``. Not scoped: callers show only what the viewer may see.
    """
    qs = SalesTarget.objects.filter(measure=measure, year=period.year, month__in=period.months)
    fields = ["user_id", "department_id", "currency", *(["month"] if by_month else [])]
    out: dict[tuple[str, int], dict[Any, Decimal]] = defaultdict(dict)
    for row in qs.values(*fields).annotate(total=Sum("value")).order_by():
        key = ("user", row["user_id"]) if row["user_id"] else ("department", row["department_id"])
        inner = (row["month"], row["currency"]) if by_month else row["currency"]
        out[key][inner] = row["total"]
    return dict(out)


@dataclass
class GridLine:
    kind: str
    subject: Any
    depth: int
    editable: bool
    currency: str
    cells: list[tuple[int, str]]  # (month, value as text or "")
    quarters: list[Decimal]
    total: Decimal

    @property
    def key(self) -> str:
        return f"{self.kind}-{self.subject.pk}"

    @property
    def label(self) -> str:
        return str(self.subject.label if self.kind == "user" else self.subject.name)


def target_grid(*, actor: User, measure: str, year: int, kind: str) -> list[GridLine]:
    """The rows of the targets grid: subjects ``actor`` may see, editable where allowed."""
    measure = clean_measure(measure)
    subjects = target_subjects(actor=actor, action="view")
    editable = (
        target_subjects(actor=actor, action="edit")
        if permissions.can(actor, "target", "edit")
        else Subjects([], [])
    )
    rows: list[Any] = subjects.users if kind == "user" else subjects.departments
    editable_ids = editable.user_ids if kind == "user" else editable.department_ids
    flt = {"user_id__in" if kind == "user" else "department_id__in": [r.pk for r in rows]}
    values: dict[int, dict[int, SalesTarget]] = defaultdict(dict)
    for t in SalesTarget.objects.filter(measure=measure, year=year, **flt):
        values[t.user_id or t.department_id or 0][t.month] = t
    money = measure in MONEY_MEASURES
    lines: list[GridLine] = []
    base_depth = min((r.depth for r in rows), default=0) if kind == "department" else 0
    for subject in rows:
        months = values.get(subject.pk, {})
        cells: list[tuple[int, str]] = []
        for m in range(1, 13):
            month_target = months.get(m)
            if month_target is None:
                cells.append((m, ""))
            else:
                value = month_target.value
                cells.append((m, f"{value:f}" if money else f"{value:.0f}"))
        amounts = [months[m].value if m in months else Decimal(0) for m in range(1, 13)]
        currency = next((t.currency for t in months.values()), DEFAULT_CURRENCY if money else "")
        lines.append(
            GridLine(
                kind=kind,
                subject=subject,
                depth=(subject.depth - base_depth) if kind == "department" else 0,
                editable=subject.pk in editable_ids,
                currency=currency,
                cells=cells,
                quarters=[sum(amounts[q * 3 : q * 3 + 3], Decimal(0)) for q in range(4)],
                total=sum(amounts, Decimal(0)),
            )
        )
    return lines


def target_in_scope_ids(*, actor: User) -> tuple[set[int] | None, set[int] | None]:
    """(user ids, department ids) whose targets ``actor`` may view; None = all; empty
    sets when the actor may not view targets at all."""
    if not permissions.can(actor, "target", "view"):
        return set(), set()
    scope = permissions.scope_of(actor, "target") or "own"
    users = permissions.scope_user_ids(actor, scope)
    dept_q = department_scope_q(actor, scope)
    depts = (
        None
        if dept_q is None
        else set(Department.objects.filter(dept_q).values_list("id", flat=True))
    )
    return (None if users is None else set(users)), depts


def today_year() -> int:
    from guanxi.sales.periods import company_today

    return company_today().year
