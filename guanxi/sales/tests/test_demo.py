"""The sales demo step: ~80 deals over stages and owners, some won / lost, idempotent."""

from __future__ import annotations

import pytest

from guanxi.core.demo import DemoContext, load_organisation
from guanxi.customers.demo import load_customers
from guanxi.sales.demo import load_deals
from guanxi.sales.models import Deal

pytestmark = pytest.mark.django_db


def test_demo_deals_load_once() -> None:
    ctx = DemoContext(log=lambda _msg: None)
    load_organisation(ctx)
    load_customers(ctx)
    load_deals(ctx)
    assert Deal.objects.count() == 80
    assert Deal.objects.filter(status="won").count() >= 8
    lost = Deal.objects.filter(status="lost")
    assert lost.count() >= 5
    assert not lost.filter(loss_reason=None).exists()
    assert Deal.objects.filter(status="open").values("stage").distinct().count() >= 6
    assert Deal.objects.values("owner").distinct().count() >= 5
    assert Deal.objects.values("pipeline").distinct().count() == 2
    load_deals(ctx)
    assert Deal.objects.count() == 80
