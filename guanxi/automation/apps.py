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
