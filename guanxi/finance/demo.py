"""Demo data: contracts on the demo customers with payment plans, partial receipts,
overdue installments, invoices, one contract waiting for approval and one ending soon.

Runs as step 300 of ``guanxi demo``; deterministic, dated relative to today, idempotent.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.utils import timezone

from guanxi.core.demo import DemoContext, register_demo_step
from guanxi.customers.demo import DEMO_MARKER
from guanxi.customers.listing import json_list_has
from guanxi.customers.models import Account
from guanxi.finance import payments, services
from guanxi.finance.models import Contract

TITLES = [
    "CRM 系统年度订阅",
    "实施与培训服务",
    "设备采购合同",
    "技术支持服务协议",
    "定制开发项目",
    "数据迁移服务",
]
METHODS = ["bank_transfer", "bank_transfer", "alipay", "wechat_pay", "cheque"]


def _split(amount: Decimal, parts: int) -> list[Decimal]:
    """Equal installments in whole yuan; the last takes the remainder."""
    share = (amount / parts).quantize(Decimal("1"))
    out = [share] * (parts - 1)
    out.append(amount - share * (parts - 1))
    return out


def load_contracts(ctx: DemoContext) -> None:
    accounts = list(
        Account.objects.filter(json_list_has("tags", DEMO_MARKER), owner__isnull=False)
        .select_related("owner")
        .order_by("pk")
    )
    if not accounts:
        ctx.log("合同 / contracts: skipped (no demo accounts)")
        return
    if Contract.objects.filter(account__in=accounts).exists():
        ctx.log("合同 / contracts: already loaded")
        return
    rng = random.Random(20260101)
    today = timezone.localdate()
    made = received = 0
    for i, account in enumerate(accounts[:18]):
        owner = account.owner
        assert owner is not None
        amount = Decimal(rng.choice([24000, 36000, 48000, 60000, 88000, 96000]))
        start = today - dt.timedelta(days=rng.randint(60, 300))
        # Contract 3 ends in three weeks (renewal task), contract 7 needs approval.
        end = today + dt.timedelta(days=21) if i == 3 else start + dt.timedelta(days=365)
        if i == 7:
            amount = Decimal("380000")
        contract = services.contract_create(
            actor=owner,
            data={
                "title": f"{account.name[:20]} {rng.choice(TITLES)}",
                "account_id": account.pk,
                "amount": amount,
                "signed_on": start - dt.timedelta(days=3),
                "starts_on": start,
                "ends_on": end,
                "notes": "",
            },
        )
        made += 1
        parts = rng.choice([2, 3, 3, 4])
        step = max((end - start).days // parts, 20)
        services.plan_set(
            actor=owner,
            contract=contract,
            installments=[
                {"due_on": start + dt.timedelta(days=step * n + 15), "amount": part}
                for n, part in enumerate(_split(amount, parts))
            ],
        )
        if i == 11:
            continue  # a draft still being negotiated
        services.contract_activate(actor=owner, contract=contract)
        contract.refresh_from_db()
        if contract.status != Contract.Status.ACTIVE:
            continue  # waiting for the department head
        for inst in contract.installments.order_by("position"):
            if inst.due_on > today:
                break
            roll = rng.random()
            if roll < 0.25:
                continue  # overdue, nothing paid
            pay = (
                inst.amount if roll > 0.6 else (inst.amount * Decimal("0.4")).quantize(Decimal("1"))
            )
            payments.receipt_create(
                actor=owner,
                contract=contract,
                data={
                    "installment_id": inst.pk,
                    "received_on": min(inst.due_on + dt.timedelta(days=rng.randint(0, 20)), today),
                    "amount": pay,
                    "method": rng.choice(METHODS),
                    "reference": f"HX{today:%y}{i:02d}{inst.position:02d}{rng.randint(1000, 9999)}",
                },
            )
            received += 1
        if i % 3 == 0:
            payments.invoice_create(
                actor=owner,
                contract=contract,
                data={
                    "amount": contract.amount / 2,
                    "issued_on": start + dt.timedelta(days=10),
                    "kind": "special" if i % 2 == 0 else "normal",
                    "status": "issued",
                },
            )
    ctx.log(f"合同 / contracts: {made}, 回款 / receipts: {received}")


register_demo_step(300, load_contracts)
