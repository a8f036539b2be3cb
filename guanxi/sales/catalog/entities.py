"""Permission entity of the catalogue: products (price lists go with them).

Products are shared company data rather than customer data; the scope still applies
(``own`` = products one created) so that a role can be limited to its own entries.
"""

from django.utils.translation import gettext_lazy as _

from guanxi.core.permissions import Entity, register
from guanxi.sales.catalog.models import Product

PRODUCT = register(
    Entity(key="product", model=Product, label=_("Products"), owner_field="created_by")
)
