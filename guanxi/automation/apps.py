from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutomationConfig(AppConfig):
    name = "guanxi.automation"
    label = "automation"
    verbose_name = _("Automation and approvals")

    def ready(self) -> None:
        from guanxi.automation import entities, services, webhooks  # noqa: F401  (approval events)
        from guanxi.core import events

        events.subscribe("*", webhooks.on_event)
        from guanxi.web.navigation import NavItem, register

        register(NavItem("automation:approvals", _("Approvals"), order=80))
        register(
            NavItem(
                "automation:rules",
                _("Automation rules"),
                order=52,
                admin_only=True,
                section="admin",
            )
        )

        from guanxi.automation.rules import deal_review, engine
        from guanxi.automation.rules import entities as rule_entities
        from guanxi.automation.rules import services as _rule_services  # noqa: F401  (events)
        from guanxi.web.templatetags.web_tags import EXTRA_ENTITY_LABELS

        EXTRA_ENTITY_LABELS.setdefault("automation_rule", _("Automation rules"))
        rule_entities.register_event_records()
        deal_review.register()
        events.subscribe("*", engine.on_event)
