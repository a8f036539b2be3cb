"""Deal and pipeline API: scope (list, detail → 404), status codes (201, 422 with field
names, 403, 404, 409), filters, move, masking, lead conversion with a deal."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import Model

from guanxi.core import permissions
from guanxi.sales import selectors
from guanxi.sales.models import Deal, Pipeline, Stage
from guanxi.tests_support import crm_factories, factories, org

pytestmark = pytest.mark.django_db

EXPECTED = {
    "own": {"actor"},
    "department": {"actor", "peer"},
    "subtree": {"actor", "peer", "east"},
    "all": {"actor", "peer", "east", "service", "boss"},
}


def stage(name: str, pipeline: str = "新客户") -> Stage:
    return Stage.objects.get(pipeline__name=pipeline, name=name)


@pytest.mark.parametrize("scope", list(EXPECTED))
def test_deal_scope(api_client: Any, scope: str) -> None:
    o = org.build()
    records: dict[str, Model] = {}
    for name in ("actor", "peer", "east", "service", "boss"):
        records[name] = crm_factories.deal(o.admin, owner_id=getattr(o, name).pk)
    role = org.role(o.admin, {"deal": {"actions": ["view"], "scope": scope}})
    actor = o.give(o.actor, role)
    expected = {records[n].pk for n in EXPECTED[scope]}

    page = selectors.deal_list(actor=actor)
    assert {r.pk for r in page.items} == expected
    assert page.count == len(expected)
    assert permissions.scoped_queryset(actor, "deal").count() == len(expected)

    api = api_client.login(actor)
    body = api.get("deals").json()
    assert {i["id"] for i in body["items"]} == expected
    assert body["count"] == len(expected)
    for record in records.values():
        status = api.get(f"deals/{record.pk}").status_code
        assert status == (200 if record.pk in expected else 404)
    # View alone grants no writes.
    assert api.patch(f"deals/{records['actor'].pk}", {"name": "改"}).status_code == 403
    assert (
        api.post(f"deals/{records['actor'].pk}/move", {"stage": stage("需求确认").pk}).status_code
        == 403
    )


def test_salesperson_vs_colleague(api_client: Any, client: Any) -> None:
    me = factories.user("sales")
    colleague = factories.user("sales")
    mine = crm_factories.deal(me)
    theirs = crm_factories.deal(colleague)
    api = api_client.login(me)
    assert [i["id"] for i in api.get("deals").json()["items"]] == [mine.pk]
    assert api.get(f"deals/{theirs.pk}").status_code == 404
    assert api.patch(f"deals/{theirs.pk}", {"name": "x"}).status_code == 404
    assert api.post(f"deals/{theirs.pk}/move", {"stage": stage("需求确认").pk}).status_code == 404
    client.force_login(me)
    assert client.get(f"/deals/{theirs.pk}/").status_code == 404
    assert client.get(f"/deals/{mine.pk}/").status_code == 200
    board = client.get("/board/")
    assert mine.name in board.content.decode() and theirs.name not in board.content.decode()
    listing = client.get("/deals/").content.decode()
    assert mine.name in listing and theirs.name not in listing
    # Collaborating widens visibility, like on accounts.
    from guanxi.sales import services

    services.deal_update(actor=colleague, deal=theirs, data={"collaborator_ids": [me.pk]})
    assert api.get(f"deals/{theirs.pk}").status_code == 200


def test_no_grant_means_403(api_client: Any) -> None:
    o = org.build()
    role = org.role(o.admin, {"lead": {"actions": ["view"], "scope": "own"}})
    actor = o.give(o.actor, role)
    api = api_client.login(actor)
    assert api.get("deals").status_code == 403
    assert api.post("deals", {"name": "x", "account_id": 1}).status_code == 403


def test_create_201_and_422_with_field_names(api_client: Any) -> None:
    sales = factories.user("sales")
    account = crm_factories.account(sales)
    api = api_client.login(sales)
    r = api.post(
        "deals",
        {
            "name": "ERP 一期",
            "account_id": account.pk,
            "amount": "120000.005",
            "expected_close_date": "2026-05-31",
            "tags": ["重点"],
            "competitors": ["金蝶"],
        },
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["amount"] == "120000.01"
    assert body["currency"] == "CNY"
    assert body["stage"]["name"] == "初步接触"
    assert body["probability"] == 10
    assert body["owner"]["id"] == sales.pk
    assert body["stage_history"][0]["to_stage"] == "初步接触"

    r = api.post("deals", {"name": "数字金额", "account_id": account.pk, "amount": 99.995})
    assert r.status_code == 201 and r.json()["amount"] == "100.00"

    r = api.post("deals", {"name": "", "account_id": account.pk, "amount": "x"})
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"name", "amount"}
    r = api.post("deals", {"name": "x"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "account_id"
    r = api.post("deals", {"name": "x", "account_id": account.pk, "stage_id": stage("赢单").pk})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "stage_id"


def test_move_endpoint_rules(api_client: Any) -> None:
    sales = factories.user("sales")
    deal = crm_factories.deal(sales)
    api = api_client.login(sales)
    r = api.post(f"deals/{deal.pk}/move", {"stage": stage("方案/报价").pk})
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"amount", "expected_close_date"}
    assert "方案/报价" in r.json()["detail"]
    r = api.post(f"deals/{deal.pk}/move", {"stage": stage("输单").pk})
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"loss_reason", "loss_note"}
    from guanxi.sales.models import LossReason

    reason = LossReason.objects.get(name_zh="预算")
    r = api.post(
        f"deals/{deal.pk}/move",
        {"stage": stage("输单").pk, "loss_reason": reason.pk, "loss_note": "预算砍了"},
    )
    assert r.status_code == 200
    assert r.json()["status"] == "lost" and r.json()["loss_reason"] == reason.pk
    assert api.post(f"deals/{deal.pk}/move", {"stage": 999999}).status_code == 422


def test_patch_moves_stage_and_delete_needs_permission(api_client: Any) -> None:
    sales = factories.user("sales")
    deal = crm_factories.deal(sales)
    api = api_client.login(sales)
    r = api.patch(
        f"deals/{deal.pk}",
        {
            "amount": "5000",
            "expected_close_date": "2026-02-01",
            "stage_id": stage("商务谈判").pk,
        },
    )
    assert r.status_code == 200, r.content
    assert r.json()["stage"]["name"] == "商务谈判" and r.json()["probability"] == 70
    assert api.delete(f"deals/{deal.pk}").status_code == 403
    manager = factories.user("manager")
    assert api_client.login(manager).delete(f"deals/{deal.pk}").status_code == 204
    assert not Deal.objects.filter(pk=deal.pk).exists()


def test_list_filters(api_client: Any) -> None:
    sales = factories.user("sales")
    a = crm_factories.deal(sales, expected_close_date="2026-03-15", tags=["重点"])
    b = crm_factories.deal(sales, expected_close_date="2026-04-01")
    renewal = Pipeline.objects.get(name="续费/增购")
    c = crm_factories.deal(sales, pipeline_id=renewal.pk, account_id=a.account_id)
    api = api_client.login(sales)

    def ids(**params: Any) -> set[int]:
        r = api.get("deals", **params)
        assert r.status_code == 200, r.content
        return {i["id"] for i in r.json()["items"]}

    assert ids(close_month="2026-03") == {a.pk}
    assert ids(tag="重点") == {a.pk}
    assert ids(pipeline=renewal.pk) == {c.pk}
    assert ids(account=a.account_id) == {a.pk, c.pk}
    assert ids(stage=b.stage_id) == {a.pk, b.pk}
    assert ids(owner="me") == {a.pk, b.pk, c.pk}
    assert ids(status="open") == {a.pk, b.pk, c.pk}
    assert ids(q=b.name) == {b.pk}
    r = api.get("deals", close_month="2026-13")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "close_month"
    r = api.get("deals", status="maybe")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "status"


def test_amount_masked_for_roles_that_mask_it(api_client: Any) -> None:
    o = org.build()
    deal = crm_factories.deal(o.admin, owner_id=o.actor.pk, amount="999")
    role = org.role(
        o.admin, {"deal": {"actions": ["view"], "scope": "own", "masked_fields": ["amount"]}}
    )
    actor = o.give(o.actor, role)
    body = api_client.login(actor).get(f"deals/{deal.pk}").json()
    assert body["amount"] == "****"


def test_pipelines_endpoint_and_admin_only_changes(api_client: Any) -> None:
    sales = factories.user("sales")
    api = api_client.login(sales)
    body = api.get("pipelines").json()
    assert [p["name"] for p in body] == ["新客户", "续费/增购"]
    assert [s["name"] for s in body[0]["stages"]][:2] == ["初步接触", "需求确认"]
    assert body[0]["stages"][2]["required_fields"] == ["amount", "expected_close_date"]
    assert api.post("pipelines", {"name": "渠道"}).status_code == 403
    assert api.get("loss-reasons").json()[0]["name_zh"] == "价格"

    admin_api = api_client.login(factories.admin())
    r = admin_api.post(
        "pipelines", {"name": "渠道", "stages": [{"name": "报备", "probability": 20}]}
    )
    assert r.status_code == 201, r.content
    assert [s["name"] for s in r.json()["stages"]] == ["报备"]
    r = admin_api.post("pipelines", {"name": "渠道"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "name"
    first = stage("初步接触")
    crm_factories.deal(sales)
    r = admin_api.post(f"stages/{first.pk}/delete", {})
    assert r.status_code == 409
    r = admin_api.post(f"stages/{first.pk}/delete", {"move_to": stage("需求确认").pk})
    assert r.status_code == 200 and r.json() == {"moved": 1}


def test_lead_conversion_creates_a_deal(api_client: Any) -> None:
    sales = factories.user("sales")
    from guanxi.leads.models import LeadSource

    source = LeadSource.objects.get(code="trade_show")
    lead = crm_factories.lead(sales, company="华光科技", source="trade_show")
    api = api_client.login(sales)
    r = api.post(
        f"leads/{lead.pk}/convert",
        {"create_deal": True, "deal": {"amount": "30000", "expected_close_date": "2026-04-30"}},
    )
    assert r.status_code == 200, r.content
    body = r.json()
    deal = body["deal"]
    assert deal["name"] == "华光科技"
    assert deal["account"]["id"] == body["account"]["id"]
    assert deal["source"] == source.code and deal["lead_id"] == lead.pk
    assert deal["amount"] == "30000.00"
    assert api.post(f"leads/{lead.pk}/convert", {"create_deal": True}).status_code == 409


def test_lead_conversion_bad_deal_input_changes_nothing(api_client: Any) -> None:
    sales = factories.user("sales")
    lead = crm_factories.lead(sales, company="坏数据公司")
    api = api_client.login(sales)
    r = api.post(f"leads/{lead.pk}/convert", {"create_deal": True, "deal": {"amount": "abc"}})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "deal.amount"
    lead.refresh_from_db()
    assert lead.converted_at is None
    assert not Deal.objects.exists()


def test_conversion_without_deal_keeps_deal_null(api_client: Any) -> None:
    sales = factories.user("sales")
    lead = crm_factories.lead(sales)
    r = api_client.login(sales).post(f"leads/{lead.pk}/convert", {})
    assert r.status_code == 200 and r.json()["deal"] is None
    assert not Deal.objects.exists()
