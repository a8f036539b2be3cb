"""Ninja schemas of the finance API (DESIGN §3: amounts as decimal strings, ISO currency)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema


class OwnerOut(Schema):
    id: int
    username: str


class AccountRef(Schema):
    id: int
    name: str


class ScanOut(Schema):
    name: str
    url: str


class ContractIn(Schema):
    title: str
    account_id: int
    deal_id: int | None = None
    amount: str = Field(..., description='decimal string, e.g. "120000.00"')
    currency: str = "CNY"
    signed_on: dt.date | None = None
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    notes: str = ""
    owner_id: int | None = None
    custom: dict[str, Any] = {}


class ContractPatch(Schema):
    title: str | None = None
    account_id: int | None = None
    deal_id: int | None = None
    amount: str | None = None
    currency: str | None = None
    signed_on: dt.date | None = None
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    notes: str | None = None
    owner_id: int | None = None
    custom: dict[str, Any] | None = None


class ContractOut(Schema):
    id: int
    created_at: str
    updated_at: str
    owner: OwnerOut | None
    custom: dict[str, Any]
    number: str
    account: AccountRef
    deal_id: int | None
    title: str
    amount: str
    currency: str
    received: str | None
    outstanding: str | None
    signed_on: str | None
    starts_on: str | None
    ends_on: str | None
    status: str
    scan: ScanOut | None
    notes: str
    approval_request_id: int | None
    activated_at: str | None
    terminated_at: str | None


class ContractPage(Schema):
    items: list[ContractOut]
    count: int
    count_exact: bool
    page: int
    page_size: int


class ContractFilter(Schema):
    q: str = ""
    status: str = ""
    account: int | None = None
    deal: int | None = None
    owner: str = ""
    ending_before: str = ""
    sort: str = "-created_at"
    page: int = 1
    page_size: int = 50


class TerminateIn(Schema):
    reason: str


class InstallmentIn(Schema):
    due_on: dt.date
    amount: str
    notes: str = ""


class PlanIn(Schema):
    installments: list[InstallmentIn]


class InstallmentOut(Schema):
    id: int
    position: int
    due_on: str
    amount: str
    received: str
    outstanding: str
    status: str = Field(..., description="unpaid, partial, paid or overdue (derived)")
    notes: str


class PlanOut(Schema):
    contract_id: int
    currency: str
    installments: list[InstallmentOut]


class ReceiptIn(Schema):
    received_on: dt.date
    amount: str
    method: str = "bank_transfer"
    reference: str = ""
    installment_id: int | None = None
    overpayment_note: str = ""
    notes: str = ""


class PaymentIn(ReceiptIn):
    contract_id: int


class ContractRef(Schema):
    id: int
    number: str
    title: str


class InstallmentRef(Schema):
    id: int
    position: int


class ReceiptOut(Schema):
    id: int
    created_at: str
    updated_at: str
    contract: ContractRef
    account_id: int
    installment: InstallmentRef | None
    received_on: str
    amount: str
    currency: str
    method: str
    reference: str
    overpayment_note: str
    notes: str
    recorded_by: OwnerOut | None


class ReceiptPage(Schema):
    items: list[ReceiptOut]
    count: int
    count_exact: bool
    page: int
    page_size: int


class PaymentFilter(Schema):
    contract: int | None = None
    account: int | None = None
    received_from: str = ""
    received_to: str = ""
    method: str = ""
    page: int = 1
    page_size: int = 50


class InvoiceIn(Schema):
    amount: str
    issued_on: dt.date
    kind: str = Field("normal", description="normal (普票) or special (专票)")
    status: str = Field("draft", description="draft or issued")
    number: str = Field("", description="tax invoice number; blank takes the next FP- number")
    over_note: str = ""
    notes: str = ""


class InvoicePatch(Schema):
    amount: str | None = None
    issued_on: dt.date | None = None
    kind: str | None = None
    status: str | None = Field(None, description="issued or void")
    number: str | None = None
    over_note: str | None = None
    notes: str | None = None


class InvoiceOut(Schema):
    id: int
    created_at: str
    updated_at: str
    contract_id: int
    number: str
    amount: str
    issued_on: str
    kind: str
    status: str
    over_note: str
    notes: str


class InvoiceList(Schema):
    items: list[InvoiceOut]


class AgingTotals(Schema):
    currency: str
    not_due: str
    d0_30: str
    d31_60: str
    d61_90: str
    d90_plus: str
    overdue: str
    unscheduled: str
    total: str


class AgingRow(Schema):
    id: int
    label: str
    currency: str
    title: str | None = None
    account: str | None = None
    not_due: str
    d0_30: str
    d31_60: str
    d61_90: str
    d90_plus: str
    overdue: str
    total: str


class ReceivablesOut(Schema):
    as_of: str
    group: str
    totals: list[AgingTotals]
    items: list[AgingRow]
    count: int
    count_exact: bool
    page: int
    page_size: int


class OpenInstallmentOut(InstallmentOut):
    contract: ContractRef
    account: AccountRef
    currency: str


class OpenInstallmentPage(Schema):
    items: list[OpenInstallmentOut]
    count: int
    count_exact: bool
    page: int
    page_size: int
