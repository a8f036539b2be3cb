"""Permission entities of the notification centre."""

from django.utils.translation import gettext_lazy as _

from guanxi.automation.models import Webhook
from guanxi.core.permissions import Entity, register

WEBHOOK = register(
    Entity(key="webhook", model=Webhook, label=_("Webhooks"), owner_field="created_by")
)
