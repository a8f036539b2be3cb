"""The default quote approval flow: the quote owner's department head, as before."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def seed(apps: Any, schema_editor: Any) -> None:
    policy_model = apps.get_model("automation", "ApprovalPolicy")
    step_model = apps.get_model("automation", "ApprovalPolicyStep")
    if policy_model.objects.filter(entity="quote").exists():
        return
    policy = policy_model.objects.create(entity="quote", name="报价审批", active=True, position=0)
    step_model.objects.create(policy=policy, position=0, kind="manager", mode="any")


def unseed(apps: Any, schema_editor: Any) -> None:
    apps.get_model("automation", "ApprovalPolicy").objects.filter(
        entity="quote", name="报价审批"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("automation", "0005_configurable_flows_delegation_reminders")]

    operations = [migrations.RunPython(seed, unseed)]
