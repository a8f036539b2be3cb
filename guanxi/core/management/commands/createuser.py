"""``guanxi createuser USERNAME --password P [--role …] [--department NAME]``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from guanxi.core.errors import DomainError, ValidationFailed
from guanxi.core.management import validation_error
from guanxi.identity import services as identity
from guanxi.identity.models import Role

ROLE_CHOICES = ["admin", "manager", "sales", "service", "readonly"]


class Command(BaseCommand):
    help = (
        "Create a user. A department that does not exist yet is created under the root "
        "(the company). Exit code 1 with the reasons when the input is invalid."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--password", required=True, help="the initial password")
        parser.add_argument(
            "--role",
            default="sales",
            help=f"a role code: {', '.join(ROLE_CHOICES)} or a custom role (default: sales)",
        )
        parser.add_argument("--department", default="", help="department name (default: root)")
        parser.add_argument("--email", default="")
        parser.add_argument("--display-name", dest="display_name", default="")
        parser.add_argument("--mobile", default="")
        parser.add_argument(
            "--skip-password-check",
            action="store_true",
            help="accept a password that the password rules would refuse",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        identity.roles_ensure_builtin()
        role = Role.objects.filter(code=options["role"].strip().lower()).first()
        if role is None:
            codes = ", ".join(Role.objects.order_by("code").values_list("code", flat=True))
            raise validation_error(
                ValidationFailed({"role": f"unknown role {options['role']!r} (one of: {codes})"})
            )
        try:
            department = (
                identity.department_get_or_create_by_name(actor=None, name=options["department"])
                if options["department"].strip()
                else None
            )
            user = identity.user_create(
                actor=None,
                username=options["username"],
                password=options["password"],
                display_name=options["display_name"],
                email=options["email"],
                mobile=options["mobile"],
                department=department,
                roles=[role],
                check_password_strength=not options["skip_password_check"],
            )
        except ValidationFailed as exc:
            raise validation_error(exc) from exc
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"Created user {user.username} (id {user.pk}, role {role.code}, "
            f"department {user.department.name if user.department else '-'})"
        )
