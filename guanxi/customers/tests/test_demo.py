"""The demo steps of customers and leads: realistic volume, valid data, idempotent."""

from __future__ import annotations

import pytest

from guanxi.core.demo import DemoContext, load_organisation
from guanxi.customers.demo import load_customers
from guanxi.customers.models import Account, Contact
from guanxi.leads.demo import load_leads, load_pool
from guanxi.leads.models import Lead, Pool, PoolRule

pytestmark = pytest.mark.django_db


def test_demo_steps_load_once() -> None:
    ctx = DemoContext(log=lambda _msg: None)
    load_organisation(ctx)
    load_customers(ctx)
    load_leads(ctx)
    assert Account.objects.count() == 60
    assert Contact.objects.count() >= 100
    assert Lead.objects.count() == 300
    assert Lead.objects.filter(owner__isnull=True).count() == 30
    assert Lead.objects.exclude(mobile_e164="").count() == 300
    owners = set(Lead.objects.exclude(owner=None).values_list("owner__username", flat=True))
    assert len(owners) >= 5
    load_pool(ctx)
    assert Pool.objects.count() == 2 and PoolRule.objects.count() == 3
    pooled = Account.objects.filter(owner__isnull=True)
    assert pooled.count() == 12
    assert pooled.exclude(pool_department=None).exists()  # regional reps → regional pools
    load_customers(ctx)
    load_leads(ctx)
    load_pool(ctx)
    assert Account.objects.count() == 60
    assert Lead.objects.count() == 300
    assert Pool.objects.count() == 2 and PoolRule.objects.count() == 3
