from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FinanceConfig(AppConfig):
    name = "guanxi.finance"
    label = "finance"
    verbose_name = _("Finance")

    def ready(self) -> None:
        from guanxi.finance import entities
        from guanxi.identity.services import register_owned_counter

        register_owned_counter(entities.owned_counts)

        from guanxi.web.navigation import NavItem, register

        register(NavItem("finance:contract_list", _("Contracts"), entity="contract", order=60))
        register(NavItem("finance:receivables", _("Receivables"), entity="payment", order=61))

        from django.urls import reverse

        from guanxi.activities import targets

        targets.register_target(
            "contract",
            label=str,
            url=lambda contract: reverse("finance:contract_detail", args=[contract.pk]),
        )

        from guanxi.finance import approvals, timeline

        timeline.install()
        approvals.install()

        from guanxi.customers.panels import AccountPanel, register_account_panel

        register_account_panel(
            AccountPanel("contracts", "finance/_account_panel.html", timeline.account_panel, 50)
        )
