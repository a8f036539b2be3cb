from django.utils.translation import gettext_lazy as _

from guanxi.core.permissions import Entity, register
from guanxi.identity.models import User

# The users list is the first entity behind the permission layer: its "owner" is the
# user itself, so "own" = oneself, "department" = colleagues, and so on.
USER = register(
    Entity(
        key="user",
        model=User,
        label=_("Users"),
        owner_field="id",
        maskable={"email": "email", "mobile": "phone"},
    )
)
