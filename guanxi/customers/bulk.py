"""Bulk actions on the account and contact lists (see guanxi.core.bulk). Accounts that
still have contacts are never deleted in bulk (skipped: still in use)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy

from guanxi.core import bulk
from guanxi.customers import common, selectors, services
from guanxi.customers.models import Account, Contact

if TYPE_CHECKING:
    from guanxi.identity.models import User


def _cleaner(spec: dict[str, common.FieldSpec], name: str) -> Any:
    return lambda value: common.clean_field(name, spec[name], value)


def _choices(choices: list[tuple[str, Any]], blank: bool) -> Any:
    def offered() -> list[tuple[str, str]]:
        items = [(str(v), str(label)) for v, label in choices]
        return [("", "—"), *items] if blank else items

    return offered


def _accounts(actor: User, params: dict[str, Any]) -> QuerySet[Account]:
    q, filters = selectors.list_params(params, selectors.ACCOUNT_PARAMS)
    return selectors.account_queryset(actor=actor, q=q, filters=filters)


def _contacts(actor: User, params: dict[str, Any]) -> QuerySet[Contact]:
    q, filters = selectors.list_params(params, selectors.CONTACT_PARAMS)
    return selectors.contact_queryset(actor=actor, q=q, filters=filters)


def _accounts_in_use(ids: list[int]) -> set[int]:
    """Accounts that still have contacts (deleting them is refused)."""
    return set(
        Contact.objects.filter(account_id__in=ids).values_list("account_id", flat=True).distinct()
    )


A_SPEC = services.ACCOUNT_SPEC
C_SPEC = services.CONTACT_SPEC

ACCOUNT_BULK = bulk.register(
    bulk.BulkSpec(
        entity="account",
        fields=[
            bulk.BulkField(
                "tier",
                gettext_lazy("Tier"),
                _cleaner(A_SPEC, "tier"),
                choices=_choices(Account.Tier.choices, blank=True),
            ),
            bulk.BulkField(
                "lifecycle_stage",
                gettext_lazy("Lifecycle stage"),
                _cleaner(A_SPEC, "lifecycle_stage"),
                choices=_choices(Account.Lifecycle.choices, blank=False),
            ),
            bulk.BulkField("industry", gettext_lazy("Industry"), _cleaner(A_SPEC, "industry")),
            bulk.BulkField("size", gettext_lazy("Size"), _cleaner(A_SPEC, "size")),
            bulk.BulkField("province", gettext_lazy("Province"), _cleaner(A_SPEC, "province")),
            bulk.BulkField("city", gettext_lazy("City"), _cleaner(A_SPEC, "city")),
        ],
        filtered=_accounts,
        transfer=services.account_transfer,
        updated_event=services.ACCOUNT_UPDATED,
        deleted_event=services.ACCOUNT_DELETED,
        in_use=_accounts_in_use,
    )
)

CONTACT_BULK = bulk.register(
    bulk.BulkSpec(
        entity="contact",
        fields=[
            bulk.BulkField("title", gettext_lazy("Job title"), _cleaner(C_SPEC, "title")),
            bulk.BulkField(
                "preferred_channel",
                gettext_lazy("Preferred channel"),
                _cleaner(C_SPEC, "preferred_channel"),
                choices=_choices(Contact.Channel.choices, blank=True),
            ),
        ],
        filtered=_contacts,
        transfer=services.contact_transfer,
        updated_event=services.CONTACT_UPDATED,
        deleted_event=services.CONTACT_DELETED,
    )
)
