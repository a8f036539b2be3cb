from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutomationConfig(AppConfig):
    name = "guanxi.automation"
    label = "automation"
    verbose_name = _("Automation and approvals")

    def ready(self) -> None:
        # services defines the approval events; entities registers the webhook entity.
        from guanxi.activities import services as activity_services
        from guanxi.automation import entities, feeds, notify, services, timeline, webhooks  # noqa: F401
        from guanxi.core import events
        from guanxi.web.navigation import NavItem, register

        events.subscribe("*", webhooks.on_event)
        feeds.subscribe()
        activity_services.set_notifier(notify.centre_notifier)
        timeline.register()
        register(NavItem("automation:approvals", _("Approvals"), order=80))
        register(
            NavItem(
                "automation:flows", _("Approval flows"), order=92, admin_only=True, section="admin"
            )
        )
        register(
            NavItem(
                "automation:rules",
                _("Automation rules"),
                order=52,
                admin_only=True,
                section="admin",
            )
        )
        register(
            NavItem(
                "automation:webhooks", _("Webhooks"), entity="webhook", order=70, section="admin"
            )
        )
        for url_name, label, order in [
            ("automation:channels", _("Robot channels"), 71),
            ("automation:email_templates", _("E-mail templates"), 72),
            ("automation:mail_log", _("Mail log"), 73),
        ]:
            register(NavItem(url_name, label, order=order, admin_only=True, section="admin"))

        from guanxi.automation.rules import deal_review, engine
        from guanxi.automation.rules import entities as rule_entities
        from guanxi.automation.rules import services as _rule_services  # noqa: F401  (events)
        from guanxi.web.templatetags.web_tags import EXTRA_ENTITY_LABELS

        EXTRA_ENTITY_LABELS.setdefault("automation_rule", _("Automation rules"))
        rule_entities.register_event_records()
        deal_review.register()
        events.subscribe("*", engine.on_event)
