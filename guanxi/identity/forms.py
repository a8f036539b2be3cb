from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import AuditEvent, CustomField
from guanxi.identity.models import Department, Role, User


class LoginForm(forms.Form):
    username = forms.CharField(
        label=_("Username or e-mail"),
        max_length=254,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    remember = forms.BooleanField(label=_("Remember me"), required=False, initial=True)


COMMON_TIME_ZONES = [
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Asia/Seoul",
    "Asia/Kolkata",
    "Asia/Dubai",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Moscow",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Australia/Sydney",
    "UTC",
]


def _zone_choices(current: str | None = None) -> list[tuple[str, str]]:
    zones = list(COMMON_TIME_ZONES)
    if current and current not in zones:
        zones.insert(0, current)
    return [(z, z) for z in zones]


class ProfileForm(forms.Form):
    display_name = forms.CharField(label=_("Display name"), max_length=100, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    mobile = forms.CharField(label=_("Mobile"), max_length=32, required=False)
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=_zone_choices())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = self.initial.get("time_zone")
        self.fields["time_zone"].choices = _zone_choices(current)  # type: ignore[attr-defined]


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(
        label=_("Current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password = forms.CharField(
        label=_("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 8 characters, not only digits, not a common password."),
    )
    new_password2 = forms.CharField(
        label=_("New password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("new_password") and data.get("new_password") != data.get("new_password2"):
            self.add_error("new_password2", _("The two passwords do not match."))
        return data


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. ERP sync")}),
    )


class DepartmentForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    parent = forms.ModelChoiceField(
        label=_("Parent department"),
        queryset=Department.objects.order_by("path"),
        required=False,
        empty_label=_("Top level (under the company)"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["parent"].label_from_instance = _indented  # type: ignore[attr-defined]


def _indented(dept: Department) -> str:
    return "\u3000" * dept.depth + dept.name


class UserFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.order_by("path"),
        required=False,
        empty_label=_("All departments"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].label_from_instance = _indented  # type: ignore[attr-defined]


class UserForm(forms.Form):
    """Create (with username and password) or edit a user."""

    username = forms.CharField(label=_("Username"), max_length=150)
    display_name = forms.CharField(label=_("Display name"), max_length=100, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    mobile = forms.CharField(label=_("Mobile"), max_length=32, required=False)
    password = forms.CharField(
        label=_("Initial password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    department = forms.ModelChoiceField(
        label=_("Department"), queryset=Department.objects.order_by("path")
    )
    roles = forms.ModelMultipleChoiceField(
        label=_("Roles"),
        queryset=Role.objects.order_by("id"),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].label_from_instance = _indented  # type: ignore[attr-defined]
        if editing:
            del self.fields["password"]


class RoleForm(forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=40)
    name_zh = forms.CharField(label=_("Chinese name"), max_length=60)
    name_en = forms.CharField(label=_("English name"), max_length=60, required=False)
    description = forms.CharField(label=_("Description"), max_length=200, required=False)


class AuditFilterForm(forms.Form):
    entity = forms.ChoiceField(label=_("Entity"), required=False)
    action = forms.ChoiceField(label=_("Action"), required=False)
    actor = forms.ModelChoiceField(
        label=_("Actor"), queryset=User.objects.order_by("username"), required=False
    )
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, entity_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["entity"].choices = [("", _("All entities")), *entity_choices]  # type: ignore[attr-defined]
        self.fields["action"].choices = [  # type: ignore[attr-defined]
            ("", _("All actions")),
            *[(a.value, a.label) for a in AuditEvent.Action],
        ]


class CustomFieldForm(forms.Form):
    entity = forms.ChoiceField(label=_("Entity"))
    key = forms.CharField(
        label=_("Key"),
        max_length=50,
        help_text=_("Used in the API and in imports; lower-case letters, digits and underscores."),
    )
    label_zh = forms.CharField(label=_("Chinese label"), max_length=100)
    label_en = forms.CharField(label=_("English label"), max_length=100, required=False)
    kind = forms.ChoiceField(label=_("Type"), choices=CustomField.Kind.choices)
    required = forms.BooleanField(label=_("Required"), required=False)
    position = forms.IntegerField(label=_("Order"), min_value=0, initial=0, required=False)
    options = forms.CharField(
        label=_("Options"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "placeholder": "east|华东|East"}),
        help_text=_("For select types: one option per line as value|中文|English."),
    )
    help_text = forms.CharField(label=_("Help text"), max_length=200, required=False)
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, entity_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["entity"].choices = entity_choices  # type: ignore[attr-defined]


def options_from_lines(text: str) -> list[dict[str, str]]:
    """``value|中文|English`` lines as option dicts (labels default to the value)."""
    options: list[dict[str, str]] = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        value = parts[0]
        options.append(
            {
                "value": value,
                "label_zh": parts[1] if len(parts) > 1 and parts[1] else value,
                "label_en": parts[2] if len(parts) > 2 else "",
            }
        )
    return options


def options_to_lines(options: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{o.get('value', '')}|{o.get('label_zh', '')}|{o.get('label_en', '')}".rstrip("|")
        for o in options or []
    )
