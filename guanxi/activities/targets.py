"""The records follow-ups and tasks can be about, registered by the apps that own them.

The leads and customers apps (and later deals, tickets …) call :func:`register_target`
from their ``AppConfig.ready``::

    register_target(
        "lead",
        on_contacted=lambda lead, at: lead_services.lead_mark_contacted(lead, at),
        label=lambda lead: lead.name,
        url=lambda lead: reverse("leads:detail", args=[lead.pk]),
    )

The entity key must be a permission entity (``guanxi.core.permissions``): a target is
always fetched through :func:`guanxi.core.permissions.get_for_user`, so a record outside
the caller's scope is indistinguishable from a missing one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from guanxi.core import permissions
from guanxi.core.errors import FieldError, ValidationFailed

if TYPE_CHECKING:
    from guanxi.identity.models import User

OnContacted = Callable[[Any, dt.datetime], None]
Label = Callable[[Any], str]
Url = Callable[[Any], str]


@dataclass(frozen=True)
class Target:
    entity_key: str
    label: Label
    on_contacted: OnContacted | None = None
    url: Url | None = None

    def label_of(self, obj: Any) -> str:
        return str(self.label(obj))

    def url_of(self, obj: Any) -> str:
        return str(self.url(obj)) if self.url is not None else ""


_targets: dict[str, Target] = {}


def register_target(
    entity_key: str,
    on_contacted: OnContacted | None = None,
    label: Label = str,
    url: Url | None = None,
) -> Target:
    """Let follow-ups and tasks point at records of ``entity_key`` (idempotent)."""
    target = Target(entity_key=entity_key, label=label, on_contacted=on_contacted, url=url)
    _targets[entity_key] = target
    return target


def unregister_target(entity_key: str) -> None:
    _targets.pop(entity_key, None)


def registered() -> list[Target]:
    return list(_targets.values())


def is_registered(entity_key: str) -> bool:
    return entity_key in _targets


def get_target(entity_key: str, field: str = "target_entity") -> Target:
    """The registration for ``entity_key``, or a 422 naming ``field``."""
    try:
        return _targets[entity_key]
    except KeyError:
        raise ValidationFailed(
            [FieldError(field, _("Follow-ups cannot be added to this kind of record."))]
        ) from None


def resolve(
    actor: User, entity_key: str, target_id: Any, action: str = "view"
) -> tuple[Target, Any]:
    """The registration and the record itself, fetched within ``actor``'s scope.

    Raises ValidationFailed for an unknown record type, OutOfScope for a record that does
    not exist or lies outside the scope, NotPermitted when the role cannot ``action`` it.
    """
    target = get_target(entity_key)
    obj = permissions.get_for_user(actor, entity_key, target_id, action)
    return target, obj
