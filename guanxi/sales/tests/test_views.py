"""Deal pages, the kanban board (query count pinned, totals, load more, filters), the
settings page, the account page's deals and timeline, and the convert dialog's deal."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.customers.models import Account
from guanxi.sales import selectors, services
from guanxi.sales.models import Deal, LossReason, Pipeline, Stage
from guanxi.tests_support import crm_factories, factories

pytestmark = pytest.mark.django_db


def stage(name: str, pipeline: str = "新客户") -> Stage:
    return Stage.objects.get(pipeline__name=pipeline, name=name)


def test_board_query_count_is_pinned(client: Any) -> None:
    """The board costs the same number of queries for 3 deals or 60 (no N+1)."""
    sales = factories.user("sales")
    client.force_login(sales)
    for _ in range(3):
        crm_factories.deal(sales, amount="100")
    client.get("/board/")  # warm caches (session, grants)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/board/").status_code == 200
    account = crm_factories.account(sales)
    for i in range(57):
        crm_factories.deal(sales, account_id=account.pk, amount=str(i))
    for name in ("需求确认", "商务谈判"):
        d = crm_factories.deal(sales, amount="1", expected_close_date="2026-01-01")
        services.deal_move_stage(actor=sales, deal=d, stage=stage(name))
    with CaptureQueriesContext(connection) as many:
        response = client.get("/board/")
    assert response.status_code == 200
    # session + user, grants, pipelines + stages, aggregate, one per non-empty column,
    # loss reasons, nav and notifications: a constant.
    assert len(many) <= len(few) + 2, [q["sql"] for q in many.captured_queries]
    assert len(many) <= 16, [q["sql"] for q in many.captured_queries]
    html = response.content.decode()
    assert html.count('class="kanban-card"') == selectors.KANBAN_COLUMN_SIZE + 2
    assert "Load more" in html or "加载更多" in html


def test_board_totals_from_one_aggregate() -> None:
    sales = factories.user("sales")
    crm_factories.deal(sales, amount="1000.10")
    crm_factories.deal(sales, amount="2000")
    crm_factories.deal(sales, amount="500", currency="USD")
    d = crm_factories.deal(sales, amount="10000", expected_close_date="2026-02-01")
    services.deal_move_stage(actor=sales, deal=d, stage=stage("方案/报价"))
    board = selectors.kanban(actor=sales, pipeline=Pipeline.objects.get(name="新客户"))
    first, _second, quote = board.columns[:3]
    assert first.count == 3
    assert first.totals == [
        ("CNY", Decimal("3000.10"), Decimal("300.01")),
        ("USD", Decimal("500.00"), Decimal("50.00")),
    ]
    assert quote.count == 1 and quote.totals == [("CNY", Decimal("10000.00"), Decimal("5000.00"))]


def test_board_load_more_and_filters(client: Any) -> None:
    sales = factories.user("sales")
    other = factories.user("sales")
    client.force_login(sales)
    account = crm_factories.account(sales)
    deals = [crm_factories.deal(sales, account_id=account.pk) for _ in range(55)]
    first = stage("初步接触")
    pipeline = first.pipeline
    r = client.get(f"/board/{pipeline.pk}/stages/{first.pk}/?offset=50", HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    # Newest on top: the five oldest come last.
    html = r.content.decode()
    assert html.count('class="kanban-card"') == 5
    assert all(f'data-deal="{d.pk}"' in html for d in deals[:5])
    tagged = crm_factories.deal(sales, account_id=account.pk, tags=["华东"])
    r = client.get("/board/", {"tag": "华东"})
    html = r.content.decode()
    assert html.count('class="kanban-card"') == 1 and tagged.name in html
    r = client.get("/board/", {"owner": str(other.pk)})
    assert r.content.decode().count('class="kanban-card"') == 0


def test_board_closed_columns_show_recent_deals_only() -> None:
    sales = factories.user("sales")
    d = crm_factories.deal(sales)
    reason = LossReason.objects.first()
    assert reason is not None
    services.deal_move_stage(
        actor=sales, deal=d, stage=stage("输单"), loss_reason_id=reason.pk, loss_note="x"
    )
    pipeline = Pipeline.objects.get(name="新客户")
    lost = selectors.kanban(actor=sales, pipeline=pipeline).columns[-1]
    assert lost.count == 1
    from datetime import timedelta

    from django.utils import timezone

    Deal.objects.filter(pk=d.pk).update(stage_changed_at=timezone.now() - timedelta(days=60))
    assert selectors.kanban(actor=sales, pipeline=pipeline).columns[-1].count == 0


def test_deal_pages(client: Any) -> None:
    sales = factories.user("sales")
    client.force_login(sales)
    account = crm_factories.account(sales)
    contact = crm_factories.contact(sales, account_id=account.pk)
    r = client.get(f"/deals/new/?account={account.pk}")
    assert r.status_code == 200 and account.name in r.content.decode()
    r = client.post(
        "/deals/new/",
        {"name": "", "account_id": account.pk, "currency": "CNY", "amount": "abc"},
    )
    assert r.status_code == 200
    assert not Deal.objects.exists()
    r = client.post(
        "/deals/new/",
        {
            "name": "数据中台",
            "account_id": account.pk,
            "currency": "CNY",
            "amount": "88000",
            "contact_id": contact.pk,
            "contact_role": "decision_maker",
        },
    )
    deal = Deal.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/deals/{deal.pk}/"
    assert deal.deal_contacts.get().role == "decision_maker"
    detail = client.get(f"/deals/{deal.pk}/").content.decode()
    assert "数据中台" in detail and contact.name in detail
    r = client.post(
        f"/deals/{deal.pk}/edit/",
        {
            "name": "数据中台二期",
            "account_id": account.pk,
            "currency": "CNY",
            "amount": "90000",
            "contact_id": contact.pk,
            "contact_role": "decision_maker",
        },
    )
    assert r.status_code == 302
    deal.refresh_from_db()
    assert deal.name == "数据中台二期" and deal.amount == Decimal("90000.00")
    # Moving from the detail page: a missing close date is reported, nothing changes.
    r = client.post(f"/deals/{deal.pk}/move/", {"stage": stage("方案/报价").pk}, follow=True)
    deal.refresh_from_db()
    assert deal.stage.name == "初步接触"
    assert "方案/报价" in r.content.decode()
    listing = client.get("/deals/", {"status": "open"}).content.decode()
    assert "数据中台二期" in listing


def test_account_page_shows_deals_repeat_purchases_and_deal_timeline(client: Any) -> None:
    sales = factories.user("sales")
    client.force_login(sales)
    account = crm_factories.account(sales)
    for amount in ("1000", "2500"):
        d = crm_factories.deal(
            sales, account_id=account.pk, amount=amount, expected_close_date="2026-01-01"
        )
        services.deal_move_stage(actor=sales, deal=d, stage=stage("赢单"))
    account.refresh_from_db()
    assert account.lifecycle_stage == Account.Lifecycle.CUSTOMER
    html = client.get(f"/accounts/{account.pk}/").content.decode()
    assert 'id="deals"' in html
    assert "3,500.00" in html
    r = client.get(
        "/timeline/",
        {"entity": "account", "id": account.pk, "kind": "deal"},
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 200, r.content
    body = r.content.decode()
    assert "赢单" in body and f"/deals/{d.pk}/" in body


def test_settings_page_admin_only(client: Any) -> None:
    sales = factories.user("sales")
    client.force_login(sales)
    assert client.get("/settings/sales/").status_code == 403
    admin = factories.admin()
    client.force_login(admin)
    assert client.get("/settings/sales/").status_code == 200
    r = client.post("/settings/sales/", {"op": "reason_add", "name_zh": "关系", "name_en": ""})
    assert r.status_code == 302
    assert LossReason.objects.filter(name_zh="关系").exists()
    first = stage("初步接触")
    crm_factories.deal(sales)
    r = client.post("/settings/sales/", {"op": "stage_delete", "stage": first.pk}, follow=True)
    assert Stage.objects.filter(pk=first.pk).exists()
    r = client.post(
        "/settings/sales/",
        {"op": "stage_delete", "stage": first.pk, "move_to": stage("需求确认").pk},
    )
    assert r.status_code == 302 and not Stage.objects.filter(pk=first.pk).exists()


def test_convert_dialog_can_create_a_deal(client: Any) -> None:
    sales = factories.user("sales")
    client.force_login(sales)
    lead = crm_factories.lead(sales, company="星河贸易")
    page = client.get(f"/leads/{lead.pk}/convert/").content.decode()
    assert 'name="create_deal"' in page
    r = client.post(
        f"/leads/{lead.pk}/convert/",
        {"account_id": "", "create_deal": "on", "deal_amount": "abc"},
    )
    assert r.status_code == 422
    assert not Deal.objects.exists()
    r = client.post(
        f"/leads/{lead.pk}/convert/",
        {"account_id": "", "create_deal": "on", "deal_amount": "6000"},
    )
    assert r.status_code == 302
    deal = Deal.objects.get()
    assert deal.lead_id == lead.pk and deal.name == "星河贸易"
    assert deal.amount == Decimal("6000.00")
