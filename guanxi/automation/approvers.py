"""Who approves: the manager of a user is the head of their department, walking up."""

from __future__ import annotations

from typing import TYPE_CHECKING

from guanxi.identity.models import Department

if TYPE_CHECKING:
    from guanxi.identity.models import User


def manager_of(user: User) -> User | None:
    """The head of ``user``'s department; if that is ``user`` (or nobody), the parent's head.

    Inactive heads are passed over. None when nobody above ``user`` heads a department.
    """
    dept_id = user.department_id
    seen: set[int] = set()
    while dept_id is not None and dept_id not in seen:
        seen.add(dept_id)
        dept = Department.objects.select_related("head").filter(pk=dept_id).first()
        if dept is None:
            return None
        head = dept.head
        if head is not None and head.pk != user.pk and head.is_active:
            return head
        dept_id = dept.parent_id
    return None
