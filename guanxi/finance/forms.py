"""Forms of the finance pages. They only shape input; every rule is the services'."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.core.money import CURRENCY_CHOICES
from guanxi.customers.forms import DateInput
from guanxi.finance.models import Contract, Invoice, Receipt
from guanxi.finance.receivables import BUCKETS


class ContractForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    account_id = forms.TypedChoiceField(label=_("Account"), coerce=int, choices=())
    amount = forms.CharField(
        label=_("Amount"), widget=forms.TextInput(attrs={"inputmode": "decimal"})
    )
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCY_CHOICES, initial="CNY")
    signed_on = forms.DateField(label=_("Signed on"), required=False, widget=DateInput())
    starts_on = forms.DateField(label=_("Start date"), required=False, widget=DateInput())
    ends_on = forms.DateField(label=_("End date"), required=False, widget=DateInput())
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, accounts: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["account_id"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "—"), *[(a.pk, a.name) for a in accounts]]

    def service_data(self, *, changed_only: bool = False) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if changed_only:
            data = {k: v for k, v in data.items() if k in self.changed_data}
        return data


class TerminateForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500)


class ScanForm(forms.Form):
    scan = forms.FileField(
        label=_("Signed scan (PDF or image)"),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/*"}),
    )


class ReceiptForm(forms.Form):
    installment_id = forms.TypedChoiceField(
        label=_("Installment"), coerce=int, required=False, empty_value=None, choices=()
    )
    received_on = forms.DateField(label=_("Date received"), widget=DateInput())
    amount = forms.CharField(
        label=_("Amount"), widget=forms.TextInput(attrs={"inputmode": "decimal"})
    )
    method = forms.ChoiceField(label=_("Method"), choices=Receipt.Method.choices)
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False)
    overpayment_note = forms.CharField(
        label=_("Overpayment note"),
        max_length=300,
        required=False,
        help_text=_("Only needed when the amount is more than what is due."),
    )
    notes = forms.CharField(label=_("Notes"), max_length=300, required=False)

    def __init__(self, *args: Any, installments: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["installment_id"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            ("", _("The contract (earliest due first)")),
            *[
                (
                    i.pk,
                    _("No. %(n)s · due %(date)s · %(left)s open")
                    % {"n": i.position, "date": i.due_on, "left": i.outstanding},
                )
                for i in installments
            ],
        ]


class InvoiceForm(forms.Form):
    number = forms.CharField(
        label=_("Invoice number"),
        max_length=60,
        required=False,
        help_text=_("Leave empty to number it automatically."),
    )
    amount = forms.CharField(
        label=_("Amount"), widget=forms.TextInput(attrs={"inputmode": "decimal"})
    )
    issued_on = forms.DateField(label=_("Invoice date"), widget=DateInput())
    kind = forms.ChoiceField(label=_("Type"), choices=Invoice.Kind.choices)
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[(Invoice.Status.DRAFT, _("Draft")), (Invoice.Status.ISSUED, _("Issued"))],
        initial=Invoice.Status.ISSUED,
    )
    over_note = forms.CharField(
        label=_("Note on exceeding the contract"),
        max_length=300,
        required=False,
        help_text=_("Only needed when invoices would total more than the contract."),
    )
    notes = forms.CharField(label=_("Notes"), max_length=300, required=False)


class ContractFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *Contract.Status.choices]
    )
    owner = forms.CharField(required=False, widget=forms.HiddenInput())
    account = forms.IntegerField(required=False, widget=forms.HiddenInput())


class ReceivablesForm(forms.Form):
    group = forms.ChoiceField(
        label=_("Per"),
        required=False,
        choices=[("account", _("Account")), ("contract", _("Contract")), ("owner", _("Owner"))],
    )
    as_of = forms.DateField(label=_("As of"), required=False, widget=DateInput())


class DrilldownForm(forms.Form):
    bucket = forms.ChoiceField(
        required=False, choices=[("", "—"), *BUCKETS, ("overdue", _("Overdue"))]
    )
    account = forms.IntegerField(required=False)
    contract = forms.IntegerField(required=False)
    as_of = forms.DateField(required=False)


class FinanceSettingsForm(forms.Form):
    approval_threshold = forms.DecimalField(
        label=_("Approval above (amount, CNY)"),
        max_digits=16,
        decimal_places=2,
        min_value=0,
        help_text=_("Contracts above this amount need the owner's department head to approve."),
    )
    renewal_days = forms.IntegerField(
        label=_("Renewal reminder (days before the end date)"), min_value=1, max_value=365
    )
