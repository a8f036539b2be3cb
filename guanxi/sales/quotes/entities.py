"""Permission entity of quotes (scoped by owner like every customer record)."""

from django.utils.translation import gettext_lazy as _

from guanxi.core.permissions import Entity, register
from guanxi.sales.quotes.models import Quote

QUOTE = register(Entity(key="quote", model=Quote, label=_("Quotes")))
