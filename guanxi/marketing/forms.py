"""The administrators' web form editor (shapes input; the services validate)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.identity.models import User
from guanxi.leads.models import LeadSource
from guanxi.marketing.models import WebForm
from guanxi.marketing.services import field_choices


def _slot(key: str) -> str:
    return key.replace(".", "__")


class WebFormForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    slug = forms.SlugField(
        label=_("Address"), max_length=60, help_text=_("The form is served at /f/<address>/.")
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    title_zh = forms.CharField(label=_("Chinese title"), max_length=200)
    title_en = forms.CharField(label=_("English title"), max_length=200, required=False)
    intro_zh = forms.CharField(
        label=_("Chinese introduction"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    intro_en = forms.CharField(
        label=_("English introduction"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    consent_enabled = forms.BooleanField(label=_("Ask for consent"), required=False)
    consent_required = forms.BooleanField(label=_("Consent required"), required=False)
    consent_text_zh = forms.CharField(
        label=_("Chinese consent text"), max_length=500, required=False
    )
    consent_text_en = forms.CharField(
        label=_("English consent text"), max_length=500, required=False
    )
    thanks_zh = forms.CharField(
        label=_("Chinese thank-you text"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    thanks_en = forms.CharField(
        label=_("English thank-you text"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    redirect_url = forms.CharField(
        label=_("Redirect after submitting"),
        max_length=500,
        required=False,
        help_text=_("Instead of the thank-you text; empty: show the text."),
    )
    source = forms.ChoiceField(label=_("Lead source"), required=False)
    campaign = forms.CharField(
        label=_("Campaign"),
        max_length=200,
        required=False,
        help_text=_("Empty: the utm_campaign of the visitor's link, if any."),
    )
    routing = forms.ChoiceField(label=_("Owner of new leads"), choices=WebForm.Routing.choices)
    owner = forms.ModelChoiceField(
        label=_("Fixed owner"), queryset=User.objects.none(), required=False
    )
    rate_limit = forms.IntegerField(label=_("Submissions per IP"), min_value=1, initial=5)
    rate_window_minutes = forms.IntegerField(
        label=_("Rate window (minutes)"), min_value=1, initial=10
    )
    min_fill_seconds = forms.IntegerField(
        label=_("Minimum fill time (seconds)"), min_value=0, initial=3
    )

    def __init__(self, data: Any = None, *, webform: WebForm | None = None) -> None:
        initial: dict[str, Any] = {}
        chosen: dict[str, tuple[int, dict[str, Any]]] = {}
        if webform is not None:
            initial = {
                k: getattr(webform, k)
                for k in self.base_fields
                if k not in ("source", "owner") and hasattr(webform, k)
            }
            initial["source"] = webform.source.code if webform.source else ""
            initial["owner"] = webform.owner
            chosen = {f["key"]: (i + 1, f) for i, f in enumerate(webform.fields)}
        else:
            chosen = {
                "name": (1, {"required": True}),
                "mobile": (2, {"required": False}),
                "company": (3, {"required": False}),
            }
        super().__init__(data, initial=initial)
        source_field = self.fields["source"]
        assert isinstance(source_field, forms.ChoiceField)
        source_field.choices = [("", "—")] + [
            (s.code, s.name_zh) for s in LeadSource.objects.filter(active=True)
        ]
        owner_field = self.fields["owner"]
        assert isinstance(owner_field, forms.ModelChoiceField)
        owner_field.queryset = User.objects.filter(is_active=True).order_by("username")
        self.field_rows: list[dict[str, Any]] = []
        for key, label in field_choices():
            slot = _slot(key)
            pos, conf = chosen.get(key, (0, {}))
            self.fields[f"f_{slot}_on"] = forms.BooleanField(
                label=label, required=False, initial=bool(pos)
            )
            self.fields[f"f_{slot}_pos"] = forms.IntegerField(
                label=_("Order"), required=False, min_value=0, initial=pos or ""
            )
            self.fields[f"f_{slot}_zh"] = forms.CharField(
                label=_("Chinese label"),
                required=False,
                max_length=100,
                initial=conf.get("label_zh", ""),
            )
            self.fields[f"f_{slot}_en"] = forms.CharField(
                label=_("English label"),
                required=False,
                max_length=100,
                initial=conf.get("label_en", ""),
            )
            self.fields[f"f_{slot}_req"] = forms.BooleanField(
                label=_("Required"), required=False, initial=bool(conf.get("required"))
            )
            self.field_rows.append(
                {
                    "key": key,
                    "label": label,
                    "on": self[f"f_{slot}_on"],
                    "pos": self[f"f_{slot}_pos"],
                    "zh": self[f"f_{slot}_zh"],
                    "en": self[f"f_{slot}_en"],
                    "req": self[f"f_{slot}_req"],
                }
            )

    def main_fields(self) -> list[Any]:
        return [self[name] for name in self.base_fields]

    def service_data(self) -> dict[str, Any]:
        d = self.cleaned_data
        data = {k: d[k] for k in self.base_fields if k not in ("owner",)}
        data["owner_id"] = d["owner"].pk if d.get("owner") else None
        picked = []
        for n, (key, _label) in enumerate(field_choices()):
            slot = _slot(key)
            if d.get(f"f_{slot}_on"):
                pos = d.get(f"f_{slot}_pos")
                picked.append(
                    (
                        pos if pos is not None else 1000 + n,
                        n,
                        {
                            "key": key,
                            "label_zh": d.get(f"f_{slot}_zh", ""),
                            "label_en": d.get(f"f_{slot}_en", ""),
                            "required": bool(d.get(f"f_{slot}_req")),
                        },
                    )
                )
        data["fields"] = [item for _p, _n, item in sorted(picked, key=lambda t: (t[0], t[1]))]
        return data
