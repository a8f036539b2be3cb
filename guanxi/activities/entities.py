"""Permission entities of the activities app."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guanxi.activities.models import Activity, Task
from guanxi.core.permissions import Entity, register
from guanxi.identity.models import User


def _task_creator_sees(user: User) -> Q:
    # Whoever handed a task to a colleague keeps seeing it (and may follow it up).
    return Q(created_by_id=user.pk)


ACTIVITY = register(
    Entity(key="activity", model=Activity, label=_("Follow-ups"), owner_field="owner")
)
TASK = register(
    Entity(
        key="task",
        model=Task,
        label=_("Tasks"),
        owner_field="assignee",
        extra_visibility=_task_creator_sees,
    )
)
