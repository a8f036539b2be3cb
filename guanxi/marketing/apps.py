from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketingConfig(AppConfig):
    name = "guanxi.marketing"
    label = "marketing"
    verbose_name = _("Marketing")

    def ready(self) -> None:
        from guanxi.marketing import services  # noqa: F401  (defines the web form events)
        from guanxi.web.navigation import NavItem, register

        register(
            NavItem(
                "marketing:webforms", _("Web forms"), order=90, admin_only=True, section="admin"
            )
        )
