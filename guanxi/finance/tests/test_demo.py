"""The finance demo step: contracts with plans, partial receipts and overdue installments;
idempotent."""

from __future__ import annotations

import pytest
from django.db.models import F
from django.utils import timezone

from guanxi.core.demo import DemoContext, load_organisation
from guanxi.customers.demo import load_customers
from guanxi.finance.demo import load_contracts
from guanxi.finance.models import Contract, Installment, Receipt

pytestmark = pytest.mark.django_db


def test_demo_contracts_load_once() -> None:
    ctx = DemoContext(log=lambda _msg: None)
    load_organisation(ctx)
    load_customers(ctx)
    load_contracts(ctx)
    assert Contract.objects.count() == 18
    assert Contract.objects.filter(status=Contract.Status.PENDING).count() == 1
    assert Contract.objects.filter(status=Contract.Status.DRAFT).count() == 1
    today = timezone.localdate()
    open_ = Installment.objects.filter(received__lt=F("amount"))
    assert open_.filter(due_on__lt=today, contract__status="active").exists()  # overdue
    assert open_.filter(received__gt=0).exists()  # partial
    assert Receipt.objects.count() > 5
    for contract in Contract.objects.all():  # every plan adds up
        assert sum(i.amount for i in contract.installments.all()) == contract.amount
    load_contracts(ctx)
    assert Contract.objects.count() == 18
