from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "guanxi.reports"
    label = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from guanxi.reports import entities  # noqa: F401
        from guanxi.reports.analytics import demo, scores  # noqa: F401  (event, demo step)
        from guanxi.web.navigation import NavItem, register

        register(NavItem("reports:index", _("Reports"), entity="deal", order=80))
        register(NavItem("analytics:rfm", _("Customer analytics"), entity="account", order=81))
        register(NavItem("analytics:builder", _("Report builder"), entity="deal", order=82))
