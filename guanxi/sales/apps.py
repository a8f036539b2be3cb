from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "guanxi.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self) -> None:
        from django.urls import reverse

        from guanxi.activities import selectors as activity_selectors
        from guanxi.activities import targets
        from guanxi.identity.services import register_owned_counter
        from guanxi.sales import entities
        from guanxi.sales.catalog import entities as catalog_entities  # noqa: F401
        from guanxi.sales.quotes import setup as quote_setup
        from guanxi.sales.timeline import account_deal_stream
        from guanxi.web.navigation import NavItem, register

        register_owned_counter(entities.owned_counts)
        register(NavItem("sales:board", _("Deal board"), entity="deal", order=36))
        register(NavItem("sales:deal_list", _("Deals"), entity="deal", order=35))
        register(NavItem("sales:settings", _("Pipelines"), admin_only=True, order=90))
        targets.register_target(
            "deal",
            label=str,
            url=lambda deal: reverse("sales:deal_detail", args=[deal.pk]),
        )
        activity_selectors.register_related_stream("account", account_deal_stream)
        register(NavItem("catalog:product_list", _("Products"), entity="product", order=55))
        quote_setup.ready()
        self._ready_forecast()

    def _ready_forecast(self) -> None:
        """Sales targets, attainment and forecast: entity, pages, home panel, demo step."""
        from guanxi.sales import forecast_demo, targets  # noqa: F401  (entity, events, demo)
        from guanxi.sales.forecast_views import home_panel
        from guanxi.web.navigation import NavItem
        from guanxi.web.navigation import register as register_nav
        from guanxi.web.panels import HomePanel
        from guanxi.web.panels import register as register_panel

        register_nav(NavItem("forecast:forecast", _("Forecast"), entity="deal", order=60))
        register_nav(NavItem("forecast:attainment", _("Attainment"), entity="target", order=61))
        register_nav(NavItem("forecast:targets", _("Sales targets"), entity="target", order=62))
        register_panel(
            HomePanel("sales.attainment", "sales/_home_panel.html", home_panel, order=20)
        )
