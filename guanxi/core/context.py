"""The current request's actor and IP, for the audit trail.

Services receive the acting user explicitly; only the client IP (which services have
no business knowing) travels through this context variable, set by middleware and by
the API's auth.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

_client_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("client_ip", default=None)


def client_ip() -> str | None:
    return _client_ip.get()


def set_client_ip(ip: str | None) -> contextvars.Token[str | None]:
    return _client_ip.set(ip)


@contextmanager
def client_ip_set(ip: str | None) -> Iterator[None]:
    token = _client_ip.set(ip)
    try:
        yield
    finally:
        _client_ip.reset(token)


_actor_label: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "actor_label", default=None
)


def actor_label() -> str | None:
    """A label that replaces the acting user's name in audit entries (e.g. "web form «X»")."""
    return _actor_label.get()


@contextmanager
def actor_label_set(label: str | None) -> Iterator[None]:
    token = _actor_label.set(label)
    try:
        yield
    finally:
        _actor_label.reset(token)
