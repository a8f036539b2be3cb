from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.automation.services import MAX_COMMENT


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"), choices=[("approve", _("Approve")), ("reject", _("Reject"))]
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=MAX_COMMENT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when you reject."),
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
