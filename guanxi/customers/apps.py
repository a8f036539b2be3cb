from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "guanxi.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        # Registers the list columns and bulk actions of this app's lists.
        from guanxi.customers import bulk as _bulk  # noqa: F401
        from guanxi.customers import columns as _columns  # noqa: F401
        from guanxi.customers import entities
        from guanxi.identity.services import register_owned_counter

        register_owned_counter(entities.owned_counts)

        from guanxi.web.navigation import NavItem, register

        register(NavItem("customers:account_list", _("Accounts"), entity="account", order=30))
        register(NavItem("customers:contact_list", _("Contacts"), entity="contact", order=40))

        from collections.abc import Callable
        from typing import Any

        from django.urls import reverse

        from guanxi.activities import targets

        def detail_url(url_name: str) -> Callable[[Any], str]:
            return lambda obj: reverse(url_name, args=[obj.pk])

        from guanxi.customers.services import account_mark_contacted, contact_mark_contacted

        targets.register_target(
            "account",
            on_contacted=lambda account, at: account_mark_contacted(account=account, at=at),
            label=str,
            url=detail_url("customers:account_detail"),
        )
        targets.register_target(
            "contact",
            on_contacted=lambda contact, at: contact_mark_contacted(contact=contact, at=at),
            label=str,
            url=detail_url("customers:contact_detail"),
        )
