from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.core.money import CURRENCY_CHOICES
from guanxi.sales.catalog.models import PriceList, Product


class ProductFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    category = forms.ChoiceField(label=_("Category"), required=False)
    active = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), ("1", _("Active")), ("0", _("Inactive"))],
    )

    def __init__(self, *args: object, categories: list[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["category"].choices = [("", _("All")), *((c, c) for c in categories)]  # type: ignore[attr-defined]


class ProductForm(forms.Form):
    sku = forms.CharField(label=_("SKU"), max_length=64)
    name = forms.CharField(label=_("name"), max_length=200)
    name_en = forms.CharField(label=_("English name"), max_length=200, required=False)
    category = forms.CharField(label=_("category"), max_length=100, required=False)
    unit = forms.CharField(label=_("unit"), max_length=20, initial="件")
    list_price = forms.DecimalField(label=_("list price"), min_value=Decimal(0), decimal_places=2)
    currency = forms.ChoiceField(label=_("currency"), choices=CURRENCY_CHOICES, initial="CNY")
    tax_rate = forms.DecimalField(
        label=_("tax rate (%)"), min_value=Decimal(0), max_value=Decimal(100), initial=13
    )
    description = forms.CharField(
        label=_("description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    active = forms.BooleanField(label=_("active"), required=False, initial=True)

    @staticmethod
    def initial_for(product: Product) -> dict[str, object]:
        return {f: getattr(product, f) for f in ProductForm.base_fields}


class PriceListForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=100)
    tier = forms.ChoiceField(
        label=_("customer tier"), required=False, choices=[("", "—"), *PriceList.Tier.choices]
    )
    currency = forms.ChoiceField(label=_("currency"), choices=CURRENCY_CHOICES, initial="CNY")
    active = forms.BooleanField(label=_("active"), required=False, initial=True)


class PriceForm(forms.Form):
    product = forms.ChoiceField(label=_("product"))
    price = forms.DecimalField(label=_("price"), min_value=Decimal(0))

    def __init__(self, *args: object, products: list[Product], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["product"].choices = [(p.pk, str(p)) for p in products]  # type: ignore[attr-defined]
