"""Panels of the home page contributed by apps, so new apps need not edit the home view.

An app registers a panel once, in ``AppConfig.ready``::

    from guanxi.web.panels import HomePanel, register
    register(HomePanel("sales.targets", "sales/_home_panel.html", my_context, order=20))

``context(request)`` returns the panel's context (given to the template as ``panel``), or
None to leave the panel out for this user.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest


@dataclass(frozen=True)
class HomePanel:
    key: str
    template: str
    context: Callable[[HttpRequest], dict[str, Any] | None]
    order: int = 100


_panels: dict[str, HomePanel] = {}


def register(panel: HomePanel) -> HomePanel:
    _panels[panel.key] = panel
    return panel


def panels_for(request: HttpRequest) -> list[dict[str, Any]]:
    """The panels to show ``request.user``, in order, each with its context."""
    out: list[dict[str, Any]] = []
    for panel in sorted(_panels.values(), key=lambda p: (p.order, p.key)):
        context = panel.context(request)
        if context is not None:
            out.append({"key": panel.key, "template": panel.template, "context": context})
    return out
