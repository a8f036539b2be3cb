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
        from guanxi.web.templatetags.web_tags import EXTRA_ENTITY_LABELS

        # The audit trail's entity filter names the rule records too.
        EXTRA_ENTITY_LABELS.setdefault("assignment_rule", _("Assignment rules"))
        EXTRA_ENTITY_LABELS.setdefault("assignment_settings", _("Assignment fallback"))
        EXTRA_ENTITY_LABELS.setdefault("scoring_rule", _("Scoring rules"))

        register(NavItem("leads:list", _("Leads"), entity="lead", order=20))
        for url_name, label, order in [
            ("leads:assignment_rules", _("Assignment rules"), 50),
            ("leads:scoring_rules", _("Scoring rules"), 51),
        ]:
            register(NavItem(url_name, label, order=order, admin_only=True, section="admin"))

        from django.urls import reverse

        from guanxi.activities import targets
        from guanxi.core import events
        from guanxi.leads.scoring import on_followup_deleted
        from guanxi.leads.services import lead_mark_contacted

        events.subscribe("followup.deleted", on_followup_deleted)

        targets.register_target(
            "lead",
            on_contacted=lambda lead, at: lead_mark_contacted(lead=lead, at=at),
            label=str,
            url=lambda lead: reverse("leads:detail", args=[lead.pk]),
        )
