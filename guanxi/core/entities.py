"""Permission entities owned by the core app."""

from django.utils.translation import gettext_lazy as _

from guanxi.core.models import Note
from guanxi.core.permissions import Entity, register

NOTE = register(Entity(key="note", model=Note, label=_("Notes")))
