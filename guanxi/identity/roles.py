"""The built-in roles and their default grants."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_noop

ALL_ACTIONS = ["view", "create", "edit", "delete", "export", "import", "transfer"]
CUSTOMER_ENTITIES = [
    "lead",
    "account",
    "contact",
    "activity",
    "task",
    "deal",
    "quote",
    "contract",
    "payment",
    "ticket",
]

BUILTIN_ROLES: list[dict[str, Any]] = [
    {
        "code": "admin",
        "name_zh": "系统管理员",
        "name_en": "Administrator",
        "description": gettext_noop("Everything, including the organisation and settings."),
        "is_admin": True,
        "grants": {},
    },
    {
        "code": "manager",
        "name_zh": "销售经理",
        "name_en": "Sales manager",
        "description": gettext_noop(
            "Sees and manages the records of their department and its sub-departments."
        ),
        "grants": {
            **{
                e: {"actions": ALL_ACTIONS, "scope": "subtree", "can_reveal": True}
                for e in CUSTOMER_ENTITIES
            },
            "product": {"actions": ALL_ACTIONS, "scope": "all"},
            "campaign_cost": {"actions": ["view", "create", "edit", "delete"], "scope": "all"},
            "user": {"actions": ["view"], "scope": "subtree"},
            # Managers set the sales targets of their department tree (业绩目标).
            "target": {"actions": ["view", "create", "edit", "delete"], "scope": "subtree"},
        },
    },
    {
        "code": "sales",
        "name_zh": "销售",
        "name_en": "Salesperson",
        "description": gettext_noop("Works on their own leads, customers and deals."),
        "grants": {
            **{
                e: {"actions": ["view", "create", "edit", "transfer"], "scope": "own"}
                for e in CUSTOMER_ENTITIES
            },
            "product": {"actions": ["view"], "scope": "all"},
            "user": {"actions": ["view"], "scope": "department", "masked_fields": ["mobile"]},
            "target": {"actions": ["view"], "scope": "own"},
        },
    },
    {
        "code": "service",
        "name_zh": "客服",
        "name_en": "Customer service",
        "description": gettext_noop(
            "Handles tickets; sees customers read-only with phone and e-mail masked."
        ),
        "grants": {
            **{
                e: {
                    "actions": ["view"],
                    "scope": "all",
                    "masked_fields": ["mobile", "phone", "email"],
                    "can_reveal": True,
                }
                for e in ["lead", "account", "contact"]
            },
            "activity": {"actions": ["view", "create", "edit"], "scope": "all"},
            "task": {"actions": ["view", "create", "edit"], "scope": "own"},
            "ticket": {"actions": ["view", "create", "edit"], "scope": "all"},
            "product": {"actions": ["view"], "scope": "all"},
            "user": {"actions": ["view"], "scope": "department", "masked_fields": ["mobile"]},
        },
    },
    {
        "code": "readonly",
        "name_zh": "只读",
        "name_en": "Read-only",
        "description": gettext_noop("Sees everything, changes nothing; contact details masked."),
        "grants": {
            **{
                e: {
                    "actions": ["view"],
                    "scope": "all",
                    "masked_fields": ["mobile", "phone", "email"],
                }
                for e in CUSTOMER_ENTITIES
            },
            "product": {"actions": ["view"], "scope": "all"},
            "campaign_cost": {"actions": ["view"], "scope": "all"},
            "user": {"actions": ["view"], "scope": "all", "masked_fields": ["mobile", "email"]},
            "target": {"actions": ["view"], "scope": "all"},
        },
    },
]
