"""Columns and saved-view keys of the lead list (see guanxi.core.lists)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from guanxi.core import lists
from guanxi.core.lists import Column, detail_url, esc, owner, tag_spans, tags, text, when


def _status(obj: Any, data: dict[str, Any]) -> str:
    return f'<span class="tag status-{esc(obj.status)}">{esc(obj.get_status_display())}</span>'


def _source(obj: Any, data: dict[str, Any]) -> str:
    name = data.get("source_name")
    return esc(name) if name else lists.DASH


def _name(obj: Any, data: dict[str, Any]) -> str:
    spans = tag_spans(data.get("tags"))
    link = f'<a href="{detail_url("leads:detail", obj.pk)}">{esc(data.get("name"))}</a>'
    return f"{link} {spans}" if spans else link


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
        name_cell=_name,
        name_label=_("Full name"),
    )
)
