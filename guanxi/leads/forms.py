"""Forms of the lead pages: the list filters, the create / edit form and the convert dialog.

Validation of phones, e-mail, custom values and duplicates is the service's job; these
forms only shape the input.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.customers.forms import (
    add_custom_fields,
    custom_data,
    datetime_field,
    plain_data,
)
from guanxi.customers.models import Account
from guanxi.leads.models import Lead, LeadSource

SORTS = [
    ("-created_at", _("Newest first")),
    ("created_at", _("Oldest first")),
    ("-score", _("Highest score")),
    ("next_followup_at", _("Next follow-up")),
    ("-last_contacted_at", _("Recently contacted")),
    ("last_contacted_at", _("Longest without contact")),
    ("name", _("Name")),
    ("-updated_at", _("Recently changed")),
]
OPEN_STATUSES = [s for s in Lead.Status.choices if s[0] != Lead.Status.CONVERTED]


def _source_choices(sources: list[LeadSource]) -> list[tuple[str, str]]:
    return [(s.code, s.name_zh) for s in sources]


class LeadFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("Name, company, phone, e-mail…")}),
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *Lead.Status.choices]
    )
    source = forms.ChoiceField(label=_("Source"), required=False)
    city = forms.CharField(label=_("City"), required=False)
    tag = forms.CharField(label=_("Tag"), required=False)
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=SORTS)
    # Set by the saved-view tabs; kept as hidden inputs so filtering stays inside a view.
    owner = forms.CharField(required=False, widget=forms.HiddenInput)
    view = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, sources: list[LeadSource], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [  # type: ignore[attr-defined]
            ("", _("Any source")),
            *_source_choices(sources),
        ]


LEAD_FIELDS = [
    "name",
    "company",
    "title",
    "mobile",
    "phone",
    "email",
    "wechat",
    "source",
    "campaign",
    "province",
    "city",
    "industry",
    "status",
    "score",
    "next_followup_at",
    "last_contacted_at",
    "notes",
    "tags",
]


class LeadForm(forms.Form):
    name = forms.CharField(label=_("Full name"), max_length=100)
    company = forms.CharField(label=_("Company"), max_length=200, required=False)
    title = forms.CharField(label=_("Job title"), max_length=100, required=False)
    mobile = forms.CharField(
        label=_("Mobile"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel"}),
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=40,
        required=False,
        help_text=_("Landline with area code; extension after 转 or ext."),
        widget=forms.TextInput(attrs={"type": "tel"}),
    )
    email = forms.CharField(
        label=_("E-mail"), max_length=254, required=False, widget=forms.EmailInput
    )
    wechat = forms.CharField(label=_("WeChat ID"), max_length=100, required=False)
    source = forms.ChoiceField(label=_("Source"), required=False)
    campaign = forms.CharField(label=_("Campaign"), max_length=200, required=False)
    province = forms.CharField(label=_("Province"), max_length=50, required=False)
    city = forms.CharField(label=_("City"), max_length=50, required=False)
    industry = forms.CharField(label=_("Industry"), max_length=100, required=False)
    status = forms.ChoiceField(label=_("Status"), choices=OPEN_STATUSES)
    score = forms.IntegerField(label=_("Score"), required=False)
    next_followup_at = datetime_field(_("Next follow-up"))
    last_contacted_at = datetime_field(_("Last contacted"))
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    tags = forms.CharField(
        label=_("Tags"), required=False, help_text=_("Separate tags with commas.")
    )

    def __init__(
        self,
        *args: Any,
        sources: list[LeadSource],
        custom: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [  # type: ignore[attr-defined]
            ("", "—"),
            *_source_choices(sources),
        ]
        add_custom_fields(self, "lead", custom)

    def service_data(self, *, changed_only: bool = False) -> dict[str, Any]:
        data = plain_data(self, LEAD_FIELDS, changed_only=changed_only)
        if "score" in data and data["score"] is None:
            data["score"] = 0
        custom = custom_data(self, changed_only=changed_only)
        if custom or not changed_only:
            data["custom"] = custom
        return data


def lead_initial(lead: Lead) -> dict[str, Any]:
    """The edit form's starting values."""
    initial: dict[str, Any] = {name: getattr(lead, name) for name in LEAD_FIELDS}
    initial["source"] = lead.source.code if lead.source_id and lead.source else ""
    initial["tags"] = ", ".join(lead.tags or [])
    return initial


class ConvertForm(forms.Form):
    account_id = forms.TypedChoiceField(
        label=_("Account"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("Leave empty to find or create the account named after the company."),
    )

    def __init__(
        self, *args: Any, accounts: list[Account], with_deal: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["account_id"].choices = [  # type: ignore[attr-defined]
            ("", _("Create from the company name")),
            *((a.pk, a.name) for a in accounts),
        ]
        if with_deal:
            self.fields["create_deal"] = forms.BooleanField(
                label=_("Also create a deal"), required=False
            )
            self.fields["deal_name"] = forms.CharField(
                label=_("Deal name"),
                max_length=200,
                required=False,
                help_text=_("Empty: named after the company."),
            )
            self.fields["deal_amount"] = forms.CharField(
                label=_("Deal amount"),
                required=False,
                widget=forms.TextInput(attrs={"inputmode": "decimal"}),
            )
            self.fields["deal_expected_close_date"] = forms.DateField(
                label=_("Expected close date"),
                required=False,
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            )

    def deal_data(self) -> dict[str, Any] | None:
        """The deal fields for ``lead_convert`` (None when no deal is wanted)."""
        if not self.cleaned_data.get("create_deal"):
            return None
        data: dict[str, Any] = {}
        if self.cleaned_data.get("deal_name"):
            data["name"] = self.cleaned_data["deal_name"]
        if self.cleaned_data.get("deal_amount"):
            data["amount"] = self.cleaned_data["deal_amount"]
        if self.cleaned_data.get("deal_expected_close_date"):
            data["expected_close_date"] = self.cleaned_data["deal_expected_close_date"]
        return data
