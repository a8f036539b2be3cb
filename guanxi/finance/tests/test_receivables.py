"""Aging buckets on a hand-computed fixture, renewal tasks, expiry and overdue reminders
(each idempotent under a double run)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.activities.models import Notification, Task
from guanxi.finance import receivables, reminders, selectors
from guanxi.finance.models import Contract
from guanxi.finance.tests import factories as ff
from guanxi.tests_support import crm_factories, factories

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 6, 15)
D = Decimal


@pytest.fixture
def book() -> dict[str, Any]:
    """Contracts of 张伟 (and one of a colleague) with installments whose buckets on
    TODAY were worked out by hand (days overdue in brackets)."""
    sales = factories.user("sales", username="zhangwei")
    colleague = factories.user("sales", username="lina")
    acme = crm_factories.account(sales, name="甲公司")
    beta = crm_factories.account(sales, name="乙公司")
    a = ff.contract(
        sales,
        account=acme,
        amount="45000",
        plan=[
            ("2026-06-15", "1000"),  # due today: not yet due
            ("2026-06-14", "2000"),  # [1] 0–30
            ("2026-05-16", "3000"),  # [30] 0–30
            ("2026-05-15", "4000"),  # [31] 31–60, 1,500 paid → 2,500 open
            ("2026-04-16", "5000"),  # [60] 31–60
            ("2026-04-15", "6000"),  # [61] 61–90
            ("2026-03-17", "7000"),  # [90] 61–90
            ("2026-03-16", "8000"),  # [91] 90+
            ("2026-01-01", "9000"),  # paid in full: not receivable
        ],
    )
    by_due = {i.due_on.isoformat(): i for i in a.installments.all()}
    ff.receipt(sales, a, "1500", installment_id=by_due["2026-05-15"].pk)
    ff.receipt(sales, a, "9000", installment_id=by_due["2026-01-01"].pk)
    b = ff.contract(sales, account=beta, amount="500", plan=[("2026-06-01", "500")])  # [14]
    unplanned = ff.contract(sales, account=beta, amount="700")
    ff.receipt(sales, unplanned, "200")
    ff.contract(sales, account=beta, amount="900", activate=False, plan=[("2026-01-01", "900")])
    other = ff.contract(colleague, amount="100", plan=[("2026-01-01", "100")])
    return {
        "sales": sales,
        "colleague": colleague,
        "a": a,
        "b": b,
        "acme": acme,
        "beta": beta,
        "other": other,
    }


def test_aging_buckets_hand_computed(book: dict[str, Any]) -> None:
    sales = book["sales"]
    with CaptureQueriesContext(connection) as ctx:
        totals = receivables.aging_summary(actor=sales, today=TODAY)
    assert len(ctx.captured_queries) <= 3  # aggregates, not a loop over installments
    assert totals == [
        {
            "currency": "CNY",
            "not_due": D("1000.00"),
            "d0_30": D("5500.00"),
            "d31_60": D("7500.00"),
            "d61_90": D("13000.00"),
            "d90_plus": D("8000.00"),
            "overdue": D("34000.00"),
            "unscheduled": D("500.00"),
            "total": D("35500.00"),
        }
    ]
    page = receivables.aging_by(actor=sales, group="account", today=TODAY)
    rows = {r["label"]: r for r in page.items}
    assert list(rows) == ["甲公司", "乙公司"]  # largest overdue first
    assert rows["甲公司"]["d0_30"] == D("5000.00") and rows["甲公司"]["total"] == D("34500.00")
    assert rows["乙公司"]["d0_30"] == D("500.00") and rows["乙公司"]["overdue"] == D("500.00")
    by_contract = receivables.aging_by(actor=sales, group="contract", today=TODAY)
    assert {r["id"] for r in by_contract.items} == {book["a"].pk, book["b"].pk}
    # Drill-down: the installments behind 61–90 of 甲公司.
    drill = receivables.installments_in_bucket(
        actor=sales, bucket="d61_90", account_id=book["acme"].pk, today=TODAY
    )
    assert [(i.due_on.isoformat(), i.state) for i in drill.items] == [
        ("2026-03-17", "overdue"),
        ("2026-04-15", "overdue"),
    ]
    owed = receivables.outstanding_for_account(actor=sales, account_id=book["beta"].pk)
    assert owed[0]["total"] == D("1000.00")  # 500 planned + 500 unscheduled


def test_aging_is_scoped(book: dict[str, Any]) -> None:
    colleague = book["colleague"]
    totals = receivables.aging_summary(actor=colleague, today=TODAY)
    assert totals[0]["d90_plus"] == D("100.00") and totals[0]["total"] == D("100.00")
    manager = factories.user("manager", username="boss")  # root department, subtree: all
    assert receivables.aging_summary(actor=manager, today=TODAY)[0]["total"] == D("35600.00")


def test_overdue_reminders_once_per_installment_and_bucket(book: dict[str, Any]) -> None:
    sales = book["sales"]
    first = reminders.installments_remind_overdue(today=TODAY)
    # 甲: 7 overdue open installments, 乙: 1; the colleague's: 1.
    assert first == 9
    assert reminders.installments_remind_overdue(today=TODAY) == 0  # twice: nothing new
    mine = Notification.objects.filter(recipient=sales, verb="payment.overdue")
    assert mine.count() == 8
    assert any("甲公司" in n.title for n in mine)
    # A week on, only installments that changed bucket are reminded: 2026-06-15 (due →
    # 7 days), 2026-05-16 (30 → 37), 2026-04-16 (60 → 67) and 2026-03-17 (90 → 97).
    assert reminders.installments_remind_overdue(today=TODAY + dt.timedelta(days=7)) == 4


def test_expire_and_renewal_tasks_idempotent() -> None:
    sales = factories.user("sales", username="zhangwei")
    ending = ff.contract(sales, ends_on=TODAY + dt.timedelta(days=20))
    later = ff.contract(sales, ends_on=TODAY + dt.timedelta(days=40))
    past = ff.contract(sales, ends_on=TODAY - dt.timedelta(days=1))
    ff.contract(sales, activate=False, ends_on=TODAY + dt.timedelta(days=3))  # a draft: none
    assert reminders.contracts_expire(today=TODAY) == 1
    past.refresh_from_db()
    assert past.status == Contract.Status.EXPIRED
    assert reminders.contracts_expire(today=TODAY) == 0

    assert reminders.contracts_create_renewal_tasks(today=TODAY) == 1
    assert reminders.contracts_create_renewal_tasks(today=TODAY) == 0  # double run
    tasks = Task.objects.filter(target_entity="contract", target_id=ending.pk)
    assert tasks.count() == 1
    task = tasks.get()
    assert task.assignee_id == sales.pk and ending.number in task.title
    assert Notification.objects.filter(recipient=sales, verb="contract.expiring").count() == 1
    assert not Task.objects.filter(target_entity="contract", target_id=later.pk).exists()
    # A longer renewal window reaches the later contract, once.
    ff.settings(renewal_days=45)
    assert reminders.contracts_create_renewal_tasks(today=TODAY) == 1
    assert reminders.contracts_create_renewal_tasks(today=TODAY) == 0
    # Extending the contract is a new occasion.
    Contract.objects.filter(pk=ending.pk).update(ends_on=TODAY + dt.timedelta(days=21))
    assert reminders.contracts_create_renewal_tasks(today=TODAY) == 1


def test_periodic_tasks_run_through_the_queue() -> None:
    from django.utils import timezone

    from guanxi import schedule

    today = timezone.localdate()
    sales = factories.user("sales", username="zhangwei")
    ff.contract(sales, ends_on=today - dt.timedelta(days=1))
    ff.contract(sales, ends_on=today + dt.timedelta(days=5))
    ff.contract(
        sales,
        ends_on=today + dt.timedelta(days=365),
        plan=[((today - dt.timedelta(days=3)).isoformat(), "30000")],
    )
    assert schedule.finance_expire_contracts.call_local() == 1
    assert schedule.finance_renewal_tasks.call_local() == 1
    assert schedule.finance_overdue_reminders.call_local() == 1
    assert schedule.finance_renewal_tasks.call_local() == 0
    assert schedule.finance_overdue_reminders.call_local() == 0


def test_contract_state_helpers(book: dict[str, Any]) -> None:
    c = selectors.contract_get_for_user(actor=book["sales"], pk=book["a"].pk)
    assert c.received_total == D("10500.00")
    assert selectors.outstanding_of(c) == D("34500.00")
