"""The registry of approval flows: what each kind of record needs to take part.

An owning app registers one :class:`ApprovalFlow` per entity key in ``AppConfig.ready``.
The approvals engine knows nothing else about quotes, contracts or discounts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from guanxi.automation.models import ApprovalRequest
    from guanxi.identity.models import User


@dataclass(frozen=True)
class ApprovalFlow:
    """How one kind of record is approved.

    - ``load(object_id)``: the record (unscoped: the approval itself grants the approver
      the right to see what :attr:`summary` shows, even outside their data scope).
    - ``approvers(obj)``: the users who decide, in order (one step each).
    - ``on_approved(obj, request, actor)`` / ``on_rejected(obj, request, actor, comment)``:
      run inside the deciding transaction so the record changes with the decision.
    - ``on_cancelled(obj, request, actor)``: optional.
    - ``on_returned(obj, request, actor, comment)``: optional; sent back to the requester
      for changes (default: ``on_rejected``).
    - ``facts(obj)``: optional ``{"amount", "discount", "owner"}`` the configurable flows'
      conditions and "department head" steps read (default: ``obj.owner``, no amounts).
    - ``summary(obj)``: ``[(label, value), …]`` shown on the approval page.
    - ``url(obj)``: the record's own page (opened only by users who may see it).
    """

    entity: str
    label: Any
    load: Callable[[int], Any]
    approvers: Callable[[Any], list[User]]
    on_approved: Callable[[Any, ApprovalRequest, User], None]
    on_rejected: Callable[[Any, ApprovalRequest, User, str], None]
    summary: Callable[[Any], list[tuple[Any, Any]]]
    url: Callable[[Any], str]
    on_cancelled: Callable[[Any, ApprovalRequest, User], None] | None = None
    on_returned: Callable[[Any, ApprovalRequest, User, str], None] | None = None
    facts: Callable[[Any], dict[str, Any]] | None = None


def facts_of(flow: ApprovalFlow, obj: Any) -> dict[str, Any]:
    """The amount, discount and owner of ``obj`` as the flow reports them."""
    if flow.facts is not None:
        return flow.facts(obj)
    return {"owner": getattr(obj, "owner", None)}


_flows: dict[str, ApprovalFlow] = {}


def register(flow: ApprovalFlow) -> ApprovalFlow:
    _flows[flow.entity] = flow
    return flow


def flow(entity: str) -> ApprovalFlow:
    try:
        return _flows[entity]
    except KeyError as exc:
        raise KeyError(f"No approval flow for {entity!r}") from exc


def has_flow(entity: str) -> bool:
    return entity in _flows
