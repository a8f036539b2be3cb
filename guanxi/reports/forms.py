from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class CampaignCostForm(forms.Form):
    source = forms.ChoiceField(label=_("Source"))
    month = forms.CharField(
        label=_("Month"), widget=forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"})
    )
    amount = forms.DecimalField(label=_("Amount"), min_value=0, max_digits=18, decimal_places=2)
    currency = forms.CharField(label=_("Currency"), max_length=3, initial="CNY")
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from guanxi.leads.models import LeadSource

        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [  # type: ignore[attr-defined]
            (s.code, s.name_zh) for s in LeadSource.objects.filter(active=True)
        ]
