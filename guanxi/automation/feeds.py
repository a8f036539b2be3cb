"""What feeds the notification centre from domain events: @mentions in follow-ups and
records assigned or transferred to someone. Each subscriber runs after the commit."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _

from guanxi.activities import targets
from guanxi.automation import notify
from guanxi.core import events
from guanxi.core.errors import DomainError

if TYPE_CHECKING:
    from guanxi.identity.models import User

logger = logging.getLogger("guanxi.notify")

_MENTION = re.compile(r"(?:^|(?<=[\s(（,，:：;；]))@(\S{1,100})")
MAX_MENTIONS = 20


def mentioned_users(text: str) -> list[User]:
    """Users named as ``@username`` or ``@显示名`` in ``text`` (longest name wins, so
    ``@王经理请看`` finds 王经理), active ones only, in order of first mention."""
    from guanxi.identity.models import User

    tokens = _MENTION.findall(text or "")[:MAX_MENTIONS]
    if not tokens:
        return []
    prefixes = {t[:n] for t in tokens for n in range(1, len(t) + 1)}
    candidates = list(
        User.objects.filter(is_active=True).filter(
            Q(username__in=prefixes) | Q(display_name__in=prefixes)
        )
    )
    by_name: dict[str, list[User]] = {}
    for user in candidates:
        by_name.setdefault(user.username, []).append(user)
        if user.display_name:
            by_name.setdefault(user.display_name, []).append(user)
    found: list[User] = []
    for token in tokens:
        for n in range(len(token), 0, -1):
            users = by_name.get(token[:n])
            if users:
                # A display name two people share names nobody in particular.
                exact = [u for u in users if u.username == token[:n]]
                chosen = exact or (users if len(users) == 1 else [])
                for u in chosen:
                    if u not in found:
                        found.append(u)
                break
    return found


def _record_label(user: User, entity: str, object_id: int) -> tuple[str, str] | None:
    """The record's label and URL if ``user`` may see it, else None."""
    try:
        target, obj = targets.resolve(user, entity, object_id)
    except DomainError:
        return None
    return target.label_of(obj), target.url_of(obj)


def on_followup_created(event: events.Event) -> None:
    from guanxi.activities.models import Activity
    from guanxi.identity.models import User

    activity = Activity.objects.filter(pk=int(event.payload.get("id") or 0)).first()
    if activity is None or "@" not in activity.content:
        return
    author = User.objects.filter(pk=event.actor_id).first() if event.actor_id else None
    author_label = author.label if author else ""
    for user in mentioned_users(activity.content):
        if author is not None and user.pk == author.pk:
            continue
        seen = _record_label(user, activity.target_entity, activity.target_id)
        if seen is None:  # outside the colleague's scope: they are not told
            continue
        label, url = seen
        with translation.override(user.language or settings.LANGUAGE_CODE):
            notify.notify_user(
                user=user,
                kind=notify.MENTION,
                title=_("%(user)s mentioned you on %(record)s")
                % {"user": author_label, "record": label},
                body=activity.content[:500],
                url=url,
                record=(activity.target_entity, activity.target_id),
            )


def _notify_owner(entity: str, object_id: Any, owner_id: Any, actor_id: int | None) -> None:
    from guanxi.identity.models import User

    if not owner_id or owner_id == actor_id:
        return
    user = User.objects.filter(pk=owner_id, is_active=True).first()
    if user is None or not targets.is_registered(entity):
        return
    seen = _record_label(user, entity, int(object_id))
    if seen is None:
        return
    label, url = seen
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    with translation.override(user.language or settings.LANGUAGE_CODE):
        if actor is not None:
            title = _("%(user)s assigned %(record)s to you") % {
                "user": actor.label,
                "record": label,
            }
        else:
            title = _("%(record)s was assigned to you") % {"record": label}
        notify.notify_user(
            user=user,
            kind=notify.ASSIGNED,
            title=title,
            url=url,
            record=(entity, int(object_id)),
        )


def on_assigned(event: events.Event) -> None:
    """``lead.assigned`` (routing rules) and ``<entity>.transferred`` (hand-overs)."""
    entity = event.name.split(".", 1)[0]
    payload = event.payload
    owner_id = payload.get("owner_id") if event.name.endswith(".assigned") else payload.get("to")
    _notify_owner(entity, payload.get("id"), owner_id, event.actor_id)


def subscribe() -> None:
    events.subscribe("followup.created", on_followup_created)
    events.subscribe("*", _route)


def _route(event: events.Event) -> None:
    if event.name == "lead.assigned" or event.name.endswith(".transferred"):
        on_assigned(event)


__all__ = ["mentioned_users", "subscribe"]
