"""Columns and saved-view keys of the account and contact lists (see guanxi.core.lists)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from guanxi.core import lists
from guanxi.core.lists import Column, choice, owner, tags, text, when


def _lifecycle(obj: Any, data: dict[str, Any]) -> SafeString:
    return format_html('<span class="tag">{}</span>', obj.get_lifecycle_stage_display())


def _parent(obj: Any, data: dict[str, Any]) -> SafeString:
    parent = data.get("parent")
    if not parent:
        return format_html("{}", lists.DASH)
    return format_html(
        '<a href="{}">{}</a>',
        reverse("customers:account_detail", args=[parent["id"]]),
        parent["name"],
    )


def _account(obj: Any, data: dict[str, Any]) -> SafeString:
    """The account, with its special requirements (客户特殊要求) so they are never missed."""
    account = obj.account if obj.account_id else None
    if account is None:
        return format_html("{}", lists.DASH)
    special = account.special_requirements
    return format_html(
        '<a href="{}">{}</a>{}',
        reverse("customers:account_detail", args=[account.pk]),
        account.name,
        format_html(
            '<span class="special-inline" title="{}">⚠ {}: {}</span>',
            special,
            _("Special requirements"),
            special if len(special) <= 40 else special[:39] + "…",
        )
        if special
        else "",
    )


def _yes_no(name: str) -> lists.Render:
    def render(obj: Any, data: dict[str, Any]) -> SafeString:
        return format_html("{}", _("Yes") if data.get(name) else _("No"))

    return render


ACCOUNT_LIST = lists.register(
    lists.ListSpec(
        entity="account",
        columns=[
            Column("tier", _("Tier"), text("tier")),
            Column("lifecycle_stage", _("Lifecycle stage"), _lifecycle),
            Column("industry", _("Industry"), text("industry")),
            Column("size", _("Size"), text("size")),
            Column("province", _("Province"), text("province")),
            Column("city", _("City"), text("city")),
            Column("address", _("Address"), text("address")),
            Column("website", _("Website"), text("website")),
            Column("credit_code", _("Unified social credit code"), text("credit_code")),
            Column("parent", _("Parent account"), _parent),
            Column("tags", _("Tags"), tags),
            Column("owner", _("Owner"), owner),
            Column("created_at", _("Created"), when("created_at")),
            Column("updated_at", _("Changed"), when("updated_at")),
        ],
        default_columns=["tier", "lifecycle_stage", "industry", "city", "owner"],
        query_keys={"q", "tier", "lifecycle_stage", "city", "tag", "sort", "owner"},
        url_name="customers:account_list",
    )
)

CONTACT_LIST = lists.register(
    lists.ListSpec(
        entity="contact",
        columns=[
            Column("account", _("Account"), _account),
            Column("title", _("Job title"), text("title")),
            Column("mobile", _("Mobile"), text("mobile")),
            Column("phone", _("Phone"), text("phone")),
            Column("email", _("E-mail"), text("email")),
            Column("wechat", _("WeChat ID"), text("wechat")),
            Column("birthday", _("Birthday"), text("birthday")),
            Column("preferred_channel", _("Preferred channel"), choice("preferred_channel")),
            Column("consent_marketing", _("Agrees to marketing"), _yes_no("consent_marketing")),
            Column("tags", _("Tags"), tags),
            Column("owner", _("Owner"), owner),
            Column("last_contacted_at", _("Last contacted"), when("last_contacted_at")),
            Column("created_at", _("Created"), when("created_at")),
            Column("updated_at", _("Changed"), when("updated_at")),
        ],
        default_columns=["account", "title", "mobile", "email", "owner", "last_contacted_at"],
        query_keys={"q", "tag", "sort", "owner", "account"},
        url_name="customers:contact_list",
    )
)
