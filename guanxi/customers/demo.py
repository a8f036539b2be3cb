"""Demo data: accounts (企业客户) and their contacts, spread over the demo sales team.

Runs as step 100 of ``guanxi demo`` (see guanxi.core.demo); deterministic and idempotent.
"""

from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone

from guanxi.core.demo import DemoContext, register_demo_step
from guanxi.customers import services
from guanxi.customers.listing import json_list_has
from guanxi.customers.models import Account, Contact

SALES_TEAM = ["zhangwei", "liuyang", "emma", "lina", "chenjing", "zhaolei", "huangmin"]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = [
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
    "明", "超", "秀英", "霞", "平", "刚", "桂英", "志强", "建华", "晓东", "海燕", "雪梅",
    "文博", "子轩", "欣怡", "浩然", "雨涵", "思远", "嘉怡", "宇航", "梓涵", "俊杰", "婷婷",
]  # fmt: skip
CITIES = [
    ("上海市", "上海", "021"),
    ("浙江省", "杭州", "0571"),
    ("江苏省", "苏州", "0512"),
    ("江苏省", "南京", "025"),
    ("广东省", "深圳", "0755"),
    ("广东省", "广州", "020"),
    ("北京市", "北京", "010"),
    ("四川省", "成都", "028"),
    ("湖北省", "武汉", "027"),
    ("福建省", "厦门", "0592"),
]
INDUSTRIES = [
    "制造业",
    "软件与信息服务",
    "零售",
    "医疗器械",
    "教育",
    "物流",
    "新能源",
    "餐饮",
    "金融",
    "建筑",
]
WORDS = [
    "华",
    "信",
    "达",
    "通",
    "科",
    "创",
    "恒",
    "盛",
    "智",
    "联",
    "远",
    "鼎",
    "博",
    "泰",
    "安",
    "瑞",
]
SUFFIX = ["科技有限公司", "实业有限公司", "信息技术有限公司", "贸易有限公司", "集团有限公司", "医疗科技有限公司"]  # fmt: skip
TITLES = [
    "总经理",
    "采购经理",
    "IT 总监",
    "财务总监",
    "销售总监",
    "行政主管",
    "技术负责人",
    "董事长助理",
]
SPECIAL = [
    "发票须于每月 25 日前寄出，抬头含分公司名称",
    "只接受对公转账，合同需加盖骑缝章",
    "上门拜访请提前两天预约，周五下午不接待",
    "",
    "",
    "",
]

DEMO_MARKER = "演示"


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def company_name(rng: random.Random, city: str) -> str:
    return city + "".join(rng.sample(WORDS, 2)) + rng.choice(SUFFIX)


def demo_mobile(n: int, prefix: str) -> str:
    """A unique, valid-looking mobile for demo record ``n`` (prefix keeps series apart)."""
    return f"{prefix}{(n * 7919) % 100_000_000:08d}"


def _backdate(model: type[Account] | type[Contact], pk: int, when: dt.datetime) -> None:
    model.objects.filter(pk=pk).update(created_at=when, updated_at=when)


def load_customers(ctx: DemoContext) -> None:
    """60 accounts (tiers, lifecycle stages, special requirements) and ~150 contacts."""
    if Account.objects.filter(json_list_has("tags", DEMO_MARKER)).exists():
        ctx.log("客户 / accounts: already loaded")
        return
    team = [ctx.users[u] for u in SALES_TEAM if u in ctx.users]
    if not team:
        ctx.log("客户 / accounts: skipped (no demo users)")
        return
    rng = random.Random(20240601)
    now = timezone.now()
    used: set[str] = set()
    n_contacts = 0
    for i in range(60):
        owner = team[i % len(team)]
        province, city, area = rng.choice(CITIES)
        name = company_name(rng, city)
        while name in used:
            name = company_name(rng, city)
        used.add(name)
        account = services.account_create(
            actor=owner,
            data={
                "name": name,
                "industry": rng.choice(INDUSTRIES),
                "size": rng.choice(["1-49", "50-199", "200-999", "1000+"]),
                "province": province,
                "city": city,
                "address": f"{city}市{rng.choice(['高新区', '经开区', '浦东新区', '天河区', '滨江区'])}{rng.randint(1, 999)}号",
                "website": f"https://www.demo{i + 1}.example.cn",
                "tier": rng.choice(["A", "B", "B", "C", "C", "C"]),
                "lifecycle_stage": rng.choice(
                    ["prospect", "prospect", "customer", "customer", "vip", "dormant", "churned"]
                ),
                "special_requirements": rng.choice(SPECIAL),
                "tags": [DEMO_MARKER, *rng.sample(["重点", "华东", "老客户", "渠道", "转介绍"], 1)],
                "collaborator_ids": [team[(i + 1) % len(team)].pk] if i % 5 == 0 else [],
            },
        )
        _backdate(Account, account.pk, now - dt.timedelta(days=rng.randint(20, 400)))
        for j in range(rng.randint(1, 4)):
            n_contacts += 1
            contact = services.contact_create(
                actor=owner,
                data={
                    "name": person_name(rng),
                    "account_id": account.pk,
                    "title": rng.choice(TITLES),
                    "mobile": demo_mobile(n_contacts, "159"),
                    "phone": f"{area}-{rng.randint(5000_0000, 6999_9999)} 转 {rng.randint(100, 899)}"
                    if j == 0 and len(area) == 3
                    else "",
                    "email": f"contact{n_contacts}@demo{i + 1}.example.cn",
                    "wechat": f"wx_demo_{n_contacts}",
                    "is_primary": j == 0,
                    "preferred_channel": rng.choice(["phone", "wechat", "email"]),
                    "consent_marketing": rng.random() < 0.6,
                    "consent_source": rng.choice(["展会登记", "官网表单", "电话确认"]),
                    "tags": [DEMO_MARKER],
                },
                allow_duplicate=True,
            )
            _backdate(Contact, contact.pk, now - dt.timedelta(days=rng.randint(1, 300)))
    ctx.log(f"客户 / accounts: 60, 联系人 / contacts: {n_contacts}")


register_demo_step(100, load_customers)
