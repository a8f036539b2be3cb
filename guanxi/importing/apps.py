from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportingConfig(AppConfig):
    name = "guanxi.importing"
    label = "importing"
    verbose_name = _("Import and export")

    def ready(self) -> None:
        from guanxi.web.navigation import NavItem, register

        register(NavItem("importing:batch_list", _("Import"), entity="lead", order=90))
        register(NavItem("importing:quality", _("Data quality"), entity="lead", order=91))
