"""Forms of the account and contact pages, and the custom-field helpers leads share.

Forms only shape input for the services; every rule (phones, e-mail, credit code,
duplicates, custom values) is checked by the service and mapped back with
``guanxi.web.forms.apply_domain_errors``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from guanxi.core import custom_fields
from guanxi.core.errors import FieldError, ValidationFailed
from guanxi.core.models import CustomField
from guanxi.customers.models import Account, Contact
from guanxi.identity.models import User
from guanxi.reports.models import Segment

CUSTOM_PREFIX = "custom__"
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]


class DateTimeLocal(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


def datetime_field(label: Any) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label, required=False, widget=DateTimeLocal(), input_formats=DATETIME_FORMATS
    )


class AccountPicker(forms.Widget):
    """Type-ahead account choice: a search box that asks the server (htmx) for accounts in
    the user's scope by name, pinyin or initials, and a hidden input with the chosen id.
    No list of every account is ever rendered."""

    template_name = "customers/_account_picker.html"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.labels: dict[int, str] = {}

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        label = ""
        try:
            pk = int(value) if value not in (None, "") else None
        except (TypeError, ValueError):
            pk = None
        if pk is not None:
            label = self.labels.get(pk, f"#{pk}")
        context["widget"]["label"] = label
        context["widget"]["url"] = reverse("customers:account_autocomplete")
        return context

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        return data.get(name)


def account_field(label: Any, help_text: Any = "") -> forms.IntegerField:
    return forms.IntegerField(
        label=label, required=False, widget=AccountPicker(), help_text=help_text
    )


def set_account_label(form: forms.Form, name: str, account: Account | None) -> None:
    """Let the picker show the chosen account's name (the current or posted one)."""
    if account is not None:
        widget = form.fields[name].widget
        assert isinstance(widget, AccountPicker)
        widget.labels[account.pk] = account.name


def _custom_form_field(definition: CustomField) -> forms.Field:
    kind = definition.kind
    kinds = CustomField.Kind
    common: dict[str, Any] = {
        "label": definition.label(),
        "required": definition.required and kind != kinds.BOOLEAN,
        "help_text": definition.help_text,
    }
    options = [
        (str(o.get("value")), definition.option_label(str(o.get("value"))))
        for o in definition.options
    ]
    if kind == kinds.LONG_TEXT:
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **common)
    if kind in (kinds.NUMBER, kinds.DECIMAL):
        return forms.CharField(widget=forms.TextInput(attrs={"inputmode": "decimal"}), **common)
    if kind == kinds.DATE:
        return forms.DateField(widget=DateInput(), **common)
    if kind == kinds.DATETIME:
        return forms.DateTimeField(widget=DateTimeLocal(), input_formats=DATETIME_FORMATS, **common)
    if kind == kinds.SELECT:
        return forms.ChoiceField(choices=[("", "—"), *options], **common)
    if kind == kinds.MULTI_SELECT:
        return forms.MultipleChoiceField(
            choices=options, widget=forms.CheckboxSelectMultiple, **common
        )
    if kind == kinds.BOOLEAN:
        return forms.BooleanField(**common)
    if kind == kinds.URL:
        return forms.CharField(widget=forms.URLInput(), **common)
    if kind == kinds.EMAIL:
        return forms.CharField(widget=forms.EmailInput(), **common)
    if kind == kinds.PHONE:
        return forms.CharField(widget=forms.TextInput(attrs={"type": "tel"}), **common)
    return forms.CharField(**common)


def add_custom_fields(form: forms.Form, entity_key: str, values: dict[str, Any] | None) -> None:
    """Append one form field per active custom field of ``entity_key`` (``custom__<key>``)."""
    values = values or {}
    for definition in custom_fields.definitions(entity_key):
        name = CUSTOM_PREFIX + definition.key
        form.fields[name] = _custom_form_field(definition)
        if definition.key in values and name not in form.initial:
            form.initial[name] = values[definition.key]


def _custom_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return list(value)
    return value


def custom_data(form: forms.Form, *, changed_only: bool = False) -> dict[str, Any]:
    """The ``custom`` dict for a service, from a valid form's ``custom__<key>`` fields."""
    out: dict[str, Any] = {}
    for name, value in form.cleaned_data.items():
        if not name.startswith(CUSTOM_PREFIX):
            continue
        if changed_only and name not in form.changed_data:
            continue
        out[name[len(CUSTOM_PREFIX) :]] = _custom_value(value)
    return out


def apply_errors(form: forms.Form, exc: ValidationFailed) -> ValidationFailed:
    """``exc`` with ``custom.<key>`` renamed to the form's ``custom__<key>`` fields."""
    errors = [
        FieldError(
            CUSTOM_PREFIX + e.field[7:] if e.field.startswith("custom.") else e.field,
            e.message,
        )
        for e in exc.errors
    ]
    return ValidationFailed(errors, exc.message)


def plain_data(form: forms.Form, names: list[str], *, changed_only: bool) -> dict[str, Any]:
    """The cleaned values of ``names`` (only the changed ones when editing)."""
    data: dict[str, Any] = {}
    for name in names:
        if changed_only and name not in form.changed_data:
            continue
        value = form.cleaned_data.get(name)
        data[name] = value
    return data


# --- Accounts ---------------------------------------------------------------------------


class AccountFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    tier = forms.ChoiceField(
        label=_("Tier"), required=False, choices=[("", _("Any tier")), *Account.Tier.choices]
    )
    lifecycle_stage = forms.ChoiceField(
        label=_("Lifecycle stage"),
        required=False,
        choices=[("", _("Any stage")), *Account.Lifecycle.choices],
    )
    city = forms.CharField(label=_("City"), required=False)
    tag = forms.CharField(label=_("Tag"), required=False)
    rfm_segment = forms.ChoiceField(
        label=_("RFM segment"),
        required=False,
        choices=[("", _("Any segment")), *Segment.choices],
    )
    at_risk = forms.ChoiceField(
        label=_("Churn risk"), required=False, choices=[("", _("Any")), ("1", _("At risk"))]
    )
    owner = forms.CharField(required=False, widget=forms.HiddenInput)
    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[
            ("-created_at", _("Newest first")),
            ("name", _("Name")),
            ("tier", _("Tier")),
            ("lifecycle_stage", _("Lifecycle stage")),
            ("-updated_at", _("Recently changed")),
        ],
    )


ACCOUNT_FIELDS = [
    "name",
    "credit_code",
    "industry",
    "size",
    "tier",
    "lifecycle_stage",
    "province",
    "city",
    "address",
    "website",
    "special_requirements",
    "tags",
]


class AccountForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    credit_code = forms.CharField(
        label=_("Unified social credit code"),
        max_length=18,
        required=False,
        help_text=_("18 characters; checked by its check digit."),
    )
    industry = forms.CharField(label=_("Industry"), max_length=100, required=False)
    size = forms.CharField(label=_("Size"), max_length=50, required=False)
    tier = forms.ChoiceField(
        label=_("Tier"), required=False, choices=[("", "—"), *Account.Tier.choices]
    )
    lifecycle_stage = forms.ChoiceField(
        label=_("Lifecycle stage"), choices=Account.Lifecycle.choices
    )
    parent_id = account_field(_("Parent account"))
    province = forms.CharField(label=_("Province"), max_length=50, required=False)
    city = forms.CharField(label=_("City"), max_length=50, required=False)
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    website = forms.CharField(label=_("Website"), max_length=300, required=False)
    special_requirements = forms.CharField(
        label=_("Special requirements"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown prominently wherever this account appears."),
    )
    tags = forms.CharField(
        label=_("Tags"), required=False, help_text=_("Separate tags with commas.")
    )

    def __init__(
        self,
        *args: Any,
        parent: Account | None = None,
        custom: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        set_account_label(self, "parent_id", parent)
        add_custom_fields(self, "account", custom)

    def service_data(self, *, changed_only: bool = False) -> dict[str, Any]:
        data = plain_data(self, ACCOUNT_FIELDS, changed_only=changed_only)
        if not changed_only or "parent_id" in self.changed_data:
            data["parent_id"] = self.cleaned_data.get("parent_id")
        custom = custom_data(self, changed_only=changed_only)
        if custom or not changed_only:
            data["custom"] = custom
        return data


# --- Contacts ---------------------------------------------------------------------------


class ContactFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    tag = forms.CharField(label=_("Tag"), required=False)
    owner = forms.CharField(required=False, widget=forms.HiddenInput)
    account = forms.CharField(required=False, widget=forms.HiddenInput)
    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[
            ("-created_at", _("Newest first")),
            ("name", _("Name")),
            ("-last_contacted_at", _("Last contacted")),
            ("birthday", _("Birthday")),
        ],
    )


CONTACT_FIELDS = [
    "name",
    "title",
    "mobile",
    "phone",
    "email",
    "wechat",
    "birthday",
    "is_primary",
    "preferred_channel",
    "consent_marketing",
    "consent_source",
    "consent_at",
    "last_contacted_at",
    "notes",
    "tags",
]


class ContactForm(forms.Form):
    name = forms.CharField(label=_("Full name"), max_length=100)
    account_id = account_field(_("Account"))
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
    birthday = forms.DateField(label=_("Birthday"), required=False, widget=DateInput())
    is_primary = forms.BooleanField(label=_("Primary contact"), required=False)
    preferred_channel = forms.ChoiceField(
        label=_("Preferred channel"),
        required=False,
        choices=[("", "—"), *Contact.Channel.choices],
    )
    consent_marketing = forms.BooleanField(label=_("Agrees to marketing"), required=False)
    consent_source = forms.CharField(label=_("Consent source"), max_length=200, required=False)
    consent_at = datetime_field(_("Consent time"))
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
        account: Account | None = None,
        custom: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        set_account_label(self, "account_id", account)
        add_custom_fields(self, "contact", custom)

    def service_data(self, *, changed_only: bool = False) -> dict[str, Any]:
        data = plain_data(self, CONTACT_FIELDS, changed_only=changed_only)
        if not changed_only or "account_id" in self.changed_data:
            data["account_id"] = self.cleaned_data.get("account_id")
        custom = custom_data(self, changed_only=changed_only)
        if custom or not changed_only:
            data["custom"] = custom
        return data


POOL = "pool"


class TransferForm(forms.Form):
    """Pick the new owner, or the public pool; nothing is preselected."""

    to_user = forms.ChoiceField(label=_("New owner"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        users = User.objects.filter(is_active=True).order_by("username")
        self.fields["to_user"].choices = [  # type: ignore[attr-defined]
            ("", _("— choose —")),
            (POOL, _("Public pool (no owner)")),
            *((str(u.pk), u.label) for u in users),
        ]

    def clean_to_user(self) -> User | None:
        value = self.cleaned_data["to_user"]
        if value == POOL:
            return None
        user = User.objects.filter(pk=int(value), is_active=True).first()
        if user is None:
            raise forms.ValidationError(_("No such active user."))
        return user
