"""Reads of the stored customer scores, through the account scope."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _

from guanxi.core import permissions
from guanxi.core.errors import FieldError, ValidationFailed
from guanxi.core.pagination import paginate
from guanxi.identity.models import User
from guanxi.reports.analytics.scores import SIGNAL_LABELS, THRESHOLD, reason_text
from guanxi.reports.models import CustomerScore, Segment

SEGMENT_RULES: dict[str, str] = {
    Segment.IMPORTANT_VALUE: "R↑ F↑ M↑",
    Segment.IMPORTANT_DEVELOP: "R↑ F↓ M↑",
    Segment.IMPORTANT_KEEP: "R↓ F↑ M↑",
    Segment.IMPORTANT_RETAIN: "R↓ F↓ M↑",
    Segment.GENERAL_VALUE: "R↑ F↑ M↓",
    Segment.GENERAL_DEVELOP: "R↑ F↓ M↓",
    Segment.GENERAL_KEEP: "R↓ F↑ M↓",
    Segment.GENERAL_RETAIN: "R↓ F↓ M↓",
}


def scores(actor: User) -> QuerySet[CustomerScore]:
    """The scores of the accounts ``actor`` may see."""
    accounts = permissions.scoped_queryset(actor, "account").values("pk")
    return CustomerScore.objects.filter(account_id__in=accounts).select_related(
        "account", "account__owner"
    )


def segment_value(value: Any) -> str:
    text = str(value or "").strip()
    if text not in Segment.values:
        raise ValidationFailed(
            [FieldError("segment", _("Choose one of: %(s)s.") % {"s": ", ".join(Segment.values)})]
        )
    return text


def rfm_summary(*, actor: User) -> dict[str, Any]:
    """Accounts per segment (in ``actor``'s scope), in the segments' order."""
    counts = dict(scores(actor).values_list("segment").annotate(n=Count("account_id")).order_by())
    total = sum(counts.values())
    return {
        "total": total,
        "segments": [
            {
                "segment": value,
                "label": str(label),
                "rule": SEGMENT_RULES[value],
                "accounts": counts.get(value, 0),
                "share": round(counts.get(value, 0) / total, 4) if total else None,
            }
            for value, label in Segment.choices
        ],
        "computed_at": scores(actor).values_list("computed_at", flat=True).first(),
    }


def score_as_dict(score: CustomerScore) -> dict[str, Any]:
    return {
        "account_id": score.account_id,
        "account_name": score.account.name,
        "owner": score.account.owner.label if score.account.owner is not None else None,
        "last_won_at": score.last_won_at.isoformat() if score.last_won_at else None,
        "recency_days": score.recency_days,
        "frequency": score.frequency,
        "monetary": str(score.monetary),
        "r_score": score.r_score,
        "f_score": score.f_score,
        "m_score": score.m_score,
        "segment": score.segment,
        "segment_label": score.get_segment_display(),
        "churn_score": score.churn_score,
        "at_risk": score.at_risk,
        "reasons": [
            {**r, "label": str(SIGNAL_LABELS.get(r["signal"], r["signal"])), "text": reason_text(r)}
            for r in score.churn_reasons
        ],
    }


def rfm_list(*, actor: User, segment: str = "", page: Any = 1, page_size: Any = 50) -> Any:
    qs = scores(actor)
    if segment:
        qs = qs.filter(segment=segment_value(segment))
    return paginate(qs.order_by("-monetary", "account_id"), page, page_size)


def churn_list(*, actor: User, page: Any = 1, page_size: Any = 50, all_: bool = False) -> Any:
    """Accounts at risk (or every scored account with ``all_``), highest score first."""
    qs = scores(actor)
    if not all_:
        qs = qs.filter(at_risk=True)
    return paginate(qs.order_by("-churn_score", "account_id"), page, page_size)


__all__ = ["THRESHOLD", "churn_list", "rfm_list", "rfm_summary", "score_as_dict", "scores"]
