"""factory_boy factories; they go through the real services where a service exists."""

from __future__ import annotations

from typing import Any, cast

import factory

from guanxi.identity import services as identity_services
from guanxi.identity.models import Department, Role, User


def department(name: str, parent: Department | None = None) -> Department:
    return identity_services.department_create(
        actor=None, name=name, parent=parent or identity_services.department_root()
    )


def role(code: str) -> Role:
    identity_services.roles_ensure_builtin()
    return Role.objects.get(code=code)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"用户{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    mobile = factory.Sequence(lambda n: f"139{n:08d}")
    department = factory.LazyFunction(identity_services.department_root)

    @factory.post_generation
    def password(self, create: bool, extracted: str | None, **kwargs: Any) -> None:
        obj = cast(User, self)  # post-generation hooks receive the built object
        obj.set_password(extracted or "secret-pass-123")
        if create:
            obj.save(update_fields=["password"])

    @factory.post_generation
    def role_codes(self, create: bool, extracted: list[str] | None, **kwargs: Any) -> None:
        if create and extracted:
            cast(User, self).roles.set([role(code) for code in extracted])


def user(role_code: str = "sales", department: Department | None = None, **kwargs: Any) -> User:
    dept_kw = {"department": department} if department is not None else {}
    return cast(User, UserFactory(role_codes=[role_code], **dept_kw, **kwargs))


def admin(**kwargs: Any) -> User:
    return user("admin", **kwargs)
