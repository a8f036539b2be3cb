"""Receivables (应收) and aging: what is still owed, by how long it is overdue.

Every figure is one aggregate query over installments (``amount - received`` of the
open ones, summed per bucket with filtered SUMs), never a Python loop over rows.
Only contracts that are active or expired count; terminated and unfinished ones do not.
A contract without a payment plan has no due dates: what it still owes is reported as
``unscheduled``.

Buckets on ``today`` (a due date of today is not yet overdue):

* ``not_due``: due today or later
* ``d0_30``: 1–30 days overdue
* ``d31_60``: 31–60 days overdue
* ``d61_90``: 61–90 days overdue
* ``d90_plus``: more than 90 days overdue
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import (
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.core import permissions
from guanxi.core.errors import FieldError, ValidationFailed
from guanxi.core.pagination import Page, paginate
from guanxi.finance import money
from guanxi.finance.models import Contract, Installment, Receipt
from guanxi.finance.selectors import contracts_in_scope, state_case

if TYPE_CHECKING:
    from guanxi.identity.models import User

ZERO = Decimal("0.00")
MONEY_FIELD: DecimalField[Decimal, Decimal] = DecimalField(max_digits=16, decimal_places=2)
RECEIVABLE = (Contract.Status.ACTIVE, Contract.Status.EXPIRED)
BUCKETS: list[tuple[str, Any]] = [
    ("not_due", gettext_lazy("Not yet due")),
    ("d0_30", gettext_lazy("0–30 days")),
    ("d31_60", gettext_lazy("31–60 days")),
    ("d61_90", gettext_lazy("61–90 days")),
    ("d90_plus", gettext_lazy("90+ days")),
]
BUCKET_KEYS = [k for k, _label in BUCKETS]
OVERDUE_BUCKETS = BUCKET_KEYS[1:]


def _rounded(row: dict[str, Any], currency: str) -> dict[str, Any]:
    """Decimal sums to the currency's minor unit (SQLite drops trailing zeros)."""
    return {k: money.quantize(v, currency) if isinstance(v, Decimal) else v for k, v in row.items()}


def bucket_q(key: str, today: dt.date) -> Q:
    """The installments (by due date) in bucket ``key`` on ``today``."""
    days = dt.timedelta
    if key == "not_due":
        return Q(due_on__gte=today)
    if key == "d0_30":
        return Q(due_on__lt=today, due_on__gte=today - days(30))
    if key == "d31_60":
        return Q(due_on__lt=today - days(30), due_on__gte=today - days(60))
    if key == "d61_90":
        return Q(due_on__lt=today - days(60), due_on__gte=today - days(90))
    if key == "d90_plus":
        return Q(due_on__lt=today - days(90))
    if key == "overdue":
        return Q(due_on__lt=today)
    raise ValidationFailed(
        [
            FieldError(
                "bucket",
                _("Choose one of: %(c)s") % {"c": ", ".join([*BUCKET_KEYS, "overdue"])},
            )
        ]
    )


def bucket_of(due_on: dt.date, today: dt.date) -> str:
    """The bucket of one due date (for messages; aggregates use :func:`bucket_q`)."""
    late = (today - due_on).days
    if late <= 0:
        return "not_due"
    if late <= 30:
        return "d0_30"
    if late <= 60:
        return "d31_60"
    if late <= 90:
        return "d61_90"
    return "d90_plus"


_OUTSTANDING = ExpressionWrapper(F("amount") - F("received"), output_field=MONEY_FIELD)


def open_installments(actor: User) -> QuerySet[Installment]:
    """Installments with money still due, on receivable contracts in the actor's scope."""
    permissions.require(actor, "payment", "view")
    return Installment.objects.filter(
        contract__in=contracts_in_scope(actor).filter(status__in=RECEIVABLE).values("pk"),
        received__lt=F("amount"),
    )


def _bucket_sums(today: dt.date) -> dict[str, Any]:
    sums: dict[str, Any] = {
        key: Coalesce(
            Sum(_OUTSTANDING, filter=bucket_q(key, today)), Value(ZERO), output_field=MONEY_FIELD
        )
        for key in BUCKET_KEYS
    }
    sums["total"] = Coalesce(Sum(_OUTSTANDING), Value(ZERO), output_field=MONEY_FIELD)
    return sums


def _unscheduled(actor: User) -> QuerySet[Contract]:
    """Receivable contracts without a plan that still owe money, annotated ``owed``."""
    received = Subquery(
        Receipt.objects.filter(contract=OuterRef("pk"))
        .values("contract")
        .annotate(s=Sum("amount"))
        .values("s"),
        output_field=MONEY_FIELD,
    )
    return (
        contracts_in_scope(actor)
        .filter(status__in=RECEIVABLE)
        .filter(~Exists(Installment.objects.filter(contract=OuterRef("pk"))))
        .annotate(
            owed=ExpressionWrapper(
                F("amount") - Coalesce(received, Value(ZERO), output_field=MONEY_FIELD),
                output_field=MONEY_FIELD,
            )
        )
        .filter(owed__gt=0)
    )


def aging_summary(*, actor: User, today: dt.date | None = None) -> list[dict[str, Any]]:
    """Totals per currency: ``{currency, not_due, d0_30, …, d90_plus, overdue, total,
    unscheduled}`` (Decimals). Two queries."""
    today = today or timezone.localdate()
    rows = {
        r["contract__currency"]: r
        for r in open_installments(actor)
        .values("contract__currency")
        .annotate(**_bucket_sums(today))
        .order_by("contract__currency")
    }
    unscheduled = {
        r["currency"]: r["s"]
        for r in _unscheduled(actor).values("currency").annotate(s=Sum("owed")).order_by("currency")
    }
    out: list[dict[str, Any]] = []
    for currency in sorted(set(rows) | set(unscheduled)):
        r = rows.get(currency, {})
        item: dict[str, Any] = {"currency": currency}
        for key in BUCKET_KEYS:
            item[key] = r.get(key, ZERO)
        item["overdue"] = sum((item[k] for k in OVERDUE_BUCKETS), ZERO)
        item["unscheduled"] = unscheduled.get(currency) or ZERO
        item["total"] = r.get("total", ZERO) + item["unscheduled"]
        out.append(_rounded(item, currency))
    return out


GROUPS = {
    "account": ("contract__account_id", "contract__account__name"),
    "contract": ("contract_id", "contract__number"),
    "owner": ("contract__owner_id", "contract__owner__username"),
}


def aging_by(
    *,
    actor: User,
    group: str = "account",
    today: dt.date | None = None,
    page: Any = 1,
    page_size: Any = 50,
) -> Page:
    """A page of aging rows per account, contract or owner (largest overdue first).

    Each row: ``id``, ``label``, ``currency``, the bucket sums, ``overdue`` and ``total``.
    One grouped aggregate query for the page plus a bounded count.
    """
    if group not in GROUPS:
        raise ValidationFailed(
            [FieldError("group", _("Choose one of: %(c)s") % {"c": ", ".join(GROUPS)})]
        )
    today = today or timezone.localdate()
    id_field, label_field = GROUPS[group]
    sums = _bucket_sums(today)
    sums["overdue"] = Coalesce(
        Sum(_OUTSTANDING, filter=Q(due_on__lt=today)), Value(ZERO), output_field=MONEY_FIELD
    )
    extra = ["contract__title", "contract__account__name"] if group == "contract" else []
    qs = (
        open_installments(actor)
        .values(id_field, label_field, "contract__currency", *extra)
        .annotate(**sums)
        .order_by("-overdue", "-total", id_field)
    )
    result = paginate(qs, page, page_size)
    result.items = [
        _rounded(
            {
                "id": r[id_field],
                "label": r[label_field] or "",
                "currency": r["contract__currency"],
                **(
                    {"title": r["contract__title"], "account": r["contract__account__name"]}
                    if extra
                    else {}
                ),
                **{k: r[k] for k in [*BUCKET_KEYS, "overdue", "total"]},
            },
            r["contract__currency"],
        )
        for r in result.items
    ]
    return result


def installments_in_bucket(
    *,
    actor: User,
    bucket: str = "",
    account_id: Any = None,
    contract_id: Any = None,
    today: dt.date | None = None,
    page: Any = 1,
    page_size: Any = 50,
) -> Page:
    """The open installments behind a figure (drill-down), oldest due first."""
    today = today or timezone.localdate()
    qs = open_installments(actor).select_related("contract", "contract__account", "contract__owner")
    if bucket:
        qs = qs.filter(bucket_q(bucket, today))
    errors: list[FieldError] = []
    for name, value, lookup in (
        ("account", account_id, "contract__account_id"),
        ("contract", contract_id, "contract_id"),
    ):
        if value not in (None, ""):
            try:
                qs = qs.filter(**{lookup: int(value)})
            except (TypeError, ValueError):
                errors.append(FieldError(name, _("Enter a whole number.")))
    if errors:
        raise ValidationFailed(errors)
    qs = qs.annotate(state=state_case(today)).order_by("due_on", "id")
    return paginate(qs, page, page_size)


def outstanding_for_account(*, actor: User, account_id: int) -> list[dict[str, Any]]:
    """What an account still owes per currency (in the actor's scope), for its page."""
    today = timezone.localdate()
    rows = (
        open_installments(actor)
        .filter(contract__account_id=account_id)
        .values("contract__currency")
        .annotate(
            total=Sum(_OUTSTANDING),
            overdue=Coalesce(
                Sum(_OUTSTANDING, filter=Q(due_on__lt=today)), Value(ZERO), output_field=MONEY_FIELD
            ),
        )
        .order_by("contract__currency")
    )
    out = {
        r["contract__currency"]: {
            "currency": r["contract__currency"],
            "total": r["total"],
            "overdue": r["overdue"],
        }
        for r in rows
    }
    for r in (
        _unscheduled(actor)
        .filter(account_id=account_id)
        .values("currency")
        .annotate(s=Sum("owed"))
        .order_by("currency")
    ):
        item = out.setdefault(
            r["currency"], {"currency": r["currency"], "total": ZERO, "overdue": ZERO}
        )
        item["total"] += r["s"]
    return [_rounded(out[k], k) for k in sorted(out)]
