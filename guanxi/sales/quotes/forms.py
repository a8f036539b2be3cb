"""Forms of the quote pages; every rule is checked by the services."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.core.money import CURRENCY_CHOICES
from guanxi.customers.forms import DateInput
from guanxi.sales.quotes.models import Quote


class QuoteFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *Quote.Status.choices]
    )


class QuoteForm(forms.Form):
    account_id = forms.TypedChoiceField(label=_("Account"), coerce=int)
    deal_id = forms.TypedChoiceField(label=_("Deal"), coerce=int, required=False, empty_value=None)
    contact_id = forms.TypedChoiceField(
        label=_("Contact"), coerce=int, required=False, empty_value=None
    )
    title = forms.CharField(label=_("Subject"), max_length=200, required=False)
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCY_CHOICES, initial="CNY")
    valid_until = forms.DateField(label=_("Valid until"), required=False, widget=DateInput())
    terms = forms.CharField(
        label=_("Terms"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    copy_deal_lines = forms.BooleanField(
        label=_("Start from the deal's products"), required=False, initial=True
    )

    def __init__(
        self,
        *args: Any,
        accounts: list[tuple[Any, Any]],
        deals: list[tuple[Any, Any]],
        contacts: list[tuple[Any, Any]],
        editing: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["account_id"].choices = [("", "—"), *accounts]  # type: ignore[attr-defined]
        self.fields["deal_id"].choices = [("", "—"), *deals]  # type: ignore[attr-defined]
        self.fields["contact_id"].choices = [("", "—"), *contacts]  # type: ignore[attr-defined]
        if editing:
            self.fields["account_id"].disabled = True
            del self.fields["copy_deal_lines"]


class LineForm(forms.Form):
    product_id = forms.TypedChoiceField(
        label=_("Product"), coerce=int, required=False, empty_value=None
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=500,
        required=False,
        help_text=_("Leave empty to use the product's name."),
    )
    quantity = forms.DecimalField(label=_("Quantity"), initial=1, decimal_places=4)
    unit = forms.CharField(label=_("Unit"), max_length=20, required=False)
    unit_price = forms.DecimalField(
        label=_("Unit price"),
        required=False,
        help_text=_("Empty: the customer tier's price list, else the list price."),
    )
    discount = forms.DecimalField(
        label=_("Discount (%)"), initial=0, min_value=Decimal(0), max_value=Decimal(100)
    )
    tax_rate = forms.DecimalField(
        label=_("Tax rate (%)"),
        required=False,
        min_value=Decimal(0),
        max_value=Decimal(100),
        help_text=_("Empty: the product's rate."),
    )

    def __init__(self, *args: Any, products: list[tuple[Any, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product_id"].choices = [("", _("— free text —")), *products]  # type: ignore[attr-defined]

    def service_data(self) -> dict[str, Any]:
        """Only what the user filled in, so the product's defaults apply to the rest."""
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}


class SubmitForm(forms.Form):
    reason = forms.CharField(
        label=_("Note for the approver"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"), choices=[("approve", _("Approve")), ("reject", _("Reject"))]
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class QuoteSettingsForm(forms.Form):
    discount_threshold = forms.DecimalField(
        label=_("Approval above line discount (%)"),
        min_value=Decimal(0),
        max_value=Decimal(100),
    )
    amount_threshold = forms.DecimalField(
        label=_("Approval above total"),
        required=False,
        min_value=Decimal(0),
        help_text=_("Empty: no limit on the total."),
    )
    amount_currency = forms.ChoiceField(
        label=_("Currency of that total"),
        choices=CURRENCY_CHOICES,
        help_text=_("Quotes in other currencies are not compared with the total limit."),
    )
    default_validity_days = forms.IntegerField(
        label=_("Quotes are valid for (days)"), min_value=0, max_value=3650
    )
    default_terms = forms.CharField(
        label=_("Default terms"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )


class CompanyProfileForm(forms.Form):
    name = forms.CharField(label=_("Company name"), max_length=200)
    name_en = forms.CharField(label=_("English company name"), max_length=200, required=False)
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    address_en = forms.CharField(label=_("English address"), max_length=300, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=50, required=False)
    email = forms.CharField(label=_("E-mail"), max_length=200, required=False)
    website = forms.CharField(label=_("Website"), max_length=200, required=False)
    tax_id = forms.CharField(label=_("Unified social credit code"), max_length=40, required=False)
    bank = forms.CharField(label=_("Bank and account"), max_length=300, required=False)
    logo = forms.FileField(
        label=_("Logo"), required=False, help_text=_("PNG or JPEG, at most 2 MB.")
    )
    remove_logo = forms.BooleanField(label=_("Remove the logo"), required=False)
