"""Deals on their account's 360° timeline: each deal's recorded changes (created, stage
moves, won / lost …) and the follow-ups logged on the deal, within the viewer's scope."""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django.urls import reverse

from guanxi.activities.models import Activity
from guanxi.activities.selectors import TimelineItem
from guanxi.core import permissions
from guanxi.core.models import AuditEvent

if TYPE_CHECKING:
    from guanxi.identity.models import User


def account_deal_stream(
    *, actor: User, obj: Any, kinds: set[str], need: int
) -> Iterator[TimelineItem]:
    """Newest first: at most ``need`` deal changes and deal follow-ups (three queries)."""
    if not permissions.can(actor, "deal", "view"):
        return iter(())
    wanted_deal = "deal" in kinds
    wanted_followup = "followup" in kinds and permissions.can(actor, "activity", "view")
    if not wanted_deal and not wanted_followup:
        return iter(())
    names = dict(
        permissions.scoped_queryset(actor, "deal")
        .filter(account_id=obj.pk)
        .values_list("pk", "name")
    )
    if not names:
        return iter(())
    streams: list[Iterator[TimelineItem]] = []
    if wanted_deal:
        mask = permissions.masked_fields(actor, "deal")
        events = (
            AuditEvent.objects.filter(entity="deal", object_id__in=[str(pk) for pk in names])
            .exclude(action__in=[AuditEvent.Action.REVEAL, AuditEvent.Action.EXPORT])
            .order_by("-created_at", "-id")[:need]
        )
        streams.append(
            TimelineItem(
                kind="deal",
                sub_kind=e.action,
                at=e.created_at,
                actor=e.actor_label,
                title=f"{names.get(int(e.object_id), e.object_repr)} · {e.get_action_display()}",
                changes=permissions.mask_changes(actor, "deal", e.changes, mask),
                url=reverse("sales:deal_detail", args=[int(e.object_id)]),
                id=e.pk,
            )
            for e in events
        )
    if wanted_followup:
        activities = (
            Activity.objects.filter(target_entity="deal", target_id__in=list(names))
            .select_related("owner")
            .order_by("-occurred_at", "-id")[:need]
        )
        streams.append(
            TimelineItem(
                kind="followup",
                sub_kind=a.kind,
                at=a.occurred_at,
                actor=a.owner.label,
                title=f"{a.get_kind_display()} · {names.get(a.target_id, '')}",
                body=a.content,
                url=reverse("sales:deal_detail", args=[a.target_id]),
                id=a.pk,
            )
            for a in activities
        )
    return heapq.merge(*streams, key=lambda item: item.at, reverse=True)
