"""Compiled assignment / scoring rules kept in process memory, validated by a version token
in Django's cache.

Every lead create needs the rules. Keeping the compiled objects themselves in the cache
would unpickle them on every read (the local-memory cache pickles too); instead the
cache holds a short version token and each process keeps the rules it compiled for that
token. Saving a rule deletes the token, so every process reloads on its next read: at
once with a shared cache (Redis), within ``ttl`` seconds with per-process caches.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Generic, TypeVar

from django.core.cache import cache
from django.db import transaction

T = TypeVar("T")


class RuleCache(Generic[T]):
    def __init__(self, key: str, load: Callable[[], T], ttl: int = 30) -> None:
        self.key = key
        self.load = load
        self.ttl = ttl
        self._local: tuple[str, T] | None = None
        self._lock = threading.Lock()

    def get(self) -> T:
        """The rules: one small cache read, a database load only after a change."""
        version = cache.get(self.key)
        local = self._local
        if version is not None and local is not None and local[0] == version:
            return local[1]
        with self._lock:
            value = self.load()
            if version is None:
                version = uuid.uuid4().hex
                # add(): when two processes race, both keep the same token.
                if not cache.add(self.key, version, self.ttl):
                    version = cache.get(self.key) or version
            self._local = (version, value)
        return value

    def forget(self) -> None:
        """Invalidate now and again when the current transaction commits (so a reader
        between the two cannot cache what is about to change)."""
        cache.delete(self.key)
        self._local = None
        transaction.on_commit(lambda: cache.delete(self.key))
