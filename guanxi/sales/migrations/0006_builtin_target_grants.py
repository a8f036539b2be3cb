"""Give the built-in roles of an existing database their grants on sales targets.

New databases get them from ``guanxi.identity.roles`` when the roles are created; this
adds the same grants where a built-in role already exists and has none for targets.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

TARGET_GRANTS = {
    "manager": (["view", "create", "edit", "delete"], "subtree"),
    "sales": (["view"], "own"),
    "readonly": (["view"], "all"),
}


def grant(apps: Any, schema_editor: Any) -> None:
    Role = apps.get_model("identity", "Role")  # noqa: N806
    RoleGrant = apps.get_model("identity", "RoleGrant")  # noqa: N806
    for role in Role.objects.filter(code__in=TARGET_GRANTS, builtin=True):
        actions, scope = TARGET_GRANTS[role.code]
        if not RoleGrant.objects.filter(role=role, entity="target").exists():
            RoleGrant.objects.create(role=role, entity="target", actions=actions, scope=scope)


class Migration(migrations.Migration):
    dependencies = [("identity", "0001_initial"), ("sales", "0005_sales_targets")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
