"""The quotes demo step: products, a tier price list and quotes in every state, once."""

from __future__ import annotations

import pytest

from guanxi.automation.models import ApprovalRequest
from guanxi.core.demo import DemoContext, load_organisation
from guanxi.customers.demo import load_customers
from guanxi.sales.catalog.models import PriceList, Product
from guanxi.sales.demo import load_deals
from guanxi.sales.quotes.demo import load_quotes
from guanxi.sales.quotes.models import DealLine, Quote

pytestmark = pytest.mark.django_db


def test_demo_quotes_load_once() -> None:
    ctx = DemoContext(log=lambda _msg: None)
    load_organisation(ctx)
    load_customers(ctx)
    load_deals(ctx)
    load_quotes(ctx)
    assert Product.objects.count() == 10
    assert PriceList.objects.filter(tier="A").count() == 1
    statuses = set(Quote.objects.values_list("status", flat=True))
    assert statuses == {"draft", "pending_approval", "accepted", "rejected", "sent"}
    assert Quote.objects.filter(version=2).count() == 1
    assert ApprovalRequest.objects.filter(status="pending").count() == 1
    assert DealLine.objects.exists()
    assert Quote.objects.filter(deal__isnull=False).exists()
    count = Quote.objects.count()
    load_quotes(ctx)
    assert Quote.objects.count() == count
    assert Product.objects.count() == 10
