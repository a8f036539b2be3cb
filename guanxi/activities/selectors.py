"""Every read of follow-ups, tasks, notifications and the 360° timeline: scoped, paginated,
a fixed number of queries."""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.activities import targets
from guanxi.activities.models import Activity, Attachment, Notification, Task
from guanxi.activities.services import user_tz
from guanxi.core import permissions
from guanxi.core.errors import FieldError, OutOfScope, ValidationFailed
from guanxi.core.models import AuditEvent
from guanxi.core.pagination import Page, clean_page_args, paginate
from guanxi.identity.models import User

UPCOMING_DAYS = 7


def _activities_base() -> QuerySet[Activity]:
    return Activity.objects.select_related("owner").prefetch_related(
        Prefetch("attachments", queryset=Attachment.objects.order_by("id"))
    )


def _tasks_base() -> QuerySet[Task]:
    return Task.objects.select_related("assignee", "created_by")


# --- Follow-ups -------------------------------------------------------------------------


def followup_counts(target_entity: str, target_ids: Iterable[int]) -> dict[int, int]:
    """How many follow-ups each record has: an unscoped aggregate (no content) for
    derived values such as lead scores; one grouped query on the target index."""
    ids = list(target_ids)
    if not ids:
        return {}
    rows = (
        Activity.objects.filter(target_entity=target_entity, target_id__in=ids)
        .order_by()
        .values("target_id")
        .annotate(n=Count("id"))
        .values_list("target_id", "n")
    )
    return {int(pk): int(n) for pk, n in rows}


def activity_list(
    *,
    actor: User,
    target_entity: str = "",
    target_id: Any = None,
    owner: int | None = None,
    kind: str = "",
    page: Any = 1,
    page_size: Any = 50,
) -> Page:
    """Follow-ups the actor may see, newest first.

    With a target, every follow-up on that record is listed once the record itself is in
    the actor's scope (the record's visibility is what counts on its page); otherwise the
    ``activity`` scope applies.
    """
    clean_page_args(page, page_size)
    if target_entity:
        targets.resolve(actor, target_entity, target_id)
        permissions.require(actor, "activity", "view")
        qs = _activities_base().filter(target_entity=target_entity, target_id=target_id)
    else:
        qs = permissions.scoped_queryset(actor, "activity", base=_activities_base())
    if owner is not None:
        qs = qs.filter(owner_id=owner)
    if kind:
        qs = qs.filter(kind=kind)
    return paginate(qs.order_by("-occurred_at", "-id"), page, page_size)


def activity_get(*, actor: User, pk: Any) -> Activity:
    """One follow-up in the actor's activity scope or on a record in their scope."""
    try:
        activity = _activities_base().get(pk=pk)
    except (Activity.DoesNotExist, ValueError, TypeError) as exc:
        raise OutOfScope() from exc
    if permissions.in_scope(actor, "activity", activity):
        return activity
    if targets.is_registered(activity.target_entity) and permissions.can(actor, "activity", "view"):
        targets.resolve(actor, activity.target_entity, activity.target_id)
        return activity
    raise OutOfScope()


def attachment_get(*, actor: User, pk: Any) -> Attachment:
    try:
        att = Attachment.objects.select_related("activity").get(pk=pk)
    except (Attachment.DoesNotExist, ValueError, TypeError) as exc:
        raise OutOfScope() from exc
    activity_get(actor=actor, pk=att.activity_id)
    return att


# --- Tasks ------------------------------------------------------------------------------


def task_list(
    *,
    actor: User,
    assignee: int | None = None,
    done: bool | None = None,
    due_from: dt.datetime | None = None,
    due_to: dt.datetime | None = None,
    target_entity: str = "",
    target_id: Any = None,
    q: str = "",
    page: Any = 1,
    page_size: Any = 50,
) -> Page:
    """Tasks in the actor's scope (assignee's scope, plus tasks they handed out)."""
    clean_page_args(page, page_size)
    qs = permissions.scoped_queryset(actor, "task", base=_tasks_base())
    if assignee is not None:
        qs = qs.filter(assignee_id=assignee)
    if done is not None:
        qs = qs.filter(done_at__isnull=not done)
    if due_from is not None:
        qs = qs.filter(due_at__gte=due_from)
    if due_to is not None:
        qs = qs.filter(due_at__lt=due_to)
    if target_entity:
        qs = qs.filter(target_entity=target_entity, target_id=target_id)
    if q.strip():
        qs = qs.filter(title__icontains=q.strip())
    return paginate(qs.order_by("done_at", "due_at", "id"), page, page_size)


def task_get(*, actor: User, pk: Any) -> Task:
    return permissions.get_for_user(actor, "task", pk, base=_tasks_base())


@dataclass
class MyDay:
    now: dt.datetime
    today_start: dt.datetime
    today_end: dt.datetime
    upcoming_end: dt.datetime
    overdue: list[Task] = field(default_factory=list)
    today: list[Task] = field(default_factory=list)
    upcoming: list[Task] = field(default_factory=list)
    undated: list[Task] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.overdue) + len(self.today) + len(self.upcoming) + len(self.undated)


def day_bounds(user: User, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """Start and end of the user's local calendar day containing ``now`` (DST-safe)."""
    tz = user_tz(user)
    local = now.astimezone(tz)
    start = dt.datetime.combine(local.date(), dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start, end


def my_day(*, actor: User, now: dt.datetime | None = None, limit: int = 500) -> MyDay:
    """The actor's open tasks: overdue (due before now), today (due later today in their
    time zone), upcoming (the next 7 days) and undated. One query."""
    now = now or timezone.now()
    start, end = day_bounds(actor, now)
    upcoming_end = end + dt.timedelta(days=UPCOMING_DAYS)
    result = MyDay(now=now, today_start=start, today_end=end, upcoming_end=upcoming_end)
    rows = (
        Task.objects.select_related("assignee")
        .filter(assignee=actor, done_at__isnull=True)
        .filter(Q(due_at__lt=upcoming_end) | Q(due_at__isnull=True))
        .order_by("due_at", "id")[:limit]
    )
    for task in rows:
        if task.due_at is None:
            result.undated.append(task)
        elif task.due_at < now:
            result.overdue.append(task)
        elif task.due_at < end:
            result.today.append(task)
        else:
            result.upcoming.append(task)
    return result


def tasks_for_calendar(*, user: User, limit: int = 2000) -> list[Task]:
    """Open tasks with a due time for the user's ICS feed."""
    return list(
        Task.objects.filter(assignee=user, done_at__isnull=True, due_at__isnull=False).order_by(
            "due_at", "id"
        )[:limit]
    )


# --- Notifications ----------------------------------------------------------------------


def notification_list(
    *, actor: User, unread_only: bool = False, page: Any = 1, page_size: Any = 50
) -> Page:
    qs = Notification.objects.filter(recipient=actor)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return paginate(qs.order_by("-created_at", "-id"), page, page_size)


def notification_unread_count(*, actor: User) -> int:
    return Notification.objects.filter(recipient=actor, read_at__isnull=True).count()


# --- 360° timeline ----------------------------------------------------------------------

TIMELINE_KINDS = (
    "followup",
    "task",
    "created",
    "change",
    "conversion",
    "ownership",
    "deal",
    "finance",
    "other",
)

_AUDIT_KIND = {
    AuditEvent.Action.CREATE: "created",
    AuditEvent.Action.UPDATE: "change",
    AuditEvent.Action.MERGE: "change",
    AuditEvent.Action.CONVERT: "conversion",
    AuditEvent.Action.TRANSFER: "ownership",
    AuditEvent.Action.CLAIM: "ownership",
    AuditEvent.Action.RELEASE: "ownership",
    AuditEvent.Action.RECLAIM: "ownership",
    AuditEvent.Action.ASSIGN: "ownership",
}
# Not a story about the record: logins, exports, reveals and the like stay in the audit trail.
_AUDIT_HIDDEN = {
    AuditEvent.Action.LOGIN,
    AuditEvent.Action.LOGIN_FAILED,
    AuditEvent.Action.LOGOUT,
    AuditEvent.Action.LOCKED,
    AuditEvent.Action.EXPORT,
    AuditEvent.Action.REVEAL,
    AuditEvent.Action.TOKEN,
}


@dataclass
class TimelineItem:
    kind: str
    at: dt.datetime
    actor: str
    title: str
    body: str = ""
    changes: dict[str, Any] = field(default_factory=dict)
    url: str = ""
    id: int | None = None
    sub_kind: str = ""
    done: bool | None = None
    attachments: list[Attachment] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "at": self.at,
            "actor": self.actor,
            "title": self.title,
            "body": self.body,
            "changes": self.changes,
            "url": self.url,
            "id": self.id,
            "sub_kind": self.sub_kind,
            "done": self.done,
        }


class RelatedStream(Protocol):
    """Items about records related to the timeline's record (e.g. an account's deals),
    newest first, at most ``need`` of them, within ``actor``'s scope."""

    def __call__(
        self, *, actor: User, obj: Any, kinds: set[str], need: int
    ) -> Iterator[TimelineItem]: ...


_related_streams: dict[str, list[RelatedStream]] = {}


def register_related_stream(entity_key: str, stream: RelatedStream) -> None:
    """Let another app add its items to the timeline of ``entity_key`` records (idempotent)."""
    streams = _related_streams.setdefault(entity_key, [])
    if stream not in streams:
        streams.append(stream)


def has_related_streams(entity_key: str) -> bool:
    return bool(_related_streams.get(entity_key))


def _clean_kinds(kinds: Iterable[str] | None) -> set[str]:
    wanted = {k.strip() for k in (kinds or []) if k and k.strip()}
    unknown = wanted - set(TIMELINE_KINDS)
    if unknown:
        raise ValidationFailed(
            [
                FieldError(
                    "kind",
                    _("Unknown kind: %(k)s (use %(all)s)")
                    % {"k": ", ".join(sorted(unknown)), "all": ", ".join(TIMELINE_KINDS)},
                )
            ]
        )
    return wanted or set(TIMELINE_KINDS)


def _activity_items(qs: QuerySet[Activity]) -> Iterator[TimelineItem]:
    for a in qs:
        body = a.content
        if a.outcome:
            body = f"{body}\n{_('Outcome')}: {a.outcome}" if body else a.outcome
        yield TimelineItem(
            kind="followup",
            sub_kind=a.kind,
            at=a.occurred_at,
            actor=a.owner.label,
            title=str(a.get_kind_display()),
            body=body,
            id=a.pk,
            attachments=list(a.attachments.all()),
        )


def _task_items(qs: QuerySet[Task]) -> Iterator[TimelineItem]:
    for t in qs:
        changes: dict[str, Any] = {}
        if t.due_at is not None:
            changes["due_at"] = [None, t.due_at.isoformat()]
        yield TimelineItem(
            kind="task",
            sub_kind=t.priority,
            at=t.created_at,
            actor=t.created_by.label if t.created_by else "",
            title=t.title,
            body=t.description,
            changes={**changes, "assignee": [None, t.assignee.label]},
            id=t.pk,
            done=t.done_at is not None,
        )


def _audit_items(
    qs: QuerySet[AuditEvent], *, actor: User, entity_key: str
) -> Iterator[TimelineItem]:
    from guanxi.core.audit_labels import label_changes

    mask = permissions.masked_fields(actor, entity_key)
    events = list(qs)
    # Masked first, then ids and choice values as names: one query per kind, not per entry.
    labelled = label_changes(
        actor=actor,
        entity_key=entity_key,
        changes_list=[permissions.mask_changes(actor, entity_key, e.changes, mask) for e in events],
    )
    for e, changes in zip(events, labelled, strict=True):
        kind = _AUDIT_KIND.get(e.action, "other")  # type: ignore[call-overload]
        yield TimelineItem(
            kind=kind,
            sub_kind=e.action,
            at=e.created_at,
            actor=e.actor_label,
            title=str(e.get_action_display()),
            changes=changes,
            id=e.pk,
        )


def timeline(
    *,
    actor: User,
    target_entity: str,
    target_id: Any,
    kinds: Iterable[str] | None = None,
    page: Any = 1,
    page_size: Any = 50,
) -> Page:
    """One chronological stream (newest first) of everything that happened to a record.

    The record is scope-checked first (OutOfScope otherwise). Each source is read once,
    newest first and bounded to what the page needs, then merged: at most three queries
    plus one for attachments, whatever the history's length.
    """
    page_i, size_i = clean_page_args(page, page_size)
    wanted = _clean_kinds(kinds)
    target, obj = targets.resolve(actor, target_entity, target_id)
    need = page_i * size_i + 1
    streams: list[Iterator[TimelineItem]] = []
    if "followup" in wanted and permissions.can(actor, "activity", "view"):
        streams.append(
            _activity_items(
                _activities_base()
                .filter(target_entity=target_entity, target_id=obj.pk)
                .order_by("-occurred_at", "-id")[:need]
            )
        )
    if "task" in wanted and permissions.can(actor, "task", "view"):
        streams.append(
            _task_items(
                _tasks_base()
                .filter(target_entity=target_entity, target_id=obj.pk)
                .order_by("-created_at", "-id")[:need]
            )
        )
    audit_kinds = wanted - {"followup", "task"}
    if audit_kinds:
        actions = [a for a, k in _AUDIT_KIND.items() if k in audit_kinds]
        audit_q = Q(action__in=actions)
        if "other" in audit_kinds:
            audit_q |= ~Q(action__in=[*_AUDIT_KIND, *_AUDIT_HIDDEN])
        streams.append(
            _audit_items(
                AuditEvent.objects.filter(entity=target_entity, object_id=str(obj.pk))
                .filter(audit_q)
                .order_by("-created_at", "-id")[:need],
                actor=actor,
                entity_key=target_entity,
            )
        )
    for stream in _related_streams.get(target_entity, []):
        streams.append(stream(actor=actor, obj=obj, kinds=wanted, need=need))
    merged = list(heapq.merge(*streams, key=lambda item: item.at, reverse=True))
    offset = (page_i - 1) * size_i
    items = merged[offset : offset + size_i]
    more = len(merged) > offset + size_i
    url = target.url_of(obj)
    for item in items:
        if item.kind != "followup" and item.kind != "task" and not item.url:
            item.url = url
    return Page(items, offset + len(items) + (1 if more else 0), not more, page_i, size_i)
