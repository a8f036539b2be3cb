"""Forms of the administrators' assignment and scoring rule pages (shape input only;
the services in ``assignment`` and ``scoring`` validate)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.core import custom_fields
from guanxi.identity.models import User
from guanxi.leads.models import AssignmentRule, AssignmentSettings, LeadSource, ScoringRule
from guanxi.leads.scoring import FIELDS

LIST_HELP = _("Separate values with commas; empty: any.")
# Form field → the service's error field names it shows.
CONDITION_FIELDS = {
    "sources": "source",
    "provinces": "province",
    "cities": "city",
    "industries": "industry",
    "tags": "tags",
}


def _split(text: str) -> list[str]:
    return [v.strip() for v in (text or "").replace("，", ",").split(",") if v.strip()]


def _join(values: Any) -> str:
    return ", ".join(str(v) for v in values or [])


def _users() -> Any:
    return User.objects.filter(is_active=True).order_by("username")


class AssignmentRuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    position = forms.IntegerField(
        label=_("Order"),
        min_value=0,
        initial=0,
        required=False,
        help_text=_("Rules are tried from the lowest number; the first match wins."),
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    sources = forms.MultipleChoiceField(
        label=_("Source is one of"), required=False, widget=forms.CheckboxSelectMultiple
    )
    provinces = forms.CharField(label=_("Province is one of"), required=False, help_text=LIST_HELP)
    cities = forms.CharField(label=_("City is one of"), required=False, help_text=LIST_HELP)
    industries = forms.CharField(label=_("Industry is one of"), required=False, help_text=LIST_HELP)
    tags = forms.CharField(label=_("Has any of the tags"), required=False, help_text=LIST_HELP)
    method = forms.ChoiceField(label=_("Assign"), choices=AssignmentRule.Method.choices)
    users = forms.ModelMultipleChoiceField(
        label=_("Users"),
        queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("One user for “One user”; several for round robin or fewest open leads."),
    )

    def __init__(self, *args: Any, rule: AssignmentRule | None = None, **kwargs: Any) -> None:
        if rule is not None and "initial" not in kwargs:
            cond = rule.conditions or {}
            kwargs["initial"] = {
                "name": rule.name,
                "position": rule.position,
                "active": rule.active,
                "method": rule.method,
                "users": list(rule.users.all()),
                "sources": cond.get("source", []),
                **{
                    form_name: _join(cond.get(key))
                    for form_name, key in CONDITION_FIELDS.items()
                    if form_name != "sources"
                },
                **{f"custom_{k}": _join(v) for k, v in (cond.get("custom") or {}).items()},
            }
        super().__init__(*args, **kwargs)
        self.fields["sources"].choices = [  # type: ignore[attr-defined]
            (s.code, s.name_zh) for s in LeadSource.objects.filter(active=True)
        ]
        self.fields["users"].queryset = _users()  # type: ignore[attr-defined]
        self.custom_keys: list[str] = []
        for definition in custom_fields.definitions("lead"):
            name = f"custom_{definition.key}"
            self.custom_keys.append(definition.key)
            self.fields[name] = forms.CharField(
                label=_("%(field)s is one of") % {"field": definition.label()},
                required=False,
                help_text=LIST_HELP,
            )

    def service_data(self) -> dict[str, Any]:
        d = self.cleaned_data
        conditions: dict[str, Any] = {"source": list(d.get("sources") or [])}
        for form_name, key in CONDITION_FIELDS.items():
            if form_name != "sources":
                conditions[key] = _split(d.get(form_name) or "")
        conditions["custom"] = {
            key: values
            for key in self.custom_keys
            if (values := _split(d.get(f"custom_{key}") or ""))
        }
        return {
            "name": d["name"],
            "position": d.get("position") or 0,
            "active": bool(d.get("active")),
            "method": d["method"],
            "user_ids": [u.pk for u in d["users"]],
            "conditions": conditions,
        }

    @staticmethod
    def form_field(service_field: str) -> str:
        """The form field showing a service error about ``service_field``."""
        if service_field == "user_ids":
            return "users"
        if service_field.startswith("conditions.custom."):
            return f"custom_{service_field[18:]}"
        for form_name, key in CONDITION_FIELDS.items():
            if service_field == f"conditions.{key}":
                return form_name
        return service_field


class FallbackForm(forms.Form):
    fallback = forms.ChoiceField(
        label=_("When no rule matches"),
        choices=AssignmentSettings.Fallback.choices,
        widget=forms.RadioSelect,
    )
    fallback_user = forms.ModelChoiceField(
        label=_("Default user"), queryset=User.objects.none(), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["fallback_user"].queryset = _users()  # type: ignore[attr-defined]


def field_choices() -> list[tuple[str, str]]:
    """Lead fields a scoring rule can look at, then the active custom fields."""
    from guanxi.leads.models import Lead

    choices = [("", "—")]
    for name in FIELDS:
        choices.append((name, str(getattr(Lead._meta.get_field(name), "verbose_name", name))))
    for definition in custom_fields.definitions("lead"):
        choices.append((f"custom.{definition.key}", definition.label()))
    return choices


class ScoringRuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    position = forms.IntegerField(label=_("Order"), min_value=0, initial=0, required=False)
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    kind = forms.ChoiceField(label=_("When"), choices=ScoringRule.Kind.choices)
    field = forms.ChoiceField(label=_("Field"), required=False)
    operator = forms.ChoiceField(
        label=_("Condition"),
        required=False,
        choices=[("", "—"), *ScoringRule.Operator.choices],
    )
    value = forms.CharField(
        label=_("Value"),
        required=False,
        help_text=_("“is one of”: separate values with commas."),
    )
    source = forms.ChoiceField(label=_("Source"), required=False)
    number = forms.IntegerField(
        label=_("Number"),
        required=False,
        min_value=1,
        help_text=_("Follow-up count: at least N follow-ups. Contacted recently: within N days."),
    )
    points = forms.IntegerField(
        label=_("Points"), help_text=_("Added when the condition holds; negative to subtract.")
    )

    def __init__(self, *args: Any, rule: ScoringRule | None = None, **kwargs: Any) -> None:
        if rule is not None and "initial" not in kwargs:
            value = rule.value
            kwargs["initial"] = {
                "name": rule.name,
                "position": rule.position,
                "active": rule.active,
                "kind": rule.kind,
                "field": rule.field,
                "operator": rule.operator,
                "value": _join(value) if isinstance(value, list) else value,
                "source": value[0] if rule.kind == "source" and value else "",
                "number": rule.number,
                "points": rule.points,
            }
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = field_choices()  # type: ignore[attr-defined]
        self.fields["source"].choices = [  # type: ignore[attr-defined]
            ("", "—"),
            *((s.code, s.name_zh) for s in LeadSource.objects.filter(active=True)),
        ]

    def service_data(self) -> dict[str, Any]:
        d = self.cleaned_data
        kind = d["kind"]
        value: Any = d.get("value") or ""
        if kind == ScoringRule.Kind.SOURCE:
            value = d.get("source") or ""
        elif d.get("operator") == ScoringRule.Operator.IN:
            value = _split(value)
        return {
            "name": d["name"],
            "position": d.get("position") or 0,
            "active": bool(d.get("active")),
            "kind": kind,
            "field": d.get("field") or "",
            "operator": d.get("operator") or "",
            "value": value,
            "number": d.get("number"),
            "points": d.get("points"),
        }

    def form_field(self, service_field: str) -> str:
        if service_field == "value" and self.cleaned_data.get("kind") == ScoringRule.Kind.SOURCE:
            return "source"
        return service_field
