from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutomationConfig(AppConfig):
    name = "guanxi.automation"
    label = "automation"
    verbose_name = _("Automation and approvals")

    def ready(self) -> None:
        # services defines the approval events; entities registers the webhook entity.
        from guanxi.automation import entities, feeds, services, timeline, webhooks  # noqa: F401
        from guanxi.core import events
        from guanxi.web.navigation import NavItem, register

        events.subscribe("*", webhooks.on_event)
        feeds.subscribe()
        timeline.register()
        register(NavItem("automation:approvals", _("Approvals"), order=80))
