"""Permission entity: campaign costs (company-wide figures; administrators grant them)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from guanxi.core.permissions import Entity, register
from guanxi.reports.models import CampaignCost

CAMPAIGN_COST = register(
    Entity(
        key="campaign_cost", model=CampaignCost, label=_("Campaign costs"), owner_field="created_by"
    )
)
