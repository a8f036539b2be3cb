"""``guanxi token create|list|revoke``: API tokens from the command line.

``token create USERNAME`` prints the raw token on stdout and nothing else, so scripts can
do ``TOKEN=$(guanxi token create alice)``.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from guanxi.core.errors import ValidationFailed
from guanxi.core.management import validation_error
from guanxi.identity import services as identity
from guanxi.identity.models import ApiToken, User


def _user(username: str) -> User:
    user = User.objects.filter(username__iexact=username.strip()).first()
    if user is None:
        raise CommandError(f"No user named {username!r}.")
    return user


class Command(BaseCommand):
    help = "Create, list or revoke API tokens (Authorization: Bearer <token>)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="create|list|revoke")
        create = sub.add_parser("create", help="create a token; prints only the token")
        create.add_argument("username")
        create.add_argument("--name", default="cli", help="what the token is for")
        listing = sub.add_parser("list", help="list a user's tokens")
        listing.add_argument("username")
        revoke = sub.add_parser("revoke", help="revoke a token by its id")
        revoke.add_argument("id", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            user = _user(options["username"])
            if not user.is_active:
                raise CommandError(f"User {user.username!r} is deactivated.")
            try:
                _token, raw = identity.token_create(actor=None, user=user, name=options["name"])
            except ValidationFailed as exc:
                raise validation_error(exc) from exc
            self.stdout.write(raw)
        elif action == "list":
            user = _user(options["username"])
            tokens = ApiToken.objects.filter(user=user).order_by("id")
            self.stdout.write(
                f"{'id':>5}  {'status':8} {'hint':12} {'created':17} {'last used':17} name"
            )
            for t in tokens:
                self.stdout.write(
                    f"{t.pk:>5}  {'active' if t.revoked_at is None else 'revoked':8} "
                    f"{t.hint + '…':12} {_when(t.created_at):17} {_when(t.last_used_at):17} "
                    f"{t.name}"
                )
        else:
            token = ApiToken.objects.select_related("user").filter(pk=options["id"]).first()
            if token is None:
                raise CommandError(f"No token with id {options['id']}.")
            # The command line is trusted; the revocation is recorded as the owner's.
            identity.token_revoke(actor=token.user, token=token)
            self.stdout.write(f"Revoked token {token.pk} ({token.name}) of {token.user.username}")


def _when(value: Any) -> str:
    from django.utils import timezone

    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "-"
