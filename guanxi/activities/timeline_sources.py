"""More streams for the 360° timeline, contributed by other apps.

An app whose records belong to another record (contracts and payments to an account …)
registers a source in its ``AppConfig.ready``::

    register_source(TimelineSource(
        kind="finance", label=_("Contracts & payments"), entity_key="account", items=fn
    ))

``items(actor, obj, need)`` returns at most ``need`` :class:`TimelineItem` newest first,
already limited to what ``actor`` may see (scoped through ``guanxi.core.permissions``),
in a bounded number of queries. The timeline merges them with follow-ups, tasks and the
audit trail and offers ``kind`` as one more filter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from guanxi.activities.selectors import TimelineItem
    from guanxi.identity.models import User

Items = Callable[["User", Any, int], Iterable["TimelineItem"]]


@dataclass(frozen=True)
class TimelineSource:
    kind: str
    label: Any
    entity_key: str
    items: Items


_sources: dict[tuple[str, str], TimelineSource] = {}


def register_source(source: TimelineSource) -> TimelineSource:
    """Add (or replace) the source of ``kind`` on timelines of ``entity_key``."""
    _sources[(source.entity_key, source.kind)] = source
    return source


def sources_for(entity_key: str) -> list[TimelineSource]:
    return [s for (key, _kind), s in sorted(_sources.items()) if key == entity_key]


def kinds() -> dict[str, Any]:
    """Every contributed kind with its label."""
    return {s.kind: s.label for s in _sources.values()}
