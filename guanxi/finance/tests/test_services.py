"""Contracts, plans, receipts and invoices through the services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from guanxi.core.errors import Conflict, NotPermitted, ValidationFailed
from guanxi.core.models import AuditEvent
from guanxi.finance import payments, selectors, services
from guanxi.finance.models import Contract, Installment, Invoice
from guanxi.finance.tests import factories as ff
from guanxi.tests_support import crm_factories, factories

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 6, 15)


@pytest.fixture
def sales() -> object:
    return factories.user("sales", username="zhangwei")


def test_contract_numbered_audited_and_money_rounded(sales: object) -> None:
    c = ff.contract(sales, amount="1234.565", activate=False)
    assert c.number.startswith(f"HT-{dt.date.today().year}-")
    assert c.amount == Decimal("1234.57")  # ROUND_HALF_UP to the fen
    assert c.status == Contract.Status.DRAFT
    second = ff.contract(sales, activate=False)
    assert int(second.number[-4:]) == int(c.number[-4:]) + 1
    assert AuditEvent.objects.filter(
        entity="contract", object_id=str(c.pk), action="create"
    ).exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"amount": "-5"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"currency": "XYZ"}, "currency"),
        ({"title": ""}, "title"),
        ({"starts_on": "2026-05-01", "ends_on": "2026-04-01"}, "ends_on"),
        ({"account_id": 999999}, "account_id"),
    ],
)
def test_contract_bad_input_names_the_field(sales: object, data: dict, field: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        ff.contract(sales, activate=False, **data)
    assert field in {e.field for e in exc.value.errors}


def test_plan_must_add_up_exactly(sales: object) -> None:
    c = ff.contract(sales, amount="30000.00", activate=False)
    with pytest.raises(ValidationFailed) as exc:
        services.plan_set(
            actor=sales,
            contract=c,
            installments=[
                {"due_on": "2026-03-01", "amount": "10000"},
                {"due_on": "2026-06-01", "amount": "10000"},
                {"due_on": "2026-09-01", "amount": "9999.99"},
            ],
        )
    err = exc.value.errors[0]
    assert err.field == "installments"
    assert "¥0.01" in err.message and "less" in err.message
    with pytest.raises(ValidationFailed) as exc:
        services.plan_set(
            actor=sales,
            contract=c,
            installments=[{"due_on": "2026-03-01", "amount": "30500"}],
        )
    assert "¥500.00" in exc.value.errors[0].message and "more" in exc.value.errors[0].message
    plan = services.plan_set(
        actor=sales,
        contract=c,
        installments=[
            {"due_on": "2026-09-01", "amount": "10000"},
            {"due_on": "2026-03-01", "amount": "10000"},
            {"due_on": "2026-06-01", "amount": "10000"},
        ],
    )
    assert [(i.position, i.due_on.month) for i in plan] == [(1, 3), (2, 6), (3, 9)]
    # An installment without a date is named by its index.
    with pytest.raises(ValidationFailed) as exc:
        services.plan_set(actor=sales, contract=c, installments=[{"amount": "30000"}])
    assert exc.value.errors[0].field == "installments.0.due_on"


def test_plan_locked_once_money_received(sales: object) -> None:
    c = ff.contract(sales, plan=[("2026-03-01", "10000"), ("2026-06-01", "20000")])
    ff.receipt(sales, c, "100", installment_id=c.installments.first().pk)
    with pytest.raises(Conflict):
        services.plan_set(
            actor=sales, contract=c, installments=[{"due_on": "2026-03-01", "amount": "30000"}]
        )
    assert c.installments.count() == 2


def test_amount_cannot_drift_from_plan(sales: object) -> None:
    c = ff.contract(sales, activate=False, plan=[("2026-03-01", "30000")])
    with pytest.raises(ValidationFailed) as exc:
        services.contract_update(actor=sales, contract=c, data={"amount": "31000"})
    assert exc.value.errors[0].field == "amount"
    active = ff.contract(sales)
    with pytest.raises(ValidationFailed):
        services.contract_update(actor=sales, contract=active, data={"amount": "1"})


def test_partial_payments_and_derived_status(sales: object) -> None:
    c = ff.contract(
        sales,
        plan=[("2026-03-01", "10000"), ("2026-06-01", "10000"), ("2026-09-01", "10000")],
    )
    first, second, third = list(c.installments.order_by("position"))
    ff.receipt(sales, c, "4000", installment_id=first.pk)
    states = {
        i.pk: i.state for i in selectors.installments_of(contract=c, today=dt.date(2026, 2, 1))
    }
    assert states == {first.pk: "partial", second.pk: "unpaid", third.pk: "unpaid"}
    ff.receipt(sales, c, "6000", installment_id=first.pk)
    states = {i.pk: i.state for i in selectors.installments_of(contract=c, today=TODAY)}
    # Paid stays paid; 2026-06-01 is past on TODAY and nothing came: overdue.
    assert states == {first.pk: "paid", second.pk: "overdue", third.pk: "unpaid"}
    first.refresh_from_db()
    assert first.received == Decimal("10000.00") and first.outstanding == 0
    assert selectors.outstanding_of(
        selectors.contract_get_for_user(actor=sales, pk=c.pk)
    ) == Decimal("20000.00")


def test_overpayment_needs_a_note(sales: object) -> None:
    c = ff.contract(sales, plan=[("2026-03-01", "10000"), ("2026-06-01", "20000")])
    first = c.installments.order_by("position").first()
    ff.receipt(sales, c, "9000", installment_id=first.pk)
    with pytest.raises(ValidationFailed) as exc:
        ff.receipt(sales, c, "1500", installment_id=first.pk)
    err = exc.value.errors[0]
    assert err.field == "amount"
    assert "¥500.00" in err.message and "¥1,000.00" in err.message
    first.refresh_from_db()
    assert first.received == Decimal("9000.00")  # nothing recorded
    ff.receipt(sales, c, "1500", installment_id=first.pk, overpayment_note="客户多付，下期抵扣")
    first.refresh_from_db()
    assert first.received == Decimal("10500.00")
    assert first.state_on(TODAY) == Installment.State.PAID


def test_contract_level_receipt_spreads_over_open_installments(sales: object) -> None:
    c = ff.contract(
        sales, plan=[("2026-03-01", "10000"), ("2026-06-01", "10000"), ("2026-09-01", "10000")]
    )
    ff.receipt(sales, c, "15000")
    received = list(c.installments.order_by("position").values_list("received", flat=True))
    assert received == [Decimal("10000.00"), Decimal("5000.00"), Decimal("0.00")]
    with pytest.raises(ValidationFailed):
        ff.receipt(sales, c, "15000.01")
    ff.receipt(sales, c, "15000")
    assert selectors.outstanding_of(c) == 0


def test_deleting_a_receipt_reopens_the_installment(sales: object) -> None:
    c = ff.contract(sales, plan=[("2026-03-01", "30000")])
    r = ff.receipt(sales, c, "30000")
    manager = factories.user("manager", username="mgr")
    with pytest.raises(NotPermitted):  # a salesperson may not delete payments
        payments.receipt_delete(actor=sales, receipt=r)
    sales.department = manager.department
    sales.save()
    payments.receipt_delete(actor=manager, receipt=r)
    assert c.installments.get().received == 0


def test_receipts_need_an_active_contract(sales: object) -> None:
    draft = ff.contract(sales, activate=False)
    with pytest.raises(Conflict):
        ff.receipt(sales, draft, "100")


def test_invoices_cannot_exceed_contract_without_note(sales: object) -> None:
    c = ff.contract(sales, amount="10000")
    inv = payments.invoice_create(
        actor=sales,
        contract=c,
        data={"amount": "6000", "issued_on": "2026-02-01", "kind": "special", "status": "issued"},
    )
    assert inv.number.startswith("FP-") and inv.kind == Invoice.Kind.SPECIAL
    with pytest.raises(ValidationFailed) as exc:
        payments.invoice_create(
            actor=sales, contract=c, data={"amount": "4000.01", "issued_on": "2026-02-02"}
        )
    assert exc.value.errors[0].field == "amount" and "¥0.01" in exc.value.errors[0].message
    # Voiding frees the amount; a note allows going over.
    payments.invoice_update(actor=sales, invoice=inv, data={"status": "void"})
    payments.invoice_create(
        actor=sales,
        contract=c,
        data={"amount": "10000", "issued_on": "2026-02-02", "number": "0451"},
    )
    payments.invoice_create(
        actor=sales,
        contract=c,
        data={"amount": "100", "issued_on": "2026-02-03", "over_note": "运费另开"},
    )
    with pytest.raises(ValidationFailed):  # void is final
        payments.invoice_update(actor=sales, invoice=inv, data={"status": "issued"})
    with pytest.raises(ValidationFailed) as exc:  # numbers are unique
        payments.invoice_create(
            actor=sales,
            contract=c,
            data={"amount": "1", "issued_on": "2026-02-03", "number": "0451", "over_note": "x"},
        )
    assert exc.value.errors[0].field == "number"


def test_terminate_needs_reason_and_delete_only_drafts(sales: object) -> None:
    c = ff.contract(sales)
    with pytest.raises(ValidationFailed):
        services.contract_terminate(actor=sales, contract=c, reason=" ")
    services.contract_terminate(actor=sales, contract=c, reason="客户业务调整")
    c.refresh_from_db()
    assert c.status == Contract.Status.TERMINATED and c.terminated_at
    with pytest.raises(Conflict):
        services.contract_update(actor=sales, contract=c, data={"title": "新"})
    services.contract_update(actor=sales, contract=c, data={"notes": "已终止"})
    manager = factories.user("manager", username="mgr2")
    draft = ff.contract(manager, activate=False)
    services.contract_delete(actor=manager, contract=draft)
    assert not Contract.objects.filter(pk=draft.pk).exists()


def test_contract_links_a_deal_of_its_account_in_scope(sales: object) -> None:
    account = crm_factories.account(sales)
    deal = crm_factories.deal(sales, account_id=account.pk)
    c = ff.contract(sales, account=account, deal_id=deal.pk, activate=False)
    assert c.deal_id == deal.pk
    other_deal = crm_factories.deal(sales)  # another account of the same salesperson
    with pytest.raises(ValidationFailed) as exc:
        ff.contract(sales, account=account, deal_id=other_deal.pk, activate=False)
    assert exc.value.errors[0].field == "deal_id"
    colleague = factories.user("sales", username="lina")
    their_deal = crm_factories.deal(colleague)
    with pytest.raises(ValidationFailed) as exc:
        ff.contract(sales, account=account, deal_id=their_deal.pk, activate=False)
    assert exc.value.errors[0].message == "No such deal."
    services.contract_update(actor=sales, contract=c, data={"deal_id": None})
    c.refresh_from_db()
    assert c.deal_id is None
