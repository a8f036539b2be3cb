from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    name = "guanxi.leads"
    label = "leads"
    verbose_name = _("Leads")

    def ready(self) -> None:
        # Registers the list columns and bulk actions of this app's lists.
        from guanxi.identity.services import register_owned_counter
        from guanxi.leads import bulk as _bulk  # noqa: F401
        from guanxi.leads import columns as _columns  # noqa: F401
        from guanxi.leads import entities

        register_owned_counter(entities.owned_counts)

        from guanxi.web.navigation import NavItem, register

        register(NavItem("leads:list", _("Leads"), entity="lead", order=20))

        from django.urls import reverse

        from guanxi.activities import targets
        from guanxi.leads.services import lead_mark_contacted

        targets.register_target(
            "lead",
            on_contacted=lambda lead, at: lead_mark_contacted(lead=lead, at=at),
            label=str,
            url=lambda lead: reverse("leads:detail", args=[lead.pk]),
        )
