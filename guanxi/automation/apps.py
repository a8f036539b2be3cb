from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutomationConfig(AppConfig):
    name = "guanxi.automation"
    label = "automation"
    verbose_name = _("Automation and approvals")

    def ready(self) -> None:
        from guanxi.automation import services  # noqa: F401  (defines the approval events)
        from guanxi.web.navigation import NavItem, register

        register(NavItem("automation:approvals", _("Approvals"), order=80))
        register(
            NavItem(
                "automation:flows", _("Approval flows"), order=92, admin_only=True, section="admin"
            )
        )
