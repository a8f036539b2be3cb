"""Seed the two pipelines and the loss reasons every Chinese sales team starts with."""

from __future__ import annotations

from typing import Any

from django.db import migrations

LOSS_REASONS = [
    ("价格", "Price"),
    ("功能", "Features"),
    ("竞争对手", "Competitor"),
    ("预算", "Budget"),
    ("时机", "Timing"),
    ("其他", "Other"),
]

PIPELINES = [
    ("新客户", "New business", True),
    ("续费/增购", "Renewal / upsell", False),
]

QUOTE_READY = ["amount", "expected_close_date"]

# name, English name, probability, kind, required fields
STAGES = [
    ("初步接触", "Initial contact", 10, "open", []),
    ("需求确认", "Needs confirmed", 30, "open", []),
    ("方案/报价", "Proposal / quote", 50, "open", QUOTE_READY),
    ("商务谈判", "Negotiation", 70, "open", QUOTE_READY),
    ("赢单", "Won", 100, "won", QUOTE_READY),
    ("输单", "Lost", 0, "lost", []),
]


def seed(apps: Any, schema_editor: Any) -> None:
    LossReason = apps.get_model("sales", "LossReason")  # noqa: N806
    Pipeline = apps.get_model("sales", "Pipeline")  # noqa: N806
    Stage = apps.get_model("sales", "Stage")  # noqa: N806
    for position, (name_zh, name_en) in enumerate(LOSS_REASONS, start=1):
        LossReason.objects.get_or_create(
            name_zh=name_zh, defaults={"name_en": name_en, "position": position}
        )
    for p_pos, (name, name_en, is_default) in enumerate(PIPELINES, start=1):
        pipeline, created = Pipeline.objects.get_or_create(
            name=name, defaults={"name_en": name_en, "position": p_pos, "is_default": is_default}
        )
        if not created:
            continue
        for s_pos, (s_name, s_en, probability, kind, required) in enumerate(STAGES, start=1):
            Stage.objects.create(
                pipeline=pipeline,
                name=s_name,
                name_en=s_en,
                position=s_pos,
                probability=probability,
                kind=kind,
                required_fields=list(required),
            )


def unseed(apps: Any, schema_editor: Any) -> None:
    apps.get_model("sales", "Pipeline").objects.filter(name__in=[p[0] for p in PIPELINES]).delete()
    apps.get_model("sales", "LossReason").objects.filter(
        name_zh__in=[r[0] for r in LOSS_REASONS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
