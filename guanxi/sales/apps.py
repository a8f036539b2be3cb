from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "guanxi.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self) -> None:
        from guanxi.sales import forecast_demo, targets  # noqa: F401  (entity, events, demo)
        from guanxi.sales.forecast_views import home_panel
        from guanxi.web.navigation import NavItem
        from guanxi.web.navigation import register as register_nav
        from guanxi.web.panels import HomePanel
        from guanxi.web.panels import register as register_panel

        register_nav(NavItem("forecast:forecast", _("Forecast"), entity="deal", order=55))
        register_nav(NavItem("forecast:attainment", _("Attainment"), entity="target", order=56))
        register_nav(NavItem("forecast:targets", _("Sales targets"), entity="target", order=57))
        register_panel(
            HomePanel("sales.attainment", "sales/_home_panel.html", home_panel, order=20)
        )
