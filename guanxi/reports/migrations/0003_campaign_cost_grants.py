"""Give the built-in manager and read-only roles of existing installations their campaign
cost grants (new installations get them from guanxi.identity.roles)."""

from __future__ import annotations

from typing import Any

from django.db import migrations

GRANTS = {
    "manager": (["view", "create", "edit", "delete"], "all"),
    "readonly": (["view"], "all"),
}


def grant(apps: Any, schema_editor: Any) -> None:
    Role = apps.get_model("identity", "Role")  # noqa: N806
    RoleGrant = apps.get_model("identity", "RoleGrant")  # noqa: N806
    for code, (actions, scope) in GRANTS.items():
        role = Role.objects.filter(code=code, builtin=True).first()
        if role is None or RoleGrant.objects.filter(role=role, entity="campaign_cost").exists():
            continue
        RoleGrant.objects.create(role=role, entity="campaign_cost", actions=actions, scope=scope)


def ungrant(apps: Any, schema_editor: Any) -> None:
    RoleGrant = apps.get_model("identity", "RoleGrant")  # noqa: N806
    RoleGrant.objects.filter(entity="campaign_cost").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0002_customer_scores_saved_reports"),
        ("identity", "0001_initial"),
    ]

    operations = [migrations.RunPython(grant, ungrant)]
