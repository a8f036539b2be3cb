"""Columns and saved-view keys of the lead list (see guanxi.core.lists)."""

from __future__ import annotations

from typing import Any

from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from guanxi.core import lists
from guanxi.core.lists import Column, owner, tags, text, when


def _status(obj: Any, data: dict[str, Any]) -> SafeString:
    return format_html(
        '<span class="tag status-{}">{}</span>', obj.status, obj.get_status_display()
    )


def _source(obj: Any, data: dict[str, Any]) -> SafeString:
    return format_html("{}", data.get("source_name") or lists.DASH)


LEAD_LIST = lists.register(
    lists.ListSpec(
        entity="lead",
        columns=[
            Column("company", _("Company"), text("company")),
            Column("title", _("Job title"), text("title")),
            Column("mobile", _("Mobile"), text("mobile")),
            Column("phone", _("Phone"), text("phone")),
            Column("email", _("E-mail"), text("email")),
            Column("wechat", _("WeChat ID"), text("wechat")),
            Column("source", _("Source"), _source),
            Column("campaign", _("Campaign"), text("campaign")),
            Column("status", _("Status"), _status),
            Column("score", _("Score"), text("score")),
            Column("province", _("Province"), text("province")),
            Column("city", _("City"), text("city")),
            Column("industry", _("Industry"), text("industry")),
            Column("tags", _("Tags"), tags),
            Column("owner", _("Owner"), owner),
            Column("next_followup_at", _("Next follow-up"), when("next_followup_at")),
            Column("last_contacted_at", _("Last contacted"), when("last_contacted_at")),
            Column("created_at", _("Created"), when("created_at")),
            Column("updated_at", _("Changed"), when("updated_at")),
        ],
        default_columns=[
            "company",
            "mobile",
            "source",
            "status",
            "score",
            "owner",
            "next_followup_at",
            "last_contacted_at",
        ],
        query_keys={"q", "status", "source", "city", "tag", "sort", "owner", "view"},
        url_name="leads:list",
    )
)
