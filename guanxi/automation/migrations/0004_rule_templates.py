"""Ship the example rules as templates: disabled, without an author. An admin turns one on
by saving it (the saving admin becomes its author; its actions run with their rights)."""

from typing import Any

from django.db import migrations

TEMPLATES: list[dict[str, Any]] = [
    {
        "template_key": "new_lead_first_contact",
        "name": "新线索：24 小时内首次联系",
        "description": "New lead → task “首次联系” for the owner, due in 24 hours.",
        "entity": "lead",
        "trigger": "event",
        "event": "lead.created",
        "conditions": {"match": "all", "items": [{"field": "owner", "op": "not_empty", "value": ""}]},
        "actions": [
            {
                "type": "create_task",
                "title": "首次联系：{name}",
                "description": "",
                "due_hours": 24,
                "priority": "normal",
                "assignee": "owner",
            }
        ],
    },
    {
        "template_key": "deal_proposal_prepare",
        "name": "商机进入方案/报价：准备方案",
        "description": "Deal enters 方案/报价 → task “准备方案” for the owner.",
        "entity": "deal",
        "trigger": "event",
        "event": "deal.stage_changed",
        "conditions": {
            "match": "all",
            "items": [{"field": "stage_name", "op": "changed_to", "value": "方案/报价"}],
        },
        "actions": [
            {
                "type": "create_task",
                "title": "准备方案：{name}",
                "description": "",
                "due_hours": 48,
                "priority": "high",
                "assignee": "owner",
            }
        ],
    },
    {
        "template_key": "account_care_10_days",
        "name": "客户 10 天未跟进：关怀任务",
        "description": "Customer with no follow-up for 10 days → care task for the owner.",
        "entity": "account",
        "trigger": "inactivity",
        "inactivity_days": 10,
        "conditions": {
            "match": "all",
            "items": [
                {"field": "lifecycle_stage", "op": "eq", "value": "customer"},
                {"field": "owner", "op": "not_empty", "value": ""},
            ],
        },
        "actions": [
            {
                "type": "create_task",
                "title": "客户关怀：{name}",
                "description": "已 10 天没有跟进，请联系客户。",
                "due_hours": 24,
                "priority": "normal",
                "assignee": "owner",
            }
        ],
    },
]


def add_templates(apps: Any, schema_editor: Any) -> None:
    Rule = apps.get_model("automation", "Rule")
    for template in TEMPLATES:
        if not Rule.objects.filter(template_key=template["template_key"]).exists():
            Rule.objects.create(enabled=False, **template)


def remove_templates(apps: Any, schema_editor: Any) -> None:
    Rule = apps.get_model("automation", "Rule")
    Rule.objects.filter(template_key__in=[t["template_key"] for t in TEMPLATES]).delete()


class Migration(migrations.Migration):
    dependencies = [("automation", "0003_rules")]

    operations = [migrations.RunPython(add_templates, remove_templates)]
