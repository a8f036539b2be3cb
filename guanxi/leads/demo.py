"""Demo data: ~300 leads from every source, over the sales team and the public pool.

Runs as step 200 of ``guanxi demo`` (see guanxi.core.demo); deterministic and idempotent.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.utils import timezone

from guanxi.core.demo import DemoContext, register_demo_step
from guanxi.customers.demo import (
    CITIES,
    DEMO_MARKER,
    INDUSTRIES,
    SALES_TEAM,
    TITLES,
    company_name,
    demo_mobile,
    person_name,
)
from guanxi.customers.listing import json_list_has
from guanxi.leads import assignment, scoring, services
from guanxi.leads.models import AssignmentRule, Lead, LeadSource, ScoringRule

STATUSES = ["new"] * 5 + ["contacted"] * 4 + ["qualified"] * 2 + ["unqualified"]
CAMPAIGNS = ["2024 春季展会", "百度搜索推广", "抖音直播间", "老客户转介绍计划", ""]
NOTES = ["对 SaaS 版本感兴趣，要求报价", "下周到访展厅", "预算在审批中", "需要发英文资料", ""]


def load_leads(ctx: DemoContext) -> None:
    """300 leads: owners across the team, 30 in the public pool, a few converted later."""
    if Lead.objects.filter(json_list_has("tags", DEMO_MARKER)).exists():
        ctx.log("线索 / leads: already loaded")
        return
    team = [ctx.users[u] for u in SALES_TEAM if u in ctx.users]
    admin = ctx.users.get("admin")
    if not team or admin is None:
        ctx.log("线索 / leads: skipped (no demo users)")
        return
    sources = list(LeadSource.objects.filter(active=True).values_list("code", flat=True))
    rng = random.Random(20240602)
    now = timezone.now()
    pool = 0
    scored = scoring.rules().active
    for i in range(300):
        in_pool = i % 10 == 9
        owner = None if in_pool else team[i % len(team)]
        province, city, area = rng.choice(CITIES)
        created = now - dt.timedelta(days=rng.choice([0, 0, 1, 2, 3, 5, 8, 13, 30, 60, 120]))
        status = rng.choice(STATUSES)
        data = {
            "name": person_name(rng),
            "company": company_name(rng, city),
            "title": rng.choice(TITLES),
            "mobile": demo_mobile(i + 1, "186"),
            "phone": f"{area}-{rng.randint(5000_0000, 6999_9999)}"
            if i % 4 == 0 and len(area) == 3
            else "",
            "email": f"lead{i + 1}@mail{i % 7}.example.cn" if i % 3 else "",
            "wechat": f"wx_lead_{i + 1}" if i % 2 else "",
            "source": rng.choice(sources) if sources else None,
            "campaign": rng.choice(CAMPAIGNS),
            "province": province,
            "city": city,
            "industry": rng.choice(INDUSTRIES),
            "status": status,
            **({} if scored else {"score": rng.randint(0, 100)}),
            "next_followup_at": now
            + dt.timedelta(days=rng.randint(-3, 10), hours=rng.randint(0, 8))
            if status in ("new", "contacted")
            else None,
            "last_contacted_at": created + dt.timedelta(days=1) if status != "new" else None,
            "notes": rng.choice(NOTES),
            "tags": [DEMO_MARKER, *rng.sample(["高意向", "预算充足", "决策人", "需回访"], 1)],
            "owner_id": owner.pk if owner else None,
            "assigned_reason": "" if in_pool else "演示数据：按销售轮流分配",
        }
        lead = services.lead_create(actor=owner or admin, data=data, allow_duplicate=True)
        Lead.objects.filter(pk=lead.pk).update(created_at=created, updated_at=created)
        pool += in_pool
    ctx.log(f"线索 / leads: 300 ({pool} in the public pool)")


register_demo_step(200, load_leads)

ASSIGNMENT_RULES: list[dict[str, Any]] = [
    {
        "name": "华东展会",
        "position": 10,
        "conditions": {
            "source": ["trade_show"],
            "province": ["上海市", "浙江省", "江苏省"],
        },
        "method": "round_robin",
        "users": ["zhangwei", "liuyang", "emma"],
    },
    {
        "name": "华南线索",
        "position": 20,
        "conditions": {"province": ["广东省", "福建省"]},
        "method": "least_loaded",
        "users": ["lina", "chenjing"],
    },
    {
        "name": "转介绍给经理",
        "position": 30,
        "conditions": {"source": ["referral"]},
        "method": "user",
        "users": ["manager"],
    },
]
SCORING_RULES: list[dict[str, Any]] = [
    {"name": "展会来源", "kind": "source", "value": ["trade_show"], "points": 15},
    {"name": "转介绍", "kind": "source", "value": ["referral"], "points": 25},
    {"name": "留了邮箱", "kind": "field", "field": "email", "operator": "filled", "points": 5},
    {"name": "决策人", "kind": "field", "field": "tags", "operator": "equals",
     "value": "决策人", "points": 20},
    {"name": "高意向", "kind": "field", "field": "tags", "operator": "equals",
     "value": "高意向", "points": 20},
    {"name": "重点行业", "kind": "field", "field": "industry", "operator": "in",
     "value": ["制造业", "软件与信息服务"], "points": 10},
    {"name": "跟进两次以上", "kind": "followups", "number": 2, "points": 10},
    {"name": "一周内联系过", "kind": "recency", "number": 7, "points": 10},
    {"name": "无效线索", "kind": "field", "field": "status", "operator": "equals",
     "value": "unqualified", "points": -30},
]  # fmt: skip


def load_rules(ctx: DemoContext) -> None:
    """A few assignment and scoring rules (by name: existing ones are left alone), then
    every lead's score from them."""
    admin = ctx.users.get("admin")
    if admin is None:
        ctx.log("线索规则 / lead rules: skipped (no demo users)")
        return
    made = 0
    for spec in ASSIGNMENT_RULES:
        users = [ctx.users[u].pk for u in spec["users"] if u in ctx.users]
        if not users or AssignmentRule.objects.filter(name=spec["name"]).exists():
            continue
        data = {k: v for k, v in spec.items() if k != "users"}
        assignment.rule_create(actor=admin, data={**data, "user_ids": users})
        made += 1
    for position, rule in enumerate(SCORING_RULES, start=1):
        if ScoringRule.objects.filter(name=rule["name"]).exists():
            continue
        scoring.rule_create(actor=admin, data={**rule, "position": position * 10})
        made += 1
    changed = scoring.leads_rescore()
    ctx.log(f"线索规则 / lead rules: {made} new, {changed} lead scores recomputed")


register_demo_step(210, load_rules)


RELEASE_REASONS = ["客户暂无采购计划", "联系人已离职", "预算冻结，明年再跟", "多次联系未接通"]


def load_pool(ctx: DemoContext) -> None:
    """Department pools for the two sales regions, a few accounts released into them and
    into the company pool, and reclaim rules for leads and accounts (A tier kept longer)."""
    from guanxi.customers.models import Account
    from guanxi.leads import pool
    from guanxi.leads.models import Pool, PoolRule

    admin = ctx.users.get("admin")
    if admin is None or Pool.objects.exists() or PoolRule.objects.exists():
        ctx.log("公海 / pool: already set up or no demo users")
        return
    for name in ("华东区", "华南区"):
        if name in ctx.departments:
            pool.pool_create(actor=admin, department=ctx.departments[name])
    released = 0
    for i, account in enumerate(
        Account.objects.filter(json_list_has("tags", DEMO_MARKER), owner__isnull=False)
        .select_related("owner")
        .order_by("pk")[:12]
    ):
        assert account.owner is not None
        pool.account_release(
            actor=account.owner,
            account=account,
            reason=RELEASE_REASONS[i % len(RELEASE_REASONS)],
        )
        released += 1
    rules = [
        PoolRule(name="线索 60 天未跟进", entity="lead", no_followup_days=60, warn_days_before=7),
        PoolRule(
            name="A 类客户 180 天未跟进",
            entity="account",
            tiers=["A"],
            no_followup_days=180,
            warn_days_before=14,
        ),
        PoolRule(
            name="B/C 类客户 90 天未跟进",
            entity="account",
            tiers=["B", "C"],
            no_followup_days=90,
            warn_days_before=7,
        ),
    ]
    for rule in rules:
        pool.rule_save(actor=admin, rule=rule)
    ctx.log(f"公海 / pool: 2 department pools, {released} accounts released, 3 reclaim rules")


register_demo_step(210, load_pool)
