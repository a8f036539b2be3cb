"""Columns and saved-view keys of the account and contact lists (see guanxi.core.lists)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from guanxi.core import lists
from guanxi.core.lists import Column, choice, detail_url, esc, owner, tag_spans, tags, text, when


def _lifecycle(obj: Any, data: dict[str, Any]) -> str:
    return f'<span class="tag">{esc(obj.get_lifecycle_stage_display())}</span>'


def _special(special: str) -> str:
    """客户特殊要求 next to the account's name, so it is never missed."""
    if not special:
        return ""
    short = special if len(special) <= 40 else special[:39] + "…"
    label = esc(gettext("Special requirements"))
    return f'<span class="special-inline" title="{esc(special)}">⚠ {label}: {esc(short)}</span>'


def _account_link(pk: Any, name: Any) -> str:
    return f'<a href="{detail_url("customers:account_detail", pk)}">{esc(name)}</a>'


def _parent(obj: Any, data: dict[str, Any]) -> str:
    parent = data.get("parent")
    return _account_link(parent["id"], parent["name"]) if parent else lists.DASH


def _account(obj: Any, data: dict[str, Any]) -> str:
    """The contact's account, with its special requirements."""
    account = obj.account if obj.account_id else None
    if account is None:
        return lists.DASH
    return _account_link(account.pk, account.name) + _special(account.special_requirements)


def _yes_no(name: str) -> lists.Render:
    def render(obj: Any, data: dict[str, Any]) -> str:
        return esc(gettext("Yes") if data.get(name) else gettext("No"))

    return render


def _account_name(obj: Any, data: dict[str, Any]) -> str:
    spans = tag_spans(obj.tags)
    return (
        _account_link(obj.pk, obj.name)
        + (f" {spans}" if spans else "")
        + _special(obj.special_requirements)
    )


def _contact_name(obj: Any, data: dict[str, Any]) -> str:
    link = f'<a href="{detail_url("customers:contact_detail", obj.pk)}">{esc(data.get("name"))}</a>'
    if obj.is_primary:
        return f'{link} <span class="tag tag-ok">{esc(gettext("Primary"))}</span>'
    return link


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
        name_cell=_account_name,
        name_label=_("Name"),
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
        name_cell=_contact_name,
        name_label=_("Full name"),
    )
)
