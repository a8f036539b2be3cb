"""Fixtures: an organisation and a follow-up target.

Leads, accounts and contacts plug in from their own apps; these tests use the existing
``user`` permission entity as the target so that scope is real: a salesperson sees the
users of their own department only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from guanxi.activities import targets
from guanxi.identity.models import User
from guanxi.tests_support import factories, org


@dataclass
class Recorder:
    calls: list[tuple[int, dt.datetime]] = field(default_factory=list)

    def __call__(self, obj: Any, at: dt.datetime) -> None:
        self.calls.append((obj.pk, at))


@pytest.fixture
def contacted() -> Iterator[Recorder]:
    recorder = Recorder()
    previous = targets._targets.get("user")
    targets.register_target(
        "user",
        on_contacted=recorder,
        label=lambda u: u.label,
        url=lambda u: f"/users/{u.pk}/",
    )
    yield recorder
    if previous is None:
        targets.unregister_target("user")
    else:
        targets._targets["user"] = previous


@pytest.fixture
def o(db: Any) -> org.Org:
    return org.build()


@pytest.fixture
def sales(o: org.Org) -> User:
    """The actor as a salesperson in 销售部 (sees users of 销售部 only)."""
    return o.give(o.actor, factories.role("sales"))


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
