"""Seed the lead sources every Chinese sales team starts with."""

from __future__ import annotations

from typing import Any

from django.db import migrations

SOURCES = [
    ("website", "官网", "Website"),
    ("trade_show", "展会", "Trade show"),
    ("advertising", "广告", "Advertising"),
    ("baidu", "百度", "Baidu"),
    ("douyin", "抖音", "Douyin"),
    ("xiaohongshu", "小红书", "Xiaohongshu"),
    ("referral", "转介绍", "Referral"),
    ("phone", "电话", "Phone"),
    ("card_scan", "名片扫描", "Business card scan"),
]


def seed(apps: Any, schema_editor: Any) -> None:
    LeadSource = apps.get_model("leads", "LeadSource")  # noqa: N806
    for position, (code, name_zh, name_en) in enumerate(SOURCES, start=1):
        LeadSource.objects.get_or_create(
            code=code, defaults={"name_zh": name_zh, "name_en": name_en, "position": position}
        )


def unseed(apps: Any, schema_editor: Any) -> None:
    LeadSource = apps.get_model("leads", "LeadSource")  # noqa: N806
    LeadSource.objects.filter(code__in=[s[0] for s in SOURCES]).delete()


class Migration(migrations.Migration):
    dependencies = [("leads", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
