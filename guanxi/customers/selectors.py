"""Every read of accounts and contacts: scoped (core.permissions), paginated, no N+1."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
    return Account.objects.select_related("owner", "parent")


def _contacts() -> QuerySet[Contact]:
    return Contact.objects.select_related("owner", "account")


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
    qs = permissions.scoped_queryset(actor, "account", base=_accounts())
    cond = search_q(q, text_fields=["name"], contact_points=False)
    if cond is not None:
        qs = qs.filter(cond)
    qs = apply_filters(qs, entity_key="account", filters=dict(filters or {}), actor_id=actor.pk)
    qs = apply_sort(qs, entity_key="account", sort=sort, allowed=ACCOUNT_SORTABLE)
    return paginate(qs, page, page_size)


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
    qs = permissions.scoped_queryset(actor, "contact", base=_contacts())
    cond = search_q(q, text_fields=["name", "account__name"])
    if cond is not None:
        qs = qs.filter(cond)
    given = dict(filters or {})
    if given.get("account"):
        given["account_id"] = given.pop("account")
    qs = apply_filters(qs, entity_key="contact", filters=given, actor_id=actor.pk)
    qs = apply_sort(qs, entity_key="contact", sort=sort, allowed=CONTACT_SORTABLE)
    return paginate(qs, page, page_size)


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
