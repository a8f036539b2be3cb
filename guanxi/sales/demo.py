"""Demo data: ~80 deals on the demo accounts, across both pipelines and every stage, some
won and some lost with a reason. Runs as step 400 of ``guanxi demo``; deterministic and
idempotent (deals carry the 演示 tag)."""

from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone

from guanxi.core.demo import DemoContext, register_demo_step
from guanxi.customers.demo import DEMO_MARKER
from guanxi.customers.listing import json_list_has
from guanxi.customers.models import Account
from guanxi.sales import services
from guanxi.sales.models import Deal, DealStageChange, LossReason, Pipeline

PRODUCTS = ["ERP 实施", "CRM 订阅", "数据中台", "智能客服", "年度维保", "私有化部署", "培训服务"]
COMPETITORS = ["金蝶", "用友", "纷享销客", "销售易", "Salesforce"]
NEXT_STEPS = ["约技术交流", "发送报价单", "安排现场演示", "等待预算审批", "催合同盖章", ""]
LOSS_NOTES = {
    "价格": "对方报价低 15%",
    "功能": "缺少移动端离线功能",
    "竞争对手": "客户选择了老供应商",
    "预算": "今年预算被砍",
    "时机": "项目推迟到明年",
    "其他": "客户内部组织调整",
}
DEALS = 80


def load_deals(ctx: DemoContext) -> None:
    """80 deals; about one in five won and one in six lost, the rest spread over the stages."""
    if Deal.objects.filter(json_list_has("tags", DEMO_MARKER)).exists():
        ctx.log("商机 / deals: already loaded")
        return
    accounts = list(
        Account.objects.filter(json_list_has("tags", DEMO_MARKER))
        .exclude(owner=None)
        .select_related("owner")
        .order_by("id")
    )
    if not accounts:
        ctx.log("商机 / deals: skipped (no demo accounts)")
        return
    rng = random.Random(20240701)
    now = timezone.now()
    pipelines = list(Pipeline.objects.filter(active=True).prefetch_related("stages"))
    reasons = list(LossReason.objects.filter(active=True))
    won = lost = 0
    for i in range(DEALS):
        account = accounts[i % len(accounts)]
        owner = account.owner
        assert owner is not None
        pipeline = pipelines[0] if i % 4 else pipelines[-1]
        stages = sorted(pipeline.stages.all(), key=lambda s: (s.position, s.pk))
        open_stages = [s for s in stages if s.kind == "open"]
        created = now - dt.timedelta(days=rng.randint(5, 120), hours=rng.randint(0, 23))
        deal = services.deal_create(
            actor=owner,
            data={
                "name": f"{account.name[:12]} · {rng.choice(PRODUCTS)}",
                "account_id": account.pk,
                "pipeline_id": pipeline.pk,
                "amount": str(rng.randrange(20, 2000) * 1000),
                "currency": "CNY",
                "expected_close_date": (now + dt.timedelta(days=rng.randint(-20, 120))).date(),
                "competitors": rng.sample(COMPETITORS, rng.randint(0, 2)),
                "next_step": rng.choice(NEXT_STEPS),
                "tags": [DEMO_MARKER, rng.choice(["重点", "续约", "新签", "渠道"])],
            },
        )
        roll = rng.random()
        if roll < 0.2:
            target = next(s for s in stages if s.kind == "won")
            services.deal_move_stage(actor=owner, deal=deal, stage=target)
            won += 1
        elif roll < 0.36 and reasons:
            target = next(s for s in stages if s.kind == "lost")
            reason = rng.choice(reasons)
            services.deal_move_stage(
                actor=owner,
                deal=deal,
                stage=target,
                loss_reason_id=reason.pk,
                loss_note=LOSS_NOTES.get(reason.name_zh, "客户未说明原因"),
            )
            lost += 1
        else:
            target = open_stages[rng.randrange(len(open_stages))]
            if target.pk != deal.stage_id:
                services.deal_move_stage(actor=owner, deal=deal, stage=target)
        # Backdate: created weeks ago, the last move somewhere in the deal's life, so
        # times in stage and cycle lengths look real.
        moved = target.pk != stages[0].pk
        moved_at = created + (now - created) * rng.uniform(0.3, 0.95) if moved else created
        Deal.objects.filter(pk=deal.pk).update(
            created_at=created,
            stage_changed_at=moved_at,
            won_at=moved_at if target.kind == "won" else None,
            lost_at=moved_at if target.kind == "lost" else None,
        )
        DealStageChange.objects.filter(deal=deal, from_stage__isnull=True).update(
            changed_at=created
        )
        if moved:
            DealStageChange.objects.filter(deal=deal, from_stage__isnull=False).update(
                changed_at=moved_at, time_in_from_stage=moved_at - created
            )
    ctx.log(f"商机 / deals: {DEALS} (won {won}, lost {lost})")


register_demo_step(400, load_deals)
