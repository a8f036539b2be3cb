"""Forms of the deal pages, the board filters and the pipeline settings.

Forms only shape input for the services; every rule (stage requirements, loss reasons,
amounts, scope) is checked by the service and mapped back with
``guanxi.web.forms.apply_domain_errors``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.customers.forms import (
    DateInput,
    account_field,
    add_custom_fields,
    custom_data,
    plain_data,
    set_account_label,
)
from guanxi.customers.models import Account
from guanxi.identity.models import User
from guanxi.sales.models import Deal, DealContact, LossReason, Pipeline, Stage
from guanxi.sales.services import STAGE_REQUIRABLE


def _stage_choices(pipelines: list[Pipeline]) -> list[tuple[Any, Any]]:
    """Stages grouped by pipeline for a <select>."""
    groups: list[tuple[Any, Any]] = [("", "—")]
    for p in pipelines:
        stages = sorted(p.stages.all(), key=lambda s: (s.position, s.pk))
        groups.append((p.label, [(s.pk, s.label) for s in stages]))
    return groups


def _users() -> list[tuple[Any, Any]]:
    return [(u.pk, u.label) for u in User.objects.filter(is_active=True).order_by("username")]


class DealFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    pipeline = forms.TypedChoiceField(
        label=_("Pipeline"), required=False, coerce=int, empty_value=None
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *Deal.Status.choices],
    )
    close_month = forms.CharField(
        label=_("Close month"),
        required=False,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"}),
    )
    tag = forms.CharField(label=_("Tag"), required=False)
    owner = forms.CharField(required=False, widget=forms.HiddenInput)
    # Drill-down from reports and dashboards (kept as hidden fields while filtering further).
    stage = forms.IntegerField(required=False, widget=forms.HiddenInput)
    department = forms.IntegerField(required=False, widget=forms.HiddenInput)
    loss_reason = forms.IntegerField(required=False, widget=forms.HiddenInput)
    reached_stage = forms.IntegerField(required=False, widget=forms.HiddenInput)
    reached_from = forms.DateField(required=False, widget=forms.HiddenInput)
    reached_to = forms.DateField(required=False, widget=forms.HiddenInput)
    closed_from = forms.DateField(required=False, widget=forms.HiddenInput)
    closed_to = forms.DateField(required=False, widget=forms.HiddenInput)
    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[
            ("-created_at", _("Newest first")),
            ("expected_close_date", _("Closing soonest")),
            ("-amount", _("Largest amount")),
            ("-updated_at", _("Recently changed")),
            ("name", _("Name")),
        ],
    )

    def __init__(self, *args: Any, pipelines: list[Pipeline], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pipeline"].choices = [  # type: ignore[attr-defined]
            ("", _("Any pipeline")),
            *((p.pk, p.label) for p in pipelines),
        ]


class BoardFilterForm(forms.Form):
    owner = forms.TypedChoiceField(label=_("Owner"), required=False, coerce=str)
    department = forms.TypedChoiceField(label=_("Department"), required=False, coerce=str)
    close_month = forms.CharField(
        label=_("Close month"),
        required=False,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"}),
    )
    tag = forms.CharField(label=_("Tag"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from guanxi.identity.models import Department

        self.fields["owner"].choices = [  # type: ignore[attr-defined]
            ("", _("Everyone I can see")),
            ("me", _("Mine")),
            *_users(),
        ]
        self.fields["department"].choices = [  # type: ignore[attr-defined]
            ("", _("Any department")),
            *((d.pk, d.name) for d in Department.objects.order_by("path")),
        ]


DEAL_FIELDS = [
    "name",
    "amount",
    "currency",
    "expected_close_date",
    "probability",
    "next_step",
    "competitors",
    "tags",
]


class DealForm(forms.Form):
    name = forms.CharField(label=_("Deal name"), max_length=200)
    account_id = account_field(_("Account"))
    stage_id = forms.TypedChoiceField(
        label=_("Stage"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("Empty: the first stage of the default pipeline."),
    )
    amount = forms.CharField(
        label=_("Amount"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    currency = forms.CharField(label=_("Currency"), max_length=3, initial="CNY")
    expected_close_date = forms.DateField(
        label=_("Expected close date"), required=False, widget=DateInput()
    )
    probability = forms.IntegerField(
        label=_("Probability (%)"),
        required=False,
        min_value=0,
        max_value=100,
        help_text=_("Empty: the stage's probability."),
    )
    next_step = forms.CharField(label=_("Next step"), max_length=200, required=False)
    competitors = forms.CharField(
        label=_("Competitors"), required=False, help_text=_("Separate names with commas.")
    )
    tags = forms.CharField(
        label=_("Tags"), required=False, help_text=_("Separate tags with commas.")
    )
    collaborator_ids = forms.TypedMultipleChoiceField(
        label=_("Collaborators"),
        required=False,
        coerce=int,
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )
    contact_id = forms.TypedChoiceField(
        label=_("Contact"), required=False, coerce=int, empty_value=None
    )
    contact_role = forms.ChoiceField(
        label=_("Contact's role"),
        required=False,
        choices=DealContact.Role.choices,
        initial=DealContact.Role.DECISION_MAKER,
    )

    def __init__(
        self,
        *args: Any,
        account: Account | None,
        pipelines: list[Pipeline],
        contacts: list[Any] | None = None,
        custom: dict[str, Any] | None = None,
        editing: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["account_id"].required = True
        set_account_label(self, "account_id", account)
        self.fields["stage_id"].choices = _stage_choices(pipelines)  # type: ignore[attr-defined]
        self.fields["collaborator_ids"].choices = _users()  # type: ignore[attr-defined]
        self.fields["contact_id"].choices = [  # type: ignore[attr-defined]
            ("", "—"),
            *(
                (c.pk, f"{c.name}{' · ' + c.account.name if c.account_id else ''}")
                for c in contacts or []
            ),
        ]
        if editing:
            # The stage changes with "Move" (its own rules and dialog), not here.
            del self.fields["stage_id"]
        add_custom_fields(self, "deal", custom)

    def service_data(self, *, changed_only: bool = False) -> dict[str, Any]:
        data = plain_data(self, DEAL_FIELDS, changed_only=changed_only)
        if data.get("probability") is None:
            data.pop("probability", None)
        for name in ("account_id", "stage_id", "collaborator_ids"):
            if name in self.fields and (not changed_only or name in self.changed_data):
                value = self.cleaned_data.get(name)
                if name == "stage_id" and value is None:
                    continue
                data[name] = value
        if not changed_only or {"contact_id", "contact_role"} & set(self.changed_data):
            contact_id = self.cleaned_data.get("contact_id")
            role = self.cleaned_data.get("contact_role") or DealContact.Role.OTHER
            data["contacts"] = [{"contact_id": contact_id, "role": role}] if contact_id else []
        custom = custom_data(self, changed_only=changed_only)
        if custom or not changed_only:
            data["custom"] = custom
        return data


class MoveForm(forms.Form):
    stage = forms.TypedChoiceField(label=_("Move to stage"), coerce=int)
    loss_reason = forms.TypedChoiceField(
        label=_("Loss reason"), required=False, coerce=int, empty_value=None
    )
    loss_note = forms.CharField(
        label=_("Loss note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(
        self, *args: Any, stages: list[Stage], reasons: list[LossReason], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["stage"].choices = [  # type: ignore[attr-defined]
            (s.pk, s.label) for s in stages
        ]
        self.fields["loss_reason"].choices = [  # type: ignore[attr-defined]
            ("", "—"),
            *((r.pk, r.label) for r in reasons),
        ]


class PipelineForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    name_en = forms.CharField(label=_("English name"), max_length=100, required=False)
    is_default = forms.BooleanField(label=_("Default pipeline"), required=False)
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class StageForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    name_en = forms.CharField(label=_("English name"), max_length=100, required=False)
    probability = forms.IntegerField(label=_("Probability (%)"), min_value=0, max_value=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=Stage.Kind.choices)
    position = forms.IntegerField(label=_("Order"), min_value=0, required=False)
    required_fields = forms.MultipleChoiceField(
        label=_("Required to enter"),
        required=False,
        choices=list(STAGE_REQUIRABLE.items()),
        widget=forms.CheckboxSelectMultiple,
    )


class LossReasonForm(forms.Form):
    name_zh = forms.CharField(label=_("Chinese name"), max_length=100)
    name_en = forms.CharField(label=_("English name"), max_length=100, required=False)
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)
