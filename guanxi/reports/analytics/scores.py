"""RFM segmentation and churn risk per account, computed company-wide in aggregate SQL.

``refresh`` rewrites every account's :class:`CustomerScore` (run daily by
``guanxi.schedule.reports_refresh_customer_scores`` and on demand) and emits
``account.churn_risk`` for each account that crosses the at-risk threshold.

RFM: over the won deals of each account, R = days since the last win, F = wins, M = won
revenue. Each is scored 1–5 by quintile among all customers (ties share the lower score;
for R fewer days score higher). A score of 3 or more counts as *high*; the pattern of
high/low of R, F, M names the segment (M high → "important", low → "general").

Churn risk (0–100) adds the points of each signal that fires; 50 or more is *at risk*:
- follow-up gap (25): days since the last follow-up > 2 × the usual interval and ≥ 30 days;
- purchase gap (35): days since the last win > 1.5 × the usual purchase cycle;
- falling spend (25): won revenue of the last 12 months ≤ 70 % of the 12 months before.
- contract ending (30): an active or expired contract ended up to 30 days ago or ends within
  60 days, and the account has neither an open deal nor a contract starting on or after
  that end date (a renewal).
Complaints are not a signal: Guanxi has no service tickets.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, Max, Min, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.core import events
from guanxi.reports.models import CustomerScore, Segment
from guanxi.sales.models import Deal

CHURN_RISK = events.define(
    "account.churn_risk",
    "An account's churn-risk score crossed the at-risk threshold (payload: score, reasons)",
)

THRESHOLD = 50
CENT = Decimal("0.01")
HIGH = 3
POINTS = {"followup_gap": 25, "purchase_gap": 35, "falling_spend": 25, "contract_ending": 30}
CONTRACT_WINDOW = (30, 60)  # ended up to 30 days ago or ends within 60 days
SIGNAL_LABELS = {
    "followup_gap": _("Follow-up overdue"),
    "purchase_gap": _("Purchase overdue"),
    "falling_spend": _("Falling spend"),
    "contract_ending": _("Contract ending, no renewal"),
}

SEGMENTS: dict[tuple[bool, bool, bool], str] = {
    # (R high, F high, M high) -> segment
    (True, True, True): Segment.IMPORTANT_VALUE,
    (True, False, True): Segment.IMPORTANT_DEVELOP,
    (False, True, True): Segment.IMPORTANT_KEEP,
    (False, False, True): Segment.IMPORTANT_RETAIN,
    (True, True, False): Segment.GENERAL_VALUE,
    (True, False, False): Segment.GENERAL_DEVELOP,
    (False, True, False): Segment.GENERAL_KEEP,
    (False, False, False): Segment.GENERAL_RETAIN,
}


def quintile_scores(values: Sequence[Any]) -> list[int]:
    """Score each value 1–5 by its rank among ``values`` (higher value, higher score);
    equal values share the score of the first of them."""
    ordered = sorted(values)
    n = len(ordered)
    return [1 + (5 * bisect_left(ordered, v)) // n for v in values]


def segment_of(r: int, f: int, m: int) -> str:
    return str(SEGMENTS[(r >= HIGH, f >= HIGH, m >= HIGH)])


def _days(delta: dt.timedelta) -> float:
    return delta.total_seconds() / 86400


def churn_signals(
    *,
    now: dt.datetime,
    wins: int,
    first_win: dt.datetime,
    last_win: dt.datetime,
    last12: Decimal,
    prev12: Decimal,
    followups: int,
    first_followup: dt.datetime | None,
    last_followup: dt.datetime | None,
) -> list[dict[str, Any]]:
    """The churn signals that fire for one customer, each with its figures."""
    out: list[dict[str, Any]] = []
    if followups >= 2 and first_followup is not None and last_followup is not None:
        usual = _days(last_followup - first_followup) / (followups - 1)
        since = _days(now - last_followup)
        if since >= 30 and since > 2 * usual:
            out.append(
                {
                    "signal": "followup_gap",
                    "points": POINTS["followup_gap"],
                    "days": int(since),
                    "usual_days": round(usual, 1),
                }
            )
    if wins >= 2:
        cycle = _days(last_win - first_win) / (wins - 1)
        since = _days(now - last_win)
        if since > 1.5 * cycle:
            out.append(
                {
                    "signal": "purchase_gap",
                    "points": POINTS["purchase_gap"],
                    "days": int(since),
                    "usual_days": round(cycle, 1),
                }
            )
    if prev12 > 0 and last12 <= prev12 * Decimal("0.7"):
        drop = (prev12 - last12) / prev12 * 100
        out.append(
            {
                "signal": "falling_spend",
                "points": POINTS["falling_spend"],
                "last_12_months": str(last12.quantize(CENT, ROUND_HALF_UP)),
                "previous_12_months": str(prev12.quantize(CENT, ROUND_HALF_UP)),
                "drop_percent": int(drop.quantize(Decimal("1"))),
            }
        )
    return out


def reason_text(reason: dict[str, Any]) -> str:
    """One line explaining a churn signal, in the user's language."""
    from django.utils.translation import gettext as g

    kind = reason.get("signal")
    if kind == "followup_gap":
        return g("No follow-up for %(days)s days (usually every %(usual)s days)") % {
            "days": reason["days"],
            "usual": reason["usual_days"],
        }
    if kind == "purchase_gap":
        return g("No purchase for %(days)s days (usually every %(usual)s days)") % {
            "days": reason["days"],
            "usual": reason["usual_days"],
        }
    if kind == "contract_ending":
        return g("Contract %(number)s ends on %(day)s and no renewal deal is open") % {
            "number": reason["contract"],
            "day": reason["ends_on"],
        }
    if kind == "falling_spend":
        return g("Spend fell %(drop)s%% (last 12 months %(last)s, previous %(prev)s)") % {
            "drop": reason["drop_percent"],
            "last": reason["last_12_months"],
            "prev": reason["previous_12_months"],
        }
    return str(kind)


def _contracts_ending(now: dt.datetime) -> dict[int, dict[str, Any]]:
    """Accounts whose contract ends around ``now`` with no renewal (one SQL query)."""
    from django.db.models import Exists, OuterRef

    from guanxi.finance.models import Contract

    today = timezone.localdate(now)
    renewal_contract = (
        Contract.objects.filter(
            account_id=OuterRef("account_id"), starts_on__gte=OuterRef("ends_on")
        )
        .exclude(pk=OuterRef("pk"))
        .exclude(status=Contract.Status.TERMINATED)
    )
    open_deal = Deal.objects.filter(account_id=OuterRef("account_id"), status=Deal.Status.OPEN)
    rows = (
        Contract.objects.filter(
            status__in=[Contract.Status.ACTIVE, Contract.Status.EXPIRED],
            ends_on__gte=today - dt.timedelta(days=CONTRACT_WINDOW[0]),
            ends_on__lte=today + dt.timedelta(days=CONTRACT_WINDOW[1]),
        )
        .filter(~Exists(renewal_contract), ~Exists(open_deal))
        .order_by("account_id", "ends_on")
        .values_list("account_id", "number", "ends_on")
    )
    out: dict[int, dict[str, Any]] = {}
    for account_id, number, ends_on in rows:
        out.setdefault(
            account_id,
            {
                "signal": "contract_ending",
                "points": POINTS["contract_ending"],
                "contract": number,
                "ends_on": ends_on.isoformat() if ends_on else "",
            },
        )
    return out


def refresh(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Recompute every customer's RFM scores and churn risk; returns counts."""
    from guanxi.activities.models import Activity

    now = now or timezone.now()
    year = dt.timedelta(days=365)
    deal_rows = list(
        Deal.objects.filter(status=Deal.Status.WON, won_at__isnull=False, won_at__lte=now)
        .values("account_id")
        .annotate(
            first=Min("won_at"),
            last=Max("won_at"),
            n=Count("id"),
            total=Sum("amount"),
            last12=Sum("amount", filter=Q(won_at__gt=now - year)),
            prev12=Sum("amount", filter=Q(won_at__gt=now - 2 * year, won_at__lte=now - year)),
        )
        .order_by()
    )
    follow = {
        row["target_id"]: row
        for row in Activity.objects.filter(target_entity="account", occurred_at__lte=now)
        .values("target_id")
        .annotate(first=Min("occurred_at"), last=Max("occurred_at"), n=Count("id"))
        .order_by()
    }
    ending = _contracts_ending(now)
    was_at_risk = set(
        CustomerScore.objects.filter(at_risk=True).values_list("account_id", flat=True)
    )
    recency = [int(_days(now - r["last"])) for r in deal_rows]
    totals = [r["total"] or Decimal(0) for r in deal_rows]
    r_scores = quintile_scores([-d for d in recency])
    f_scores = quintile_scores([r["n"] for r in deal_rows])
    m_scores = quintile_scores(totals)
    scores: list[CustomerScore] = []
    crossed: list[CustomerScore] = []
    for i, row in enumerate(deal_rows):
        f = follow.get(row["account_id"], {})
        reasons = churn_signals(
            now=now,
            wins=row["n"],
            first_win=row["first"],
            last_win=row["last"],
            last12=row["last12"] or Decimal(0),
            prev12=row["prev12"] or Decimal(0),
            followups=f.get("n", 0),
            first_followup=f.get("first"),
            last_followup=f.get("last"),
        )
        if row["account_id"] in ending:
            reasons.append(ending[row["account_id"]])
        churn = min(100, sum(r["points"] for r in reasons))
        score = CustomerScore(
            account_id=row["account_id"],
            last_won_at=row["last"],
            recency_days=recency[i],
            frequency=row["n"],
            monetary=totals[i].quantize(CENT, ROUND_HALF_UP),
            r_score=r_scores[i],
            f_score=f_scores[i],
            m_score=m_scores[i],
            segment=segment_of(r_scores[i], f_scores[i], m_scores[i]),
            churn_score=churn,
            churn_reasons=reasons,
            at_risk=churn >= THRESHOLD,
            computed_at=now,
        )
        scores.append(score)
        if score.at_risk and row["account_id"] not in was_at_risk:
            crossed.append(score)
    with transaction.atomic():
        CustomerScore.objects.all().delete()
        CustomerScore.objects.bulk_create(scores, batch_size=2000)
        for score in crossed:
            events.emit(
                CHURN_RISK,
                {
                    "account_id": score.account_id,
                    "score": score.churn_score,
                    "reasons": score.churn_reasons,
                },
            )
    return {
        "customers": len(scores),
        "at_risk": sum(s.at_risk for s in scores),
        "crossed": len(crossed),
    }
