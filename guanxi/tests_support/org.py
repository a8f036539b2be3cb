"""A small organisation for permission tests: root → 销售部 → 华东区, and 客服部.

root:    boss
销售部:   actor (the user under test, holds only the roles a test gives them), peer
华东区:   east
客服部:   service
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from guanxi.core import permissions
from guanxi.identity import services
from guanxi.identity.models import Department, Role, User
from guanxi.tests_support import factories


@dataclass
class Org:
    admin: User
    root: Department
    sales_dept: Department
    east_dept: Department
    service_dept: Department
    boss: User
    actor: User
    peer: User
    east: User
    service: User

    def everyone(self) -> set[int]:
        return {u.pk for u in User.objects.all()}

    def give(self, user: User, *roles: Role) -> User:
        """Set ``user``'s roles and return a fresh instance (no cached grants)."""
        user.roles.set(roles)
        permissions.forget(user)
        return User.objects.select_related("department").get(pk=user.pk)


def build() -> Org:
    admin = factories.admin(username="admin")
    root = services.department_root()
    sales_dept = factories.department("销售部")
    east_dept = factories.department("华东区", sales_dept)
    service_dept = factories.department("客服部")
    actor = cast(User, factories.UserFactory(username="actor", department=sales_dept))
    return Org(
        admin=admin,
        root=root,
        sales_dept=sales_dept,
        east_dept=east_dept,
        service_dept=service_dept,
        boss=factories.user("sales", department=root, username="boss"),
        actor=actor,
        peer=factories.user("sales", department=sales_dept, username="peer"),
        east=factories.user("sales", department=east_dept, username="east"),
        service=factories.user("service", department=service_dept, username="service"),
    )


_counter = {"n": 0}


def role(admin: User, grants: dict[str, dict[str, Any]], code: str | None = None) -> Role:
    """A custom role made through the real service."""
    _counter["n"] += 1
    code = code or f"custom{_counter['n']}"
    return services.role_save(actor=admin, role=None, code=code, name_zh=code, grants=grants)
