"""Every read of accounts and contacts: scoped (core.permissions), paginated, no N+1."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import QuerySet

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
from guanxi.customers.models import Account, Contact

if TYPE_CHECKING:
    from guanxi.identity.models import User

ACCOUNT_SORTABLE = {"created_at", "updated_at", "name", "tier", "lifecycle_stage"}
CONTACT_SORTABLE = {"created_at", "updated_at", "name", "last_contacted_at", "birthday"}


def _accounts() -> QuerySet[Account]:
    return Account.objects.select_related("owner", "parent", "score")


def _score_of(account: Account) -> Any:
    """The account's stored RFM / churn score, or None (not a customer yet)."""
    try:
        return getattr(account, "score")  # noqa: B009  (reverse one-to-one, untyped)
    except ObjectDoesNotExist:
        return None


def _contacts() -> QuerySet[Contact]:
    return Contact.objects.select_related("owner", "account")


ACCOUNT_PARAMS = (
    "tier",
    "lifecycle_stage",
    "city",
    "tag",
    "owner",
    "industry",
    "province",
    "size",
    "rfm_segment",
    "at_risk",
)
CONTACT_PARAMS = ("tag", "owner", "account")


def _custom_params(params: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k[7:]: v
        for k, v in params.items()
        if k.startswith("custom.") and len(k) > 7 and v not in (None, "")
    }


def list_params(params: Mapping[str, Any], names: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
    """A list page's query-string parameters as (search text, selector filters)."""
    filters: dict[str, Any] = {k: params.get(k) for k in names}
    custom = _custom_params(params)
    if custom:
        filters["custom"] = custom
    return str(params.get("q") or ""), filters


def account_queryset(
    *, actor: User, q: str = "", filters: dict[str, Any] | None = None, action: str = "view"
) -> QuerySet[Account]:
    """The accounts ``actor`` may ``action`` matching the search and filters (unsorted)."""
    qs = permissions.scoped_queryset(actor, "account", action, base=_accounts())
    cond = search_q(q, text_fields=["name"], contact_points=False)
    if cond is not None:
        qs = qs.filter(cond)
    given = dict(filters or {})
    segment = given.pop("rfm_segment", None)
    if segment not in (None, ""):
        from guanxi.reports.analytics.selectors import segment_value

        qs = qs.filter(score__segment=segment_value(segment))
    at_risk = given.pop("at_risk", None)
    if at_risk not in (None, ""):
        qs = qs.filter(score__at_risk=str(at_risk).lower() in ("1", "true", "yes"))
    return apply_filters(qs, entity_key="account", filters=given, actor_id=actor.pk)


def account_list(
    *,
    actor: User,
    q: str = "",
    filters: dict[str, Any] | None = None,
    sort: str = "-created_at",
    page: Any = 1,
    page_size: Any = 50,
) -> Page:
    """A page of the accounts ``actor`` may see (own scope plus collaborations).

    ``filters``: owner, tier, lifecycle_stage, industry, province, city, tag, created_from,
    created_to, custom."""
    qs = account_queryset(actor=actor, q=q, filters=filters)
    qs = apply_sort(qs, entity_key="account", sort=sort, allowed=ACCOUNT_SORTABLE)
    return paginate(qs, page, page_size)


def account_suggestions(*, actor: User, q: str, limit: int = 10) -> list[Account]:
    """Accounts in ``actor``'s scope whose name, pinyin or initials match ``q`` (type-ahead):
    one query, at most ``limit`` rows, best matches (name prefix) first."""
    q = (q or "").strip()
    if not q or not permissions.can(actor, "account", "view"):
        return []
    qs = account_queryset(actor=actor, q=q)
    return list(qs.order_by("name_pinyin", "id")[:limit])


def account_get_for_user(*, actor: User, pk: Any, action: str = "view") -> Account:
    return permissions.get_for_user(actor, "account", pk, action, base=_accounts())


def account_as_dict(
    *, actor: User, account: Account, mask: set[str] | None = None
) -> dict[str, Any]:
    """The JSON of an account (no phone fields of its own; masking kept for symmetry)."""
    parent = account.parent if account.parent_id else None
    data: dict[str, Any] = {
        **base_dict(account),
        "name": account.name,
        "name_pinyin": account.name_pinyin,
        "name_initials": account.name_initials,
        "industry": account.industry,
        "size": account.size,
        "province": account.province,
        "city": account.city,
        "address": account.address,
        "website": account.website,
        "tier": account.tier,
        "lifecycle_stage": account.lifecycle_stage,
        "parent": {"id": parent.pk, "name": parent.name} if parent is not None else None,
        "credit_code": account.credit_code,
        "special_requirements": account.special_requirements,
        "tags": list(account.tags or []),
        "last_contacted_at": iso(account.last_contacted_at),
        "pool_locked": account.pool_locked,
        "pool_department_id": account.pool_department_id if account.owner_id is None else None,
    }
    score = _score_of(account)
    data["rfm_segment"] = score.segment if score is not None else ""
    data["churn_score"] = score.churn_score if score is not None else None
    return permissions.apply_mask(actor, "account", data, mask)


def contact_list(
    *,
    actor: User,
    q: str = "",
    filters: dict[str, Any] | None = None,
    sort: str = "-created_at",
    page: Any = 1,
    page_size: Any = 50,
) -> Page:
    """A page of the contacts ``actor`` may see. ``filters``: owner, account (id), tag,
    created_from, created_to, custom, consent_marketing."""
    qs = contact_queryset(actor=actor, q=q, filters=filters)
    qs = apply_sort(qs, entity_key="contact", sort=sort, allowed=CONTACT_SORTABLE)
    return paginate(qs, page, page_size)


def contact_queryset(
    *, actor: User, q: str = "", filters: dict[str, Any] | None = None, action: str = "view"
) -> QuerySet[Contact]:
    """The contacts ``actor`` may ``action`` matching the search and filters (unsorted)."""
    qs = permissions.scoped_queryset(actor, "contact", action, base=_contacts())
    cond = search_q(q, text_fields=["name", "account__name"])
    if cond is not None:
        qs = qs.filter(cond)
    given = dict(filters or {})
    if given.get("account"):
        try:
            given["account_id"] = int(given.pop("account"))
        except (TypeError, ValueError) as exc:
            from django.utils.translation import gettext as _

            from guanxi.core.errors import FieldError, ValidationFailed

            raise ValidationFailed([FieldError("account", _("Enter an account id."))]) from exc
    else:
        given.pop("account", None)
    return apply_filters(qs, entity_key="contact", filters=given, actor_id=actor.pk)


def contact_get_for_user(*, actor: User, pk: Any, action: str = "view") -> Contact:
    return permissions.get_for_user(actor, "contact", pk, action, base=_contacts())


def contact_as_dict(
    *, actor: User, contact: Contact, mask: set[str] | None = None
) -> dict[str, Any]:
    """The JSON of a contact, masked for ``actor``."""
    account = contact.account if contact.account_id else None
    data: dict[str, Any] = {
        **base_dict(contact),
        "name": contact.name,
        "name_pinyin": contact.name_pinyin,
        "name_initials": contact.name_initials,
        "account": {"id": account.pk, "name": account.name} if account is not None else None,
        "title": contact.title,
        **contact_points(contact),
        "wechat": contact.wechat,
        "birthday": iso(contact.birthday),
        "is_primary": contact.is_primary,
        "preferred_channel": contact.preferred_channel,
        "consent_marketing": contact.consent_marketing,
        "consent_source": contact.consent_source,
        "consent_at": iso(contact.consent_at),
        "tags": list(contact.tags or []),
        "notes": contact.notes,
        "last_contacted_at": iso(contact.last_contacted_at),
    }
    return permissions.apply_mask(actor, "contact", data, mask)
