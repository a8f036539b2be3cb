"""Quotes: numbering, prices, totals, approval (approve, reject, re-submit, approver out
of scope), sending, versions, scope, API, pages and the PDF."""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from guanxi.activities.models import Activity, Notification
from guanxi.automation.models import ApprovalRequest
from guanxi.core.errors import Conflict, OutOfScope, ValidationFailed
from guanxi.core.models import AuditEvent
from guanxi.identity.models import User
from guanxi.sales.catalog import services as catalog_services
from guanxi.sales.catalog.models import Product
from guanxi.sales.quotes import pdf, selectors, services
from guanxi.sales.quotes.models import Quote
from guanxi.tests_support import crm_factories, factories

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def org() -> dict[str, Any]:
    """销售部 (head: boss) → 华东区 (head: east_head) with reps; 华南区 with its own rep."""
    sales = factories.department("销售部")
    east = factories.department("华东区", sales)
    south = factories.department("华南区", sales)
    boss = factories.user("manager", department=sales, username="boss", language="en")
    east_head = factories.user("manager", department=east, username="easthead", language="en")
    rep = factories.user("sales", department=east, username="rep", language="en")
    peer = factories.user("sales", department=east, username="peer", language="en")
    south_rep = factories.user("sales", department=south, username="southrep", language="en")
    for dept, head in ((sales, boss), (east, east_head)):
        dept.head = head
        dept.save(update_fields=["head"])
    admin = factories.admin(username="root", language="en")
    return {
        "admin": admin,
        "boss": boss,
        "east_head": east_head,
        "rep": rep,
        "peer": peer,
        "south_rep": south_rep,
        "east": east,
    }


def _product(admin: User, sku: str = "GX-001", price: str = "1000.00", **extra: Any) -> Product:
    return catalog_services.product_create(
        actor=admin,
        data={
            "sku": sku,
            "name": "关系 CRM 标准版",
            "name_en": "Guanxi CRM Standard",
            "unit": "套",
            "list_price": price,
            "tax_rate": "13",
            **extra,
        },
    )


def _quote(owner: User, lines: list[dict[str, Any]], **data: Any) -> Quote:
    account = data.pop("account", None) or crm_factories.account(owner)
    return services.quote_create(
        actor=owner, data={"account_id": account.pk, "lines": lines, **data}
    )


def test_create_numbers_prices_and_totals(org: dict[str, Any]) -> None:
    product = _product(org["admin"])
    year = timezone.localdate().year
    quote = _quote(
        org["rep"],
        [
            {"product_id": product.pk, "quantity": "3", "discount": "10"},
            {
                "description": "实施服务 Implementation",
                "quantity": "2.5",
                "unit_price": "333.33",
                "tax_rate": "6",
            },
        ],
        title="首次报价",
    )
    assert quote.number == f"Q-{year}-0001"
    second = _quote(org["rep"], [])
    assert second.number == f"Q-{year}-0002"
    lines = selectors.quote_lines(quote)
    assert (lines[0].description, lines[0].unit, lines[0].unit_price, lines[0].tax_rate) == (
        "关系 CRM 标准版",
        "套",
        D("1000.00"),
        D("13.00"),
    )
    # 3000 − 300 = 2700 net, 351 tax; 2.5 × 333.33 = 833.325 → 833.33, 6 % = 49.9998 → 50.00
    assert (quote.subtotal, quote.discount_total, quote.tax_total, quote.total) == (
        D("3833.33"),
        D("300.00"),
        D("401.00"),
        D("3934.33"),
    )
    assert quote.max_discount == D("10.00")
    assert quote.valid_until is not None and quote.status == "draft"
    assert AuditEvent.objects.filter(
        entity="quote", object_id=str(quote.pk), action="create"
    ).exists()


def test_tier_price_list_sets_the_default_price(org: dict[str, Any]) -> None:
    admin = org["admin"]
    product = _product(admin)
    price_list = catalog_services.price_list_save(
        actor=admin, price_list=None, data={"name": "A 类客户价", "tier": "A"}
    )
    catalog_services.price_list_set_price(
        actor=admin, price_list=price_list, product=product, price="850.00"
    )
    tier_a = crm_factories.account(org["rep"], tier="A")
    plain = crm_factories.account(org["rep"])
    qa = _quote(org["rep"], [{"product_id": product.pk}], account=tier_a)
    qp = _quote(org["rep"], [{"product_id": product.pk}], account=plain)
    assert selectors.quote_lines(qa)[0].unit_price == D("850.00")
    assert selectors.quote_lines(qp)[0].unit_price == D("1000.00")
    with pytest.raises(ValidationFailed) as info:
        catalog_services.price_list_save(
            actor=admin, price_list=None, data={"name": "x", "tier": "A"}
        )
    assert info.value.errors[0].field == "tier"


def test_bad_lines_name_their_fields(org: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed) as info:
        _quote(
            org["rep"],
            [
                {"description": "ok", "quantity": "1", "unit_price": "1.005"},
                {"description": "", "quantity": "0", "unit_price": "-1", "discount": "120"},
            ],
        )
    fields = {e.field for e in info.value.errors}
    assert fields == {
        "lines.0.unit_price",
        "lines.1.description",
        "lines.1.quantity",
        "lines.1.unit_price",
        "lines.1.discount",
    }
    assert not Quote.objects.exists()


def test_failed_create_does_not_burn_a_number(org: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed):
        _quote(org["rep"], [{"description": "x", "quantity": "-1", "unit_price": "1"}])
    assert _quote(org["rep"], []).number.endswith("-0001")


def test_big_discount_needs_the_managers_approval(org: dict[str, Any]) -> None:
    rep, manager = org["rep"], org["east_head"]
    quote = _quote(
        rep, [{"description": "License", "quantity": "1", "unit_price": "100", "discount": "25"}]
    )
    assert services.approval_reasons(quote)
    with pytest.raises(Conflict, match="needs the approval"):
        services.quote_mark_sent(actor=rep, quote=quote)
    services.quote_submit(actor=rep, quote=quote, reason="Strategic customer")
    quote.refresh_from_db()
    assert quote.status == "pending_approval"
    note = Notification.objects.get(recipient=manager)
    assert quote.number in note.title
    with pytest.raises(Conflict, match="waiting for approval"):
        services.quote_line_add(
            actor=rep, quote=quote, data={"description": "x", "unit_price": "1"}
        )
    services.quote_decide(actor=manager, quote=quote, decision="approve", comment="OK this once")
    quote.refresh_from_db()
    assert quote.status == "approved" and quote.approved_at is not None
    assert Notification.objects.filter(recipient=rep, verb="approval_approved").exists()
    services.quote_mark_sent(actor=rep, quote=quote)
    assert Quote.objects.get(pk=quote.pk).status == "sent"
    statuses = [
        e.changes.get("status")
        for e in AuditEvent.objects.filter(entity="quote", object_id=str(quote.pk))
    ]
    assert ["pending_approval", "approved"] in statuses and ["approved", "sent"] in statuses


def test_reject_edit_and_resubmit(org: dict[str, Any]) -> None:
    rep, manager = org["rep"], org["east_head"]
    quote = _quote(
        rep, [{"description": "License", "quantity": "1", "unit_price": "100", "discount": "30"}]
    )
    services.quote_submit(actor=rep, quote=quote)
    with pytest.raises(ValidationFailed):
        services.quote_decide(actor=manager, quote=quote, decision="reject")
    services.quote_decide(actor=manager, quote=quote, decision="reject", comment="Max 25 %")
    quote.refresh_from_db()
    assert quote.status == "rejected"
    told = Notification.objects.get(recipient=rep, verb="approval_rejected")
    assert told.body == "Max 25 %"
    line = selectors.quote_lines(quote)[0]
    services.quote_line_update(actor=rep, quote=quote, line_id=line.pk, data={"discount": "25"})
    quote.refresh_from_db()
    assert quote.status == "draft"
    services.quote_submit(actor=rep, quote=quote)
    requests = ApprovalRequest.objects.filter(entity="quote", object_id=quote.pk).order_by("pk")
    assert [r.status for r in requests] == ["rejected", "pending"]
    services.quote_withdraw(actor=rep, quote=quote)
    assert Quote.objects.get(pk=quote.pk).status == "draft"


def test_small_quote_needs_no_approval_but_a_large_total_does(org: dict[str, Any]) -> None:
    rep, admin = org["rep"], org["admin"]
    small = _quote(
        rep, [{"description": "x", "quantity": "1", "unit_price": "100", "discount": "20"}]
    )
    assert services.approval_reasons(small) == []
    services.quote_submit(actor=rep, quote=small)
    assert Quote.objects.get(pk=small.pk).status == "approved"
    services.settings_save(
        actor=admin, data={"amount_threshold": "50000", "discount_threshold": "15"}
    )
    big = _quote(
        rep, [{"description": "x", "quantity": "1", "unit_price": "50000", "tax_rate": "13"}]
    )
    assert len(services.approval_reasons(big)) == 1  # total 56,500 > 50,000
    assert len(services.approval_reasons(Quote.objects.get(pk=small.pk))) == 1  # 20 % > 15 %
    with pytest.raises(ValidationFailed) as info:
        services.settings_save(actor=admin, data={"discount_threshold": "101"})
    assert info.value.errors[0].field == "discount_threshold"


def test_approver_out_of_scope_decides_through_the_approval(
    org: dict[str, Any], client: Client, api_client: Any
) -> None:
    """The east department's head holds only the sales role (own records): the rep's quote is
    outside their scope, yet they see its summary on the approval page and decide."""
    head = org["east_head"]
    head.roles.set([factories.role("sales")])
    head = User.objects.get(pk=head.pk)
    quote = _quote(
        org["rep"],
        [{"description": "定制开发", "quantity": "2", "unit_price": "4999.50", "discount": "40"}],
    )
    services.quote_submit(actor=org["rep"], quote=quote)
    with pytest.raises(OutOfScope):
        selectors.quote_get_for_user(actor=head, pk=quote.pk)
    req = ApprovalRequest.objects.get(entity="quote", object_id=quote.pk)
    client.force_login(head)
    assert client.get(reverse("quotes:detail", args=[quote.pk])).status_code == 404
    page = client.get(reverse("automation:approval_detail", args=[req.pk])).content.decode()
    assert "定制开发" in page and "¥5,999.40" in page  # 9,999.00 − 40 % = 5,999.40 net
    assert reverse("quotes:detail", args=[quote.pk]) not in page
    api = api_client.login(head)
    assert api.get(f"quotes/{quote.pk}").status_code == 404
    resp = api.post(f"quotes/{quote.pk}/approve", {"comment": "fine"})
    assert resp.status_code == 200 and resp.json()["status"] == "approved"
    # A colleague who is neither in scope nor the approver gets 404 and changes nothing.
    other = api_client.login(org["south_rep"])
    assert other.post(f"quotes/{quote.pk}/reject", {"comment": "no"}).status_code == 404


def test_revising_a_sent_quote_makes_v2_and_keeps_v1(org: dict[str, Any]) -> None:
    rep = org["rep"]
    v1 = _quote(rep, [{"description": "x", "quantity": "1", "unit_price": "100"}])
    services.quote_mark_sent(actor=rep, quote=v1)
    with pytest.raises(Conflict):
        services.quote_line_add(actor=rep, quote=v1, data={"description": "y", "unit_price": "1"})
    v2 = services.quote_revise(actor=rep, quote=v1)
    assert (v2.number, v2.version, v2.original_id, v2.status) == (v1.number, 2, v1.pk, "draft")
    services.quote_line_add(actor=rep, quote=v2, data={"description": "y", "unit_price": "50"})
    v1.refresh_from_db()
    assert (v1.status, v1.total, v1.is_current) == ("sent", D("100.00"), False)
    assert Quote.objects.get(pk=v2.pk).total == D("150.00")
    assert [q.version for q in selectors.quote_versions(actor=rep, quote=v2)] == [2, 1]
    assert [q.pk for q in selectors.quote_list(actor=rep).items] == [v2.pk]
    with pytest.raises(Conflict):
        services.quote_revise(actor=rep, quote=v1)
    assert str(v2) == f"{v1.number} v2"


def test_scope_list_detail_api(org: dict[str, Any], client: Client, api_client: Any) -> None:
    mine = _quote(org["rep"], [{"description": "x", "unit_price": "1"}])
    theirs = _quote(org["peer"], [{"description": "y", "unit_price": "2"}])
    rep = org["rep"]
    assert [q.pk for q in selectors.quote_list(actor=rep).items] == [mine.pk]
    with pytest.raises(OutOfScope):
        selectors.quote_get_for_user(actor=rep, pk=theirs.pk)
    client.force_login(rep)
    page = client.get(reverse("quotes:list")).content.decode()
    assert mine.number in page and theirs.number not in page
    assert client.get(reverse("quotes:detail", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("quotes:pdf", args=[theirs.pk])).status_code == 404
    api = api_client.login(rep)
    assert [i["id"] for i in api.get("quotes").json()["items"]] == [mine.pk]
    assert api.get(f"quotes/{theirs.pk}").status_code == 404
    assert api.get(f"quotes/{theirs.pk}/pdf").status_code == 404
    assert api.patch(f"quotes/{theirs.pk}", {"title": "x"}).status_code == 404
    assert (
        api.post(f"quotes/{theirs.pk}/lines", {"description": "z", "unit_price": "1"}).status_code
        == 404
    )
    # The manager of the subtree sees both.
    manager_ids = {q.pk for q in selectors.quote_list(actor=org["boss"]).items}
    assert manager_ids == {mine.pk, theirs.pk}


def test_api_crud_lines_and_approval(org: dict[str, Any], api_client: Any) -> None:
    product = _product(org["admin"])
    account = crm_factories.account(org["rep"])
    api = api_client.login(org["rep"])
    resp = api.post(
        "quotes", {"account_id": account.pk, "currency": "XXX", "lines": [{"quantity": "1"}]}
    )
    assert resp.status_code == 422
    assert {e["field"] for e in resp.json()["errors"]} >= {"currency"}
    resp = api.post(
        "quotes", {"account_id": account.pk, "lines": [{"product_id": product.pk, "quantity": "2"}]}
    )
    assert resp.status_code == 201, resp.content
    body = resp.json()
    qid = body["id"]
    assert body["total"] == "2260.00" and body["lines"][0]["net"] == "2000.00"
    assert body["tax_breakdown"] == [{"rate": "13", "net": "2000.00", "tax": "260.00"}]
    resp = api.post(
        f"quotes/{qid}/lines", {"description": "折扣项", "unit_price": "100", "discount": "50"}
    )
    assert resp.status_code == 201
    line_id = resp.json()["lines"][1]["id"]
    resp = api.patch(f"quotes/{qid}/lines/{line_id}", {"quantity": "0"})
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "quantity"
    assert api.post(f"quotes/{qid}/send").status_code == 409
    resp = api.post(f"quotes/{qid}/submit", {"reason": "大客户"})
    assert resp.status_code == 200 and resp.json()["status"] == "pending_approval"
    manager = api_client.login(org["east_head"])
    assert manager.post(f"quotes/{qid}/reject", {}).status_code == 422
    assert manager.post(f"quotes/{qid}/approve", {"comment": ""}).json()["status"] == "approved"
    api = api_client.login(org["rep"])
    assert api.post(f"quotes/{qid}/send").json()["status"] == "sent"
    resp = api.get(f"quotes/{qid}/pdf")
    assert resp.status_code == 200 and resp["Content-Type"] == "application/pdf"
    assert resp.content.startswith(b"%PDF")
    resp = api.post(f"quotes/{qid}/revise")
    assert resp.status_code == 201 and resp.json()["version"] == 2
    v2 = resp.json()["id"]
    assert api.delete(f"quotes/{v2}").status_code == 403  # salespeople may not delete
    manager = api_client.login(org["east_head"])
    assert manager.delete(f"quotes/{qid}").status_code == 409  # sent: kept for the record
    assert manager.delete(f"quotes/{v2}").status_code == 204
    assert Quote.objects.get(pk=qid).is_current


def test_deal_lines_feed_a_quote(org: dict[str, Any], api_client: Any) -> None:
    product = _product(org["admin"])
    deal = crm_factories.deal(org["rep"])
    api = api_client.login(org["rep"])
    resp = api.post(
        f"deals/{deal.pk}/lines", {"product_id": product.pk, "quantity": "4", "discount": "5"}
    )
    assert resp.status_code == 201 and len(resp.json()) == 1
    assert api_client.login(org["peer"]).get(f"deals/{deal.pk}/lines").status_code == 404
    quote = services.quote_create(
        actor=org["rep"],
        data={"account_id": deal.account_id, "deal_id": deal.pk, "copy_deal_lines": True},
    )
    line = selectors.quote_lines(quote)[0]
    assert (line.product_id, line.quantity, line.discount) == (product.pk, D(4), D(5))
    other_account = crm_factories.account(org["rep"])
    with pytest.raises(ValidationFailed) as info:
        services.quote_create(
            actor=org["rep"], data={"account_id": other_account.pk, "deal_id": deal.pk}
        )
    assert info.value.errors[0].field == "deal_id"


# --- PDF --------------------------------------------------------------------------------


_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}


def _unescape(literal: str) -> bytes:
    """A PDF literal string's bytes (backslash escapes and octal codes resolved)."""

    def one(m: re.Match[str]) -> str:
        token = m.group(1)
        if token[0].isdigit():
            return chr(int(token, 8))
        return _ESCAPES.get(token, token)

    return re.sub(r"\\([0-7]{1,3}|.)", one, literal, flags=re.S).encode("latin-1")


def _pdf_text(data: bytes) -> str:
    """The text of an uncompressed fpdf2 PDF, decoded through its ToUnicode CMaps."""
    raw = data.decode("latin-1")
    cmap: dict[int, str] = {}
    for block in re.findall(r"beginbfchar(.*?)endbfchar", raw, re.S):
        for src, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            cmap[int(src, 16)] = bytes.fromhex(dst).decode("utf-16-be")
    for block in re.findall(r"beginbfrange(.*?)endbfrange", raw, re.S):
        for lo, hi, dst in re.findall(
            r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block
        ):
            start = int(dst, 16)
            for i, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                cmap[code] = chr(start + i)
    out = []
    for chunk in re.findall(r"\((.*?)(?<!\\)\)\s*Tj|<([0-9A-Fa-f]+)>\s*Tj", raw, re.S):
        literal, hexed = chunk
        codes = bytes.fromhex(hexed) if hexed else _unescape(literal)
        out.append(
            "".join(
                cmap.get(int.from_bytes(codes[i : i + 2], "big"), "")
                for i in range(0, len(codes), 2)
            )
        )
    return "\n".join(out)


def test_pdf_prints_chinese_english_and_the_screen_totals(
    org: dict[str, Any], client: Client
) -> None:
    from guanxi.core.company import company_profile_save

    company_profile_save(
        actor=org["admin"],
        data={
            "name": "上海关系科技有限公司",
            "name_en": "Shanghai Guanxi Tech Ltd.",
            "address": "上海市浦东新区世纪大道 100 号",
        },
    )
    quote = _quote(
        org["rep"],
        [
            {
                "description": "关系 CRM 专业版 Professional",
                "quantity": "3",
                "unit_price": "33.33",
                "discount": "10",
                "tax_rate": "13",
            },
            {
                "description": "培训 Training",
                "quantity": "1",
                "unit_price": "0.05",
                "tax_rate": "6",
            },
        ],
    )
    doc = pdf.document(quote)
    assert dict(doc.totals) == {
        "小计 Subtotal": "¥100.04",
        "折扣 Discount": "-¥10.00",
        "不含税金额 Net": "¥90.04",
        "税额 Tax": "¥11.70",
        "合计 Total": "¥101.74",
    }
    text = _pdf_text(pdf.render(quote, compress=False))
    for expected in (
        "上海关系科技有限公司",
        "报价单 Quotation",
        "关系 CRM 专业版 Professional",
        "¥101.74",
        "89.99",
        quote.number,
    ):
        assert expected in text.replace("\n", ""), expected
    # The screen shows the same figures.
    client.force_login(org["rep"])
    page = client.get(reverse("quotes:detail", args=[quote.pk])).content.decode()
    for figure in ("¥100.04", "¥10.00", "¥90.04", "¥11.70", "¥101.74"):
        assert figure in page
    resp = client.get(reverse("quotes:pdf", args=[quote.pk]))
    assert resp["Content-Disposition"] == f'attachment; filename="{quote.number}.pdf"'
    assert zlib.crc32(resp.content) != 0 and resp.content.startswith(b"%PDF")


def test_pdf_goes_onto_the_account_timeline(org: dict[str, Any]) -> None:
    quote = _quote(org["rep"], [{"description": "x", "unit_price": "10"}])
    activity = services.quote_attach_pdf(actor=org["rep"], quote=quote)
    assert isinstance(activity, Activity)
    assert (activity.target_entity, activity.target_id) == ("account", quote.account_id)
    attachment = activity.attachments.get()
    assert attachment.name == f"{quote.number}.pdf" and attachment.content_type == "application/pdf"


# --- Pages ------------------------------------------------------------------------------


def test_pages_create_edit_lines_and_decide(org: dict[str, Any], client: Client) -> None:
    product = _product(org["admin"])
    account = crm_factories.account(org["rep"])
    client.force_login(org["rep"])
    resp = client.post(
        reverse("quotes:create"), {"account_id": account.pk, "currency": "CNY", "title": "页面报价"}
    )
    assert resp.status_code == 302
    quote = Quote.objects.get(title="页面报价")
    url = reverse("quotes:detail", args=[quote.pk])
    resp = client.post(
        reverse("quotes:line_add", args=[quote.pk]),
        {"product_id": product.pk, "quantity": "0", "discount": "0"},
    )
    assert resp.status_code == 400 and "The quantity must be above 0." in resp.content.decode()
    resp = client.post(
        reverse("quotes:line_add", args=[quote.pk]),
        {"product_id": product.pk, "quantity": "2", "discount": "30"},
    )
    assert resp.status_code == 302
    line = selectors.quote_lines(quote)[0]
    assert "Needs approval" in client.get(url).content.decode()
    resp = client.post(
        reverse("quotes:line_edit", args=[quote.pk, line.pk]),
        {"edit-product_id": product.pk, "edit-quantity": "3", "edit-discount": "35"},
    )
    assert resp.status_code == 302
    assert Quote.objects.get(pk=quote.pk).subtotal == D("3000.00")
    client.post(reverse("quotes:action", args=[quote.pk, "submit"]), {"reason": "请批准"})
    assert Quote.objects.get(pk=quote.pk).status == "pending_approval"
    client.force_login(org["east_head"])
    page = client.get(url).content.decode()
    assert "Submit decision" in page
    resp = client.post(
        reverse("quotes:decide", args=[quote.pk]), {"decision": "reject", "comment": ""}
    )
    assert resp.status_code == 400
    client.post(reverse("quotes:decide", args=[quote.pk]), {"decision": "approve", "comment": "好"})
    assert Quote.objects.get(pk=quote.pk).status == "approved"
    client.force_login(org["rep"])
    client.post(reverse("quotes:action", args=[quote.pk, "send"]))
    assert Quote.objects.get(pk=quote.pk).status == "sent"


def test_settings_page_for_admins(org: dict[str, Any], client: Client) -> None:
    import io

    from PIL import Image

    client.force_login(org["rep"])
    assert client.get(reverse("quotes:settings")).status_code == 403
    client.force_login(org["admin"])
    resp = client.post(
        reverse("quotes:settings"),
        {
            "form": "settings",
            "discount_threshold": "15",
            "amount_currency": "CNY",
            "default_validity_days": "14",
        },
    )
    assert resp.status_code == 302
    assert services.settings_get().discount_threshold == D(15)
    buf = io.BytesIO()
    Image.new("RGB", (40, 20), (200, 30, 30)).save(buf, "PNG")
    buf.seek(0)
    buf.name = "logo.png"
    resp = client.post(
        reverse("quotes:settings"), {"form": "company", "name": "测试公司", "logo": buf}
    )
    assert resp.status_code == 302
    fake = io.BytesIO(b"not an image")
    fake.name = "logo.png"
    resp = client.post(
        reverse("quotes:settings"), {"form": "company", "name": "测试公司", "logo": fake}
    )
    assert resp.status_code == 400 and "PNG or JPEG" in resp.content.decode()
    quote = _quote(org["rep"], [{"description": "x", "unit_price": "1"}])
    assert pdf.document(quote).logo is not None
    assert pdf.render(quote).startswith(b"%PDF")


def test_expiry_schedule(org: dict[str, Any]) -> None:
    import datetime as dt

    quote = _quote(org["rep"], [{"description": "x", "unit_price": "1"}], valid_until="2026-01-31")
    services.quote_mark_sent(actor=org["rep"], quote=quote)
    assert services.quotes_expire_due(dt.date(2026, 1, 31)) == 0
    assert services.quotes_expire_due(dt.date(2026, 2, 1)) == 1
    assert Quote.objects.get(pk=quote.pk).status == "expired"


def test_deal_products_page_and_quote_from_deal(org: dict[str, Any], client: Client) -> None:
    product = _product(org["admin"])
    deal = crm_factories.deal(org["rep"])
    client.force_login(org["rep"])
    url = reverse("quotes:deal_products", args=[deal.pk])
    resp = client.post(url, {"product_id": product.pk, "quantity": "2", "discount": "0"})
    assert resp.status_code == 302
    assert "¥2,000.00" in client.get(url).content.decode()
    resp = client.post(
        reverse("quotes:create") + f"?deal={deal.pk}",
        {
            "account_id": deal.account_id,
            "deal_id": deal.pk,
            "currency": "CNY",
            "copy_deal_lines": "on",
        },
    )
    assert resp.status_code == 302
    quote = Quote.objects.get(deal=deal)
    assert quote.total == D("2260.00")
    assert quote.number in client.get(url).content.decode()
    client.force_login(org["peer"])
    assert client.get(url).status_code == 404


def test_list_queries_do_not_grow_with_rows(
    org: dict[str, Any], api_client: Any, django_assert_max_num_queries: Any
) -> None:
    for _ in range(3):
        _quote(org["rep"], [{"description": "x", "unit_price": "1"}])
    api = api_client.login(org["boss"])
    with django_assert_max_num_queries(8) as few:
        assert api.get("quotes").json()["count"] == 3
    for _ in range(5):
        _quote(org["peer"], [{"description": "y", "unit_price": "2"}])
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert api.get("quotes").json()["count"] == 8
