"""Data quality: completeness per record and per owner, stale records, within scope."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from guanxi.importing import quality
from guanxi.leads.models import Lead
from guanxi.tests_support import crm_factories, factories
from guanxi.tests_support import org as org_support

pytestmark = pytest.mark.django_db


def test_completeness_ranking_and_stale_records_in_scope() -> None:
    o = org_support.build()
    manager = o.give(o.actor, factories.role("manager"))  # 销售部 subtree: peer, east
    full = crm_factories.lead(
        o.peer,
        name="全",
        company="甲",
        mobile="13800138000",
        email="a@x.cn",
        city="上海",
        industry="科技",
        title="经理",
    )
    sparse = crm_factories.lead(o.east, name="空", mobile="13900139000")
    crm_factories.lead(o.boss, name="别处", mobile="13700137000")
    assert quality.record_score(full, "lead") == 88  # 7 of 8: no source
    ranking = quality.owner_ranking(actor=manager, entity_key="lead")
    sparse_score = quality.record_score(sparse, "lead")
    assert sparse_score < 50
    assert [(r["owner_id"], r["score"]) for r in ranking] == [
        (o.peer.pk, 88),
        (o.east.pk, sparse_score),
    ]
    Lead.objects.filter(name="空").update(updated_at=timezone.now() - dt.timedelta(days=40))
    Lead.objects.filter(name="别处").update(updated_at=timezone.now() - dt.timedelta(days=40))
    stale = quality.stale_records(actor=manager, entity_key="lead", days=30)
    assert [obj.name for obj, _score in stale] == ["空"]  # the boss's lead is out of scope

    client = Client()
    client.force_login(manager)
    page = client.get("/data-quality/?entity=lead&days=30").content.decode()
    assert "quality-ranking" in page and "空" in page and "别处" not in page
    assert client.get("/data-quality/?entity=nope").status_code == 404
