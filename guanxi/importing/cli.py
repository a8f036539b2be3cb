"""Who the ``guanxi import`` / ``guanxi export`` commands act as."""

from __future__ import annotations

from django.core.management.base import CommandError

from guanxi.core import permissions
from guanxi.identity.models import User


def acting_user(username: str, *, fallback: bool = True) -> User:
    """The active user named ``username``; without a name, the first active administrator
    (commands run by the operator, who has the machine, act with full scope)."""
    if username:
        user = User.objects.filter(username__iexact=username.strip(), is_active=True).first()
        if user is None:
            raise CommandError(f"No active user named {username!r}.")
        return user
    if fallback:
        for user in User.objects.filter(is_active=True).order_by("pk"):
            if permissions.is_admin(user):
                return user
    raise CommandError("No active administrator; name one with --user USERNAME.")
