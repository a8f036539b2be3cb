from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.automation.models import ApprovalPolicy, ApprovalPolicyStep, ApprovalStep
from guanxi.automation.services import MAX_COMMENT
from guanxi.identity.models import User


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            ("approve", _("Approve")),
            ("reject", _("Reject")),
            ("return", _("Return for changes")),
        ],
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=MAX_COMMENT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when you reject or return."),
    )


class WebhookForm(forms.Form):
    url = forms.CharField(label=_("URL"), max_length=500)
    events = forms.MultipleChoiceField(
        label=_("Events"),
        widget=forms.SelectMultiple(attrs={"size": 10}),
        help_text=_("“*” subscribes to every event."),
    )
    secret = forms.CharField(
        label=_("Secret"),
        required=False,
        max_length=200,
        help_text=_("Signs each delivery (X-Guanxi-Signature). Leave empty to keep it."),
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        from guanxi.core import events

        field = self.fields["events"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [("*", _("All events (*)"))] + [
            (name, f"{name} — {desc}") for name, desc in sorted(events.EVENT_NAMES.items())
        ]


class ChannelForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"))
    webhook_url = forms.CharField(
        label=_("Webhook URL"),
        max_length=500,
        help_text=_("From the group's robot settings (DingTalk, WeCom or Feishu)."),
    )
    secret = forms.CharField(
        label=_("Signing secret"),
        required=False,
        max_length=200,
        help_text=_("DingTalk and Feishu “加签” secret (SEC…); WeCom has none."),
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        from guanxi.automation.models import RobotChannel

        field = self.fields["kind"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = RobotChannel.Kind.choices


class EmailTemplateForm(forms.Form):
    key = forms.CharField(label=_("Key"), max_length=60, help_text=_("Rules refer to it."))
    name = forms.CharField(label=_("Name"), max_length=120)
    subject_zh = forms.CharField(label=_("Subject (Chinese)"), max_length=200)
    body_zh = forms.CharField(label=_("Body (Chinese)"), widget=forms.Textarea(attrs={"rows": 8}))
    subject_en = forms.CharField(label=_("Subject (English)"), max_length=200, required=False)
    body_en = forms.CharField(
        label=_("Body (English)"), widget=forms.Textarea(attrs={"rows": 8}), required=False
    )


STEP_ROWS = 5


class PolicyForm(forms.Form):
    """An approval flow with up to five stages (empty rows are dropped)."""

    entity = forms.ChoiceField(label=_("Record type"))
    name = forms.CharField(label=_("Name"), max_length=100)
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    position = forms.IntegerField(
        label=_("Order"),
        min_value=0,
        initial=0,
        help_text=_(
            "Flows are tried from the lowest number; the first whose conditions hold applies."
        ),
    )
    min_amount = forms.DecimalField(label=_("Amount at least"), required=False, min_value=0)
    min_discount = forms.DecimalField(
        label=_("Discount at least (%)"), required=False, min_value=0, max_value=100
    )
    remind_after_hours = forms.IntegerField(
        label=_("Remind approvers after (hours)"), min_value=0, initial=24
    )

    def __init__(self, data: Any = None, *, policy: ApprovalPolicy | None = None) -> None:
        from guanxi.automation.policies import entity_choices
        from guanxi.identity.models import Role

        initial: dict[str, Any] = {}
        steps: list[Any] = []
        if policy is not None:
            initial = {
                k: getattr(policy, k)
                for k in (
                    "entity",
                    "name",
                    "active",
                    "position",
                    "min_amount",
                    "min_discount",
                    "remind_after_hours",
                )
            }
            steps = list(policy.steps.all())
        super().__init__(data, initial=initial)
        entity_field = self.fields["entity"]
        assert isinstance(entity_field, forms.ChoiceField)
        entity_field.choices = entity_choices()
        roles = Role.objects.order_by("code")
        users = User.objects.filter(is_active=True).order_by("username")
        self.step_rows: list[dict[str, Any]] = []
        for i in range(STEP_ROWS):
            step = steps[i] if i < len(steps) else None
            self.fields[f"s{i}_kind"] = forms.ChoiceField(
                label=_("Approver"),
                required=False,
                choices=[("", "—"), *ApprovalPolicyStep.Kind.choices],
                initial=step.kind if step else "",
            )
            self.fields[f"s{i}_role"] = forms.ModelChoiceField(
                label=_("Role"),
                queryset=roles,
                required=False,
                initial=step.role_id if step else None,
            )
            self.fields[f"s{i}_user"] = forms.ModelChoiceField(
                label=_("User"),
                queryset=users,
                required=False,
                initial=step.user_id if step else None,
            )
            self.fields[f"s{i}_mode"] = forms.ChoiceField(
                label=_("Mode"),
                required=False,
                choices=ApprovalStep.Mode.choices,
                initial=step.mode if step else ApprovalStep.Mode.ANY,
            )
            self.step_rows.append(
                {
                    "n": i + 1,
                    "kind": self[f"s{i}_kind"],
                    "role": self[f"s{i}_role"],
                    "user": self[f"s{i}_user"],
                    "mode": self[f"s{i}_mode"],
                }
            )

    def main_fields(self) -> list[Any]:
        return [self[name] for name in self.base_fields]

    def service_data(self) -> dict[str, Any]:
        d = self.cleaned_data
        data = {k: d[k] for k in self.base_fields}
        steps = []
        for i in range(STEP_ROWS):
            if not d.get(f"s{i}_kind"):
                continue
            role, user = d.get(f"s{i}_role"), d.get(f"s{i}_user")
            steps.append(
                {
                    "kind": d[f"s{i}_kind"],
                    "role_id": role.pk if role else None,
                    "user_id": user.pk if user else None,
                    "mode": d.get(f"s{i}_mode") or ApprovalStep.Mode.ANY,
                }
            )
        data["steps"] = steps
        return data


class DelegationForm(forms.Form):
    delegate: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("Delegate"), queryset=User.objects.none()
    )
    starts_on = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, data: Any = None, *, user: Any) -> None:
        super().__init__(data)
        field = self.fields["delegate"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = (
            User.objects.filter(is_active=True).exclude(pk=user.pk).order_by("username")
        )
