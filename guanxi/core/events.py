"""Domain events: services emit named events; subscribers run after the transaction commits.

The automation and webhook engines subscribe here. Names are registered once so the API
docs can list them.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction

logger = logging.getLogger("guanxi.events")


@dataclass(frozen=True)
class Event:
    name: str
    payload: dict[str, Any]
    actor_id: int | None = None


Handler = Callable[[Event], None]

EVENT_NAMES: dict[str, str] = {}
_subscribers: dict[str, list[Handler]] = defaultdict(list)


def define(name: str, description: str) -> str:
    EVENT_NAMES[name] = description
    return name


def subscribe(name: str, handler: Handler) -> None:
    """Subscribe to one event name, or ``*`` for all of them."""
    if handler not in _subscribers[name]:
        _subscribers[name].append(handler)


def unsubscribe(name: str, handler: Handler) -> None:
    if handler in _subscribers[name]:
        _subscribers[name].remove(handler)


def _dispatch(event: Event) -> None:
    for handler in [*_subscribers.get(event.name, []), *_subscribers.get("*", [])]:
        try:
            handler(event)
        except Exception:  # a failing subscriber must not break the others or the request
            logger.exception("event handler %r failed for %s", handler, event.name)


def emit(name: str, payload: dict[str, Any], *, actor_id: int | None = None) -> None:
    """Emit ``name`` once the current transaction commits (at once outside a transaction)."""
    if name not in EVENT_NAMES:
        raise ValueError(f"Undefined event {name!r}; call events.define() first")
    event = Event(name, payload, actor_id)
    transaction.on_commit(lambda: _dispatch(event))


define("user.created", "A user was created")
define("user.updated", "A user was changed (roles, department, active)")
