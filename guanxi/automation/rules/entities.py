"""What each kind of record offers rules: its fields, its dates, how to load and change it.

Rules run as the system: records are loaded unscoped and serialised unmasked (the same
JSON the API shows), and changes go through the owning app's services as the rule's
author (an admin), so validation, audit and events stay in one place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from guanxi.core import events
from guanxi.identity.models import User

# Field kinds decide which operators make sense and how values compare.
TEXT, NUMBER, CHOICE, DATETIME, DATE, TAGS, USER, DEPARTMENT, BOOL = (
    "text",
    "number",
    "choice",
    "datetime",
    "date",
    "tags",
    "user",
    "department",
    "bool",
)


@dataclass(frozen=True)
class FieldSpec:
    label: Any
    kind: str
    editable: bool = False  # may the "update a field" action set it


@dataclass(frozen=True)
class RuleEntity:
    key: str
    label: Any
    queryset: Callable[[], QuerySet[Any]]
    as_dict: Callable[[Any], dict[str, Any]]
    update: Callable[[User, Any, dict[str, Any]], Any]
    url: Callable[[Any], str]
    fields: dict[str, FieldSpec]
    # date fields a time-based rule can count from: name → (label, annual?)
    dates: dict[str, tuple[Any, bool]] = field(default_factory=dict)
    # an expression for the last follow-up ("no follow-up for N days"), or None
    last_touch: Callable[[], Any] | None = None
    has_owner: bool = True

    def load(self, pk: int) -> Any | None:
        return self.queryset().filter(pk=pk).first()

    def values(self, obj: Any) -> dict[str, Any]:
        """The record's API JSON plus the derived values conditions look at."""
        data = self.as_dict(obj)
        owner = owner_of(self, obj)
        data["owner"] = owner.pk if owner is not None else None
        data["owner_department"] = owner.department_id if owner is not None else None
        return data


def _owner_q() -> tuple[str, ...]:
    return ("owner", "owner__department")


def _lead_entity() -> RuleEntity:
    from guanxi.leads.models import Lead
    from guanxi.leads.selectors import lead_as_dict
    from guanxi.leads.services import lead_update

    def as_dict(lead: Lead) -> dict[str, Any]:
        return lead_as_dict(actor=lead.owner, lead=lead, mask=set())  # type: ignore[arg-type]

    return RuleEntity(
        key="lead",
        label=_("Lead"),
        queryset=lambda: Lead.objects.select_related(*_owner_q(), "source"),
        as_dict=as_dict,
        update=lambda actor, obj, data: lead_update(actor=actor, lead=obj, data=data),
        url=lambda obj: reverse("leads:detail", args=[obj.pk]),
        fields={
            "name": FieldSpec(_("name"), TEXT, True),
            "company": FieldSpec(_("company"), TEXT, True),
            "title": FieldSpec(_("job title"), TEXT, True),
            "status": FieldSpec(_("status"), CHOICE, True),
            "source": FieldSpec(_("source"), CHOICE),
            "score": FieldSpec(_("score"), NUMBER),
            "province": FieldSpec(_("province"), TEXT, True),
            "city": FieldSpec(_("city"), TEXT, True),
            "industry": FieldSpec(_("industry"), TEXT, True),
            "tags": FieldSpec(_("tags"), TAGS),
            "owner": FieldSpec(_("owner"), USER),
            "owner_department": FieldSpec(_("owner's department"), DEPARTMENT),
            "next_followup_at": FieldSpec(_("next follow-up"), DATETIME),
            "last_contacted_at": FieldSpec(_("last contacted"), DATETIME),
            "notes": FieldSpec(_("notes"), TEXT, True),
        },
        dates={
            "next_followup_at": (_("next follow-up"), False),
            "created_at": (_("created at"), False),
        },
        last_touch=lambda: Coalesce("last_contacted_at", "created_at"),
    )


def _activity_touch(entity: str) -> Any:
    from guanxi.activities.models import Activity

    latest = (
        Activity.objects.filter(target_entity=entity, target_id=OuterRef("pk"))
        .order_by("-occurred_at")
        .values("occurred_at")[:1]
    )
    return Coalesce(Subquery(latest, output_field=models.DateTimeField()), "created_at")


def _account_entity() -> RuleEntity:
    from guanxi.customers.models import Account
    from guanxi.customers.selectors import account_as_dict
    from guanxi.customers.services import account_update

    return RuleEntity(
        key="account",
        label=_("Account"),
        queryset=lambda: Account.objects.select_related(*_owner_q(), "parent", "score"),
        as_dict=lambda a: account_as_dict(actor=a.owner, account=a, mask=set()),
        update=lambda actor, obj, data: account_update(actor=actor, account=obj, data=data),
        url=lambda obj: reverse("customers:account_detail", args=[obj.pk]),
        fields={
            "name": FieldSpec(_("name"), TEXT, True),
            "industry": FieldSpec(_("industry"), TEXT, True),
            "size": FieldSpec(_("size"), TEXT, True),
            "province": FieldSpec(_("province"), TEXT, True),
            "city": FieldSpec(_("city"), TEXT, True),
            "tier": FieldSpec(_("tier"), CHOICE, True),
            "lifecycle_stage": FieldSpec(_("lifecycle stage"), CHOICE, True),
            "tags": FieldSpec(_("tags"), TAGS),
            "owner": FieldSpec(_("owner"), USER),
            "owner_department": FieldSpec(_("owner's department"), DEPARTMENT),
        },
        dates={"created_at": (_("created at"), False)},
        last_touch=lambda: _activity_touch("account"),
    )


def _contact_entity() -> RuleEntity:
    from guanxi.customers.models import Contact
    from guanxi.customers.selectors import contact_as_dict
    from guanxi.customers.services import contact_update

    def as_dict(c: Contact) -> dict[str, Any]:
        data = contact_as_dict(actor=c.owner, contact=c, mask=set())  # type: ignore[arg-type]
        data["tier"] = c.account.tier if c.account is not None else ""
        return data

    return RuleEntity(
        key="contact",
        label=_("Contact"),
        queryset=lambda: Contact.objects.select_related(*_owner_q(), "account"),
        as_dict=as_dict,
        update=lambda actor, obj, data: contact_update(actor=actor, contact=obj, data=data),
        url=lambda obj: reverse("customers:contact_detail", args=[obj.pk]),
        fields={
            "name": FieldSpec(_("name"), TEXT, True),
            "title": FieldSpec(_("job title"), TEXT, True),
            "tier": FieldSpec(_("account tier"), CHOICE),
            "tags": FieldSpec(_("tags"), TAGS),
            "owner": FieldSpec(_("owner"), USER),
            "owner_department": FieldSpec(_("owner's department"), DEPARTMENT),
            "birthday": FieldSpec(_("birthday"), DATE),
            "last_contacted_at": FieldSpec(_("last contacted"), DATETIME),
            "notes": FieldSpec(_("notes"), TEXT, True),
        },
        dates={"birthday": (_("birthday (every year)"), True)},
        last_touch=lambda: Coalesce("last_contacted_at", "created_at"),
    )


def _deal_entity() -> RuleEntity:
    from guanxi.sales.models import Deal
    from guanxi.sales.selectors import deal_as_dict
    from guanxi.sales.services import deal_update

    def as_dict(d: Deal) -> dict[str, Any]:
        data = deal_as_dict(actor=d.owner, deal=d, mask=set())  # type: ignore[arg-type]
        data["stage_name"] = d.stage.name
        data["tier"] = d.account.tier
        return data

    return RuleEntity(
        key="deal",
        label=_("Deal"),
        queryset=lambda: Deal.objects.select_related(
            *_owner_q(), "account", "stage", "pipeline", "source"
        ),
        as_dict=as_dict,
        update=lambda actor, obj, data: deal_update(actor=actor, deal=obj, data=data),
        url=lambda obj: reverse("sales:deal_detail", args=[obj.pk]),
        fields={
            "name": FieldSpec(_("name"), TEXT, True),
            "stage": FieldSpec(_("stage"), CHOICE),
            "stage_name": FieldSpec(_("stage name"), TEXT),
            "status": FieldSpec(_("status"), CHOICE),
            "amount": FieldSpec(_("amount"), NUMBER, True),
            "currency": FieldSpec(_("currency"), TEXT),
            "probability": FieldSpec(_("probability"), NUMBER),
            "tier": FieldSpec(_("account tier"), CHOICE),
            "next_step": FieldSpec(_("next step"), TEXT, True),
            "tags": FieldSpec(_("tags"), TAGS),
            "owner": FieldSpec(_("owner"), USER),
            "owner_department": FieldSpec(_("owner's department"), DEPARTMENT),
            "expected_close_date": FieldSpec(_("expected close date"), DATE),
        },
        dates={"expected_close_date": (_("expected close date"), False)},
        last_touch=lambda: _activity_touch("deal"),
    )


def _task_entity() -> RuleEntity:
    from guanxi.activities.api import task_as_dict
    from guanxi.activities.models import Task
    from guanxi.activities.services import task_update

    def as_dict(t: Task) -> dict[str, Any]:
        return task_as_dict(t)

    return RuleEntity(
        key="task",
        label=_("Task"),
        queryset=lambda: Task.objects.select_related(
            "assignee", "assignee__department", "created_by"
        ),
        as_dict=as_dict,
        update=lambda actor, obj, data: task_update(actor=actor, task=obj, data=data),
        url=lambda obj: reverse("activities:my_day"),
        fields={
            "title": FieldSpec(_("title"), TEXT, True),
            "priority": FieldSpec(_("priority"), CHOICE, True),
            "owner": FieldSpec(_("assignee"), USER),
            "owner_department": FieldSpec(_("assignee's department"), DEPARTMENT),
            "due_at": FieldSpec(_("due"), DATETIME),
        },
        dates={"due_at": (_("due"), False)},
        has_owner=False,
    )


_FACTORIES: dict[str, Callable[[], RuleEntity]] = {
    "lead": _lead_entity,
    "account": _account_entity,
    "contact": _contact_entity,
    "deal": _deal_entity,
    "task": _task_entity,
}
_cache: dict[str, RuleEntity] = {}


def get(key: str) -> RuleEntity:
    """The spec of ``key``; KeyError for record types rules do not know."""
    if key not in _cache:
        _cache[key] = _FACTORIES[key]()
    return _cache[key]


def entity_keys() -> list[str]:
    return list(_FACTORIES)


def owner_of(entity: RuleEntity, obj: Any) -> User | None:
    """The record's owner (a task's assignee)."""
    if entity.key == "task":
        return obj.assignee  # type: ignore[no-any-return,unused-ignore]
    return getattr(obj, "owner", None)


def manager_of(user: User | None) -> User | None:
    """The owner's manager (see ``automation.approvers``)."""
    from guanxi.automation.approvers import manager_of as approver_manager

    return approver_manager(user) if user is not None else None


def register_event_records() -> None:
    """Give the event envelope (rules, webhooks) the API JSON of these records."""
    for key in _FACTORIES:

        def load(pk: int, key: str = key) -> dict[str, Any] | None:
            spec = get(key)
            obj = spec.load(pk)
            return spec.as_dict(obj) if obj is not None else None

        events.register_record(key, load)


def local_date(value: dt.datetime) -> dt.date:
    from django.utils import timezone

    return timezone.localtime(value).date()
