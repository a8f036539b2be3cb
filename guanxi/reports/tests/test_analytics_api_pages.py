"""The analytics API and pages: figures, validation (422 with the field), scope (404)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from guanxi.reports.analytics import services
from guanxi.reports.models import SavedReport
from guanxi.reports.tests.test_analytics import NOW, rfm_fixture
from guanxi.reports.tests.test_builder import BY_MONTH, won
from guanxi.tests_support import factories
from guanxi.tests_support.api import ApiClient

pytestmark = pytest.mark.django_db


def test_builder_api_runs_and_names_bad_fields() -> None:
    sales = factories.user("sales")
    peer = factories.user("sales")
    won(sales, "100", timezone.make_aware(dt.datetime(2026, 1, 5, 12)))
    won(peer, "900", timezone.make_aware(dt.datetime(2026, 1, 6, 12)))
    api = ApiClient().login(sales)
    res = api.post("reports/builder", BY_MONTH)
    assert res.status_code == 200, res.content
    body = res.json()
    assert body["rows"][0]["dimensions"][0]["label"] == "2026-01"
    assert body["rows"][0]["values"] == [1, "100.00", "100.00"]
    bad = api.post("reports/builder", {"entity": "deal", "dimensions": [{"field": "password"}]})
    assert bad.status_code == 422
    assert "dimensions[0].field" in bad.content.decode()


def test_saved_report_api_crud_and_scope() -> None:
    boss = factories.user("sales")
    other = factories.user("service")
    api = ApiClient().login(boss)
    res = api.post("reports/saved", {"name": "赢单", "definition": BY_MONTH})
    assert res.status_code == 201, res.content
    pk = res.json()["id"]
    assert api.get(f"reports/saved/{pk}/run").status_code == 200
    assert ApiClient().login(other).get(f"reports/saved/{pk}").status_code == 404
    res = api.patch(f"reports/saved/{pk}", {"shared_roles": ["service"]})
    assert res.json()["shared_roles"] == ["service"]
    assert ApiClient().login(other).get(f"reports/saved/{pk}").status_code == 200
    assert ApiClient().login(other).delete(f"reports/saved/{pk}").status_code == 403
    assert api.delete(f"reports/saved/{pk}").status_code == 204
    assert not SavedReport.objects.exists()
    assert api.post("reports/saved", {"name": "", "definition": BY_MONTH}).status_code == 422


def test_rfm_churn_cohorts_api_in_scope() -> None:
    sales = factories.user("sales")
    peer = factories.user("sales")
    acc = rfm_fixture(sales)
    won(peer, "5", NOW - dt.timedelta(days=3))
    services.scores_refresh(actor=None, now=NOW)
    api = ApiClient().login(sales)
    body = api.get("reports/rfm").json()
    assert body["total"] == 5 and body["count"] == 5
    assert api.get("reports/rfm", segment="general_keep").json()["items"][0]["account_id"] == (
        acc["a4"].pk
    )
    assert api.get("reports/rfm", segment="vip").status_code == 422
    churn = api.get("reports/churn").json()
    assert [i["account_id"] for i in churn["items"]] == [acc["a4"].pk]
    assert [r["signal"] for r in churn["items"][0]["reasons"]] == ["purchase_gap", "falling_spend"]
    assert api.get("reports/cohorts").json()["customers"] == 5
    peer_view = ApiClient().login(peer).get("reports/rfm").json()
    assert peer_view["total"] == 1
    listed = api.get("accounts", rfm_segment="general_keep").json()["items"]
    assert [(a["id"], a["rfm_segment"], a["churn_score"]) for a in listed] == [
        (acc["a4"].pk, "general_keep", 60)
    ]
    detail = Client()
    detail.force_login(sales)
    page = detail.get(f"/accounts/{acc['a4'].pk}/").content.decode()
    assert "R1 F4 M1" in page


def test_pages_render() -> None:
    sales = factories.user("sales")
    rfm_fixture(sales)
    services.scores_refresh(actor=None, now=NOW)
    client = Client()
    client.force_login(sales)
    for name, text in [
        ("/reports/analytics/rfm/", "重要价值客户"),
        ("/reports/analytics/churn/", "(+35)"),
        ("/reports/analytics/cohorts/", "CLV"),
        ("/reports/builder/", "<form"),
        ("/reports/builder/?entity=deal&d1=won_at&b1=month&m=count&m=sum:amount", "<svg"),
        ("/accounts/?rfm_segment=important_value", "<table"),
    ]:
        res = client.get(name)
        assert res.status_code == 200, name
        assert text in res.content.decode(), name
    res = client.post("/reports/analytics/refresh/", {"next": "/reports/analytics/churn/"})
    assert res.status_code == 302 and res["Location"] == "/reports/analytics/churn/"
    res = client.post(
        "/reports/builder/save/",
        {
            "name": "我的报表",
            "definition": '{"entity": "account", "dimensions": [{"field": "tier"}]}',
        },
    )
    assert res.status_code == 302
    report = SavedReport.objects.get()
    assert client.get(f"/reports/builder/?saved={report.pk}").status_code == 200
    export = (
        "/reports/builder/export/?format=xlsx&definition="
        '{"entity":"account","dimensions":[{"field":"tier"}]}'
    )
    assert client.get(export).status_code == 403  # salespeople may not export
    manager = Client()
    manager.force_login(factories.user("manager"))
    res = manager.get(export)
    assert res.status_code == 200 and res.content[:2] == b"PK"
    other = Client()
    other.force_login(factories.user("sales"))
    assert other.get(f"/reports/builder/?saved={report.pk}").status_code == 404
