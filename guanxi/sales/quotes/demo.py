"""Demo data: the letterhead, products, a tier price list and quotes in every state.

Registered from ``SalesConfig.ready`` as step 450 of ``guanxi demo`` (after the deals);
deterministic and idempotent.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from guanxi.core import company
from guanxi.core.demo import DEMO_COMPANY, DemoContext, register_demo_step
from guanxi.customers.models import Account
from guanxi.sales.catalog import services as catalog_services
from guanxi.sales.catalog.models import PriceList, Product
from guanxi.sales.models import Deal
from guanxi.sales.quotes import services
from guanxi.sales.quotes.models import Quote

PRODUCTS = [
    # sku, name, English name, category, unit, list price, tax rate
    (
        "GX-STD",
        "关系 CRM 标准版（年费/用户）",
        "Guanxi CRM Standard (per user-year)",
        "软件订阅",
        "用户·年",
        "1200.00",
        "6",
    ),
    (
        "GX-PRO",
        "关系 CRM 专业版（年费/用户）",
        "Guanxi CRM Professional (per user-year)",
        "软件订阅",
        "用户·年",
        "2400.00",
        "6",
    ),
    (
        "GX-ENT",
        "关系 CRM 企业版（年费/用户）",
        "Guanxi CRM Enterprise (per user-year)",
        "软件订阅",
        "用户·年",
        "3600.00",
        "6",
    ),
    ("SV-IMP", "实施服务", "Implementation service", "服务", "人天", "2500.00", "6"),
    ("SV-TRN", "现场培训", "On-site training", "服务", "场", "5000.00", "6"),
    ("SV-DEV", "定制开发", "Custom development", "服务", "人天", "3000.00", "6"),
    ("HW-SCN", "名片扫描仪", "Business card scanner", "硬件", "台", "899.00", "13"),
    ("HW-PAD", "销售平板（含保护套）", "Sales tablet with case", "硬件", "台", "3299.00", "13"),
    ("SV-SUP", "7×24 专属支持", "24/7 premium support", "服务", "年", "20000.00", "6"),
    ("GX-API", "开放接口扩展包", "Open API add-on", "软件订阅", "套·年", "8000.00", "6"),
]


def _lines(*items: tuple[str, str, str]) -> list[dict[str, Any]]:
    skus = {p.sku: p.pk for p in Product.objects.filter(sku__in=[i[0] for i in items])}
    return [
        {"product_id": skus[sku], "quantity": qty, "discount": disc} for sku, qty, disc in items
    ]


def load_quotes(ctx: DemoContext) -> None:
    admin = ctx.users.get("admin")
    if admin is None:
        return
    profile = company.company_profile_get()
    if not profile.name:
        company.company_profile_save(
            actor=admin,
            data={
                "name": DEMO_COMPANY,
                "name_en": "Shanghai Guanxi Technology Co., Ltd.",
                "address": "上海市浦东新区世纪大道 100 号 18 楼",
                "address_en": "18F, 100 Century Avenue, Pudong, Shanghai",
                "phone": "021-5888 6666",
                "email": "sales@guanxi.example",
                "website": "https://guanxi.example",
                "tax_id": "91310115MA1K4XXXXB",
                "bank": "招商银行上海分行 1219 0000 0000 0001",
            },
        )
    services.settings_save(
        actor=admin,
        data={
            "default_terms": "1. 报价含增值税专用发票。\n2. 付款方式：合同签订后 7 个工作日内支付 50%，验收后支付 50%。\n"
            "3. Prices exclude VAT; VAT is shown per line.",
            "amount_threshold": "200000",
            "amount_currency": "CNY",
        },
    )
    for sku, name, name_en, category, unit, price, tax in PRODUCTS:
        if not Product.objects.filter(sku=sku).exists():
            catalog_services.product_create(
                actor=admin,
                data={
                    "sku": sku,
                    "name": name,
                    "name_en": name_en,
                    "category": category,
                    "unit": unit,
                    "list_price": price,
                    "tax_rate": tax,
                },
            )
    tier_a = PriceList.objects.filter(tier="A", active=True).first()
    if tier_a is None:
        tier_a = catalog_services.price_list_save(
            actor=admin, price_list=None, data={"name": "A 类客户协议价", "tier": "A"}
        )
        for sku, factor in (
            ("GX-STD", "0.9"),
            ("GX-PRO", "0.9"),
            ("GX-ENT", "0.85"),
            ("SV-IMP", "0.9"),
        ):
            product = Product.objects.get(sku=sku)
            catalog_services.price_list_set_price(
                actor=admin,
                price_list=tier_a,
                product=product,
                price=(product.list_price * Decimal(factor)).quantize(Decimal("0.01")),
            )
    if Quote.objects.exists():
        ctx.log(f"产品 / products: {Product.objects.count()}; 报价 / quotes: already loaded")
        return
    rep = ctx.users["zhangwei"]
    rep2 = ctx.users["lina"]
    manager = ctx.users["zhaolei"]
    accounts = list(Account.objects.filter(owner=rep).order_by("id")[:4])
    accounts2 = list(Account.objects.filter(owner=rep2).order_by("id")[:2])
    if len(accounts) < 4 or len(accounts2) < 2:
        ctx.log("报价 / quotes: skipped (no demo accounts)")
        return
    deal = Deal.objects.filter(owner=rep, status="open").order_by("id").first()
    if deal is not None and not deal.lines.exists():
        for item in _lines(("GX-PRO", "20", "0"), ("SV-IMP", "10", "0")):
            services.deal_line_add(actor=rep, deal=deal, data=item)

    def make(
        owner: Any, account: Account, items: list[dict[str, Any]], title: str, **extra: Any
    ) -> Quote:
        data: dict[str, Any] = {"account_id": account.pk, "lines": items, "title": title}
        if extra.get("deal") is not None:
            data.update(deal_id=extra["deal"].pk)
        return services.quote_create(actor=owner, data=data)

    # Draft with a discount that will need approval.
    make(
        rep, accounts[1], _lines(("GX-STD", "50", "25"), ("SV-TRN", "1", "0")), "标准版 50 用户首年"
    )
    # Waiting for the manager's approval (30 % off).
    pending = make(
        rep,
        deal.account if deal is not None else accounts[0],
        _lines(("GX-PRO", "20", "30"), ("SV-IMP", "10", "10")),
        "专业版升级方案",
        deal=deal,
    )
    services.quote_submit(actor=rep, quote=pending, reason="客户是行业标杆，争取年底签约。")
    # Approved and sent, then accepted.
    accepted = make(
        rep, accounts[2], _lines(("GX-ENT", "30", "22"), ("SV-SUP", "1", "0")), "企业版三年框架"
    )
    services.quote_submit(actor=rep, quote=accepted, reason="三年框架协议")
    services.quote_decide(
        actor=manager, quote=accepted, decision="approve", comment="同意，首年执行。"
    )
    services.quote_mark_sent(actor=rep, quote=accepted)
    services.quote_mark_accepted(actor=rep, quote=accepted)
    # Rejected with a comment.
    rejected = make(rep, accounts[3], _lines(("HW-PAD", "10", "35")), "销售平板批量采购")
    services.quote_submit(actor=rep, quote=rejected)
    services.quote_decide(
        actor=manager,
        quote=rejected,
        decision="reject",
        comment="硬件折扣最多 20%，请调整后再提交。",
    )
    # Sent without needing approval, then revised into version 2.
    sent = make(
        rep2, accounts2[0], _lines(("GX-STD", "10", "5"), ("HW-SCN", "10", "0")), "标准版 10 用户"
    )
    services.quote_mark_sent(actor=rep2, quote=sent)
    services.quote_revise(actor=rep2, quote=sent)
    # An English quote in US dollars.
    services.quote_create(
        actor=rep2,
        data={
            "account_id": accounts2[1].pk,
            "currency": "USD",
            "title": "Guanxi CRM for the Singapore office",
            "lines": [
                {
                    "description": "Guanxi CRM Professional (per user-year)",
                    "quantity": "15",
                    "unit_price": "340.00",
                    "tax_rate": "0",
                },
                {
                    "description": "Remote onboarding",
                    "quantity": "3",
                    "unit_price": "400.00",
                    "tax_rate": "0",
                    "discount": "10",
                },
            ],
        },
    )
    ctx.log(f"产品 / products: {Product.objects.count()}; 报价 / quotes: {Quote.objects.count()}")


register_demo_step(450, load_quotes)
