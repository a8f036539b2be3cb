"""Every read of leads: scoped (core.permissions), paginated, no N+1."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.utils import timezone

from guanxi.core import permissions
from guanxi.core.pagination import Page, paginate
from guanxi.customers.listing import (
    apply_filters,
    apply_sort,
    base_dict,
    contact_points,
    iso,
    search_q,
)
from guanxi.leads.models import Lead, LeadSource

if TYPE_CHECKING:
    from guanxi.identity.models import User

SORTABLE = {
    "created_at",
    "updated_at",
    "name",
    "score",
    "next_followup_at",
    "last_contacted_at",
    "status",
}
FILTERS = {
    "owner",
    "status",
    "source",
    "city",
    "province",
    "industry",
    "tag",
    "created_from",
    "created_to",
    "custom",
}


STALE_DAYS = 7
# The list page's query-string filters (besides q, sort, view and custom.<key>).
LIST_PARAMS = ("status", "source", "city", "tag", "owner", "created_from", "created_to")


def _base() -> QuerySet[Lead]:
    return Lead.objects.select_related("owner", "source")


def preset_filters(view: str, actor: User) -> dict[str, Any]:
    """The selector filters of a built-in view (我负责的, 我部门的, 今日新增, 7 天未跟进, 公海)."""
    if view == "mine":
        return {"owner": "me"}
    if view == "pool":
        return {"owner": "none"}
    if view == "department":
        if actor.department_id is None:
            return {"owner": "me"}
        return {"owner__department": actor.department_id}
    if view == "today":
        return {"created_from": timezone.localdate()}
    if view == "stale":
        cutoff = timezone.now() - dt.timedelta(days=STALE_DAYS)
        return {"last_contacted_at__lt": cutoff}
    return {}


def custom_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """``custom.<key>`` query-string parameters as a custom-field filter."""
    return {
        k[7:]: v
        for k, v in params.items()
        if k.startswith("custom.") and len(k) > 7 and v not in (None, "")
    }


def lead_params(*, actor: User, params: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The list page's query-string parameters as (search text, selector filters)."""
    filters: dict[str, Any] = {k: params.get(k) for k in LIST_PARAMS}
    filters.update(preset_filters(str(params.get("view") or ""), actor))
    custom = custom_params(params)
    if custom:
        filters["custom"] = custom
    return str(params.get("q") or ""), filters


def lead_queryset(
    *, actor: User, q: str = "", filters: dict[str, Any] | None = None, action: str = "view"
) -> QuerySet[Lead]:
    """The leads ``actor`` may ``action`` matching the search and filters (unsorted)."""
    qs: QuerySet[Lead] = permissions.scoped_queryset(actor, "lead", action, base=_base())
    cond = search_q(q, text_fields=["name", "company"])
    if cond is not None:
        qs = qs.filter(cond)
    given = dict(filters or {})
    if given.get("source"):
        given["source__code"] = given.pop("source")
    return apply_filters(qs, entity_key="lead", filters=given, actor_id=actor.pk)


def lead_list(
    *,
    actor: User,
    q: str = "",
    filters: dict[str, Any] | None = None,
    sort: str = "-created_at",
    page: Any = 1,
    page_size: Any = 50,
) -> Page:
    """A page of the leads ``actor`` may see. ``filters``: owner (id / "me" / "none"),
    status, source (code), city, province, industry, tag, created_from, created_to,
    custom ({key: value, key__gte: value})."""
    qs = lead_queryset(actor=actor, q=q, filters=filters)
    qs = apply_sort(qs, entity_key="lead", sort=sort, allowed=SORTABLE)
    return paginate(qs, page, page_size)


def lead_get_for_user(*, actor: User, pk: Any, action: str = "view") -> Lead:
    """One lead in ``actor``'s scope for ``action`` (OutOfScope → 404 otherwise)."""
    return permissions.get_for_user(actor, "lead", pk, action, base=_base())


def lead_as_dict(*, actor: User, lead: Lead, mask: set[str] | None = None) -> dict[str, Any]:
    """The DESIGN §3 JSON of a lead, masked for ``actor``."""
    source = lead.source if lead.source_id else None
    data: dict[str, Any] = {
        **base_dict(lead),
        "name": lead.name,
        "name_pinyin": lead.name_pinyin,
        "name_initials": lead.name_initials,
        "company": lead.company,
        "title": lead.title,
        **contact_points(lead),
        "wechat": lead.wechat,
        "source": source.code if source else None,
        "source_name": source.name_zh if source else None,
        "campaign": lead.campaign,
        "status": lead.status,
        "score": lead.score,
        "score_reasons": list(lead.score_reasons or []),
        "province": lead.province,
        "city": lead.city,
        "industry": lead.industry,
        "tags": list(lead.tags or []),
        "next_followup_at": iso(lead.next_followup_at),
        "last_contacted_at": iso(lead.last_contacted_at),
        "notes": lead.notes,
        "converted_at": iso(lead.converted_at),
        "converted_account_id": lead.converted_account_id,
        "converted_contact_id": lead.converted_contact_id,
        "assigned_reason": lead.assigned_reason,
        "pool_locked": lead.pool_locked,
        "pool_department_id": lead.pool_department_id if lead.owner_id is None else None,
        "consent_marketing": lead.consent_marketing,
        "consent_source": lead.consent_source,
        "consent_at": iso(lead.consent_at),
    }
    return permissions.apply_mask(actor, "lead", data, mask)


def source_list(*, active_only: bool = True) -> list[LeadSource]:
    qs = LeadSource.objects.all()
    return list(qs.filter(active=True) if active_only else qs)
