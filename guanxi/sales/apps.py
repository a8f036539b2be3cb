from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "guanxi.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self) -> None:
        from guanxi.sales.catalog import entities as catalog_entities  # noqa: F401
        from guanxi.sales.quotes import setup as quote_setup
        from guanxi.web.navigation import NavItem, register

        quote_setup.ready()
        register(NavItem("catalog:product_list", _("Products"), entity="product", order=55))
