"""Domain events: services emit named events; subscribers run after the transaction commits.

The automation and webhook engines subscribe here. Names are registered once so the API
docs can list them.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

logger = logging.getLogger("guanxi.events")


@dataclass(frozen=True)
class Event:
    name: str
    payload: dict[str, Any]
    actor_id: int | None = None
    occurred_at: dt.datetime = field(default_factory=timezone.now)
    # How many automation rules stand between a person and this event (0: a person did
    # it); the rules engine stops chains that grow too long.
    depth: int = 0


_depth: ContextVar[int] = ContextVar("guanxi_event_depth", default=0)


@contextmanager
def caused_by_automation(depth: int) -> Iterator[None]:
    """Events emitted inside carry ``depth`` (set by the rules engine around its actions)."""
    token = _depth.set(depth)
    try:
        yield
    finally:
        _depth.reset(token)


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
    event = Event(name, payload, actor_id, depth=_depth.get())
    transaction.on_commit(lambda: _dispatch(event))


# --- The standard payload -------------------------------------------------------------
#
# Services emit a small payload ({"id", "changes", …}); subscribers that hand events to the
# outside (rules, webhooks) ask for the standard envelope, built after commit from the
# record loaders the apps register: the record as the API shows it (unmasked: automation
# runs as the system), the changes as {field: [old, new]}, and the actor.

RecordLoader = Callable[[int], dict[str, Any] | None]
_records: dict[str, RecordLoader] = {}


def register_record(entity: str, loader: RecordLoader) -> None:
    """``loader(id)`` returns the API JSON of one ``entity`` record (None when gone)."""
    _records[entity] = loader


def entity_of(name: str) -> str:
    """``lead.created`` → ``lead``."""
    return name.split(".", 1)[0]


def jsonable(value: Any) -> Any:
    """``value`` with dates, decimals and UUIDs turned into JSON strings."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def normalise_changes(raw: Any) -> dict[str, list[Any]]:
    """``{field: [old, new]}``; a bare list of field names gives ``[None, None]`` pairs."""
    if isinstance(raw, dict):
        out: dict[str, list[Any]] = {}
        for key, pair in raw.items():
            if isinstance(pair, list | tuple) and len(pair) == 2:
                out[str(key)] = [pair[0], pair[1]]
            else:
                out[str(key)] = [None, pair]
        return jsonable(out)  # type: ignore[no-any-return,unused-ignore]
    if isinstance(raw, list | tuple):
        return {str(key): [None, None] for key in raw}
    return {}


def envelope(event: Event) -> dict[str, Any]:
    """The standard payload of ``event``: ``{"event", "description", "entity", "id",
    "record", "changes", "actor", "occurred_at", "data"}``."""
    from guanxi.identity.models import User

    entity = entity_of(event.name)
    record_id = event.payload.get("id")
    record = None
    loader = _records.get(entity)
    if loader is not None and isinstance(record_id, int):
        record = loader(record_id)
    actor = None
    if event.actor_id is not None:
        user = User.objects.filter(pk=event.actor_id).only("id", "username").first()
        if user is not None:
            actor = {"id": user.pk, "username": user.username}
    data = {k: v for k, v in event.payload.items() if k != "changes"}
    return jsonable(
        {
            "event": event.name,
            "description": EVENT_NAMES.get(event.name, ""),
            "entity": entity,
            "id": record_id,
            "record": record,
            "changes": normalise_changes(event.payload.get("changes")),
            "actor": actor,
            "occurred_at": event.occurred_at,
            "data": data,
        }
    )


def catalogue() -> list[dict[str, str]]:
    """Every defined event: ``[{"name", "description"}]`` sorted by name."""
    return [{"name": n, "description": d} for n, d in sorted(EVENT_NAMES.items())]


define("user.created", "A user was created")
define("user.updated", "A user was changed (roles, department, active)")
