"""Department pools: where a record goes when it leaves its owner, and who sees which pool.

Semantics (also in docs/user-guide.md):

- The company pool always exists; a department may have its own pool (one per department).
- A record released, reclaimed or transferred to the pool goes to the pool of the owner's
  department, or of its nearest ancestor that has one; else to the company pool.
- A user sees, and may claim from, the pools of their own department and of its ancestors,
  plus the company pool. A data scope of "department and sub-departments" also shows the
  pools below; "all" (and administrators) see every pool.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core import audit, permissions
from guanxi.core.errors import FieldError, NotPermitted, ValidationFailed
from guanxi.core.models import AuditEvent
from guanxi.leads.models import Pool
from guanxi.leads.pool.entities import pool_entities

if TYPE_CHECKING:
    from guanxi.identity.models import Department, User

A = AuditEvent.Action


def _path_ids(path: str) -> list[int]:
    """``/1/4/9/`` → [1, 4, 9] (root first)."""
    return [int(part) for part in path.strip("/").split("/") if part]


def pooled_department_ids() -> set[int]:
    return set(Pool.objects.values_list("department_id", flat=True))


def route(path: str | None, pooled: set[int]) -> int | None:
    """The department whose pool a record of an owner in ``path`` goes to (None: company)."""
    for dept_id in reversed(_path_ids(path or "")):
        if dept_id in pooled:
            return dept_id
    return None


def route_owners(owner_ids: Iterable[int | None]) -> dict[int, int | None]:
    """Target pool (department id or None) per owner id; two queries whatever the count."""
    from guanxi.identity.models import User as UserModel

    ids = {i for i in owner_ids if i is not None}
    if not ids:
        return {}
    pooled = pooled_department_ids()
    if not pooled:
        return dict.fromkeys(ids)
    paths = UserModel.objects.filter(pk__in=ids).values_list("pk", "department__path")
    return {pk: route(path, pooled) for pk, path in paths}


def owner_change_fields(
    model: type[Any], old_owner_id: int | None, new_owner_id: int | None, now: dt.datetime
) -> dict[str, Any]:
    """Extra column values when a pooled record changes owner outside claim / release
    (transfers, edits): into the pool → the routed pool, unlocked; to a user → the
    ownership clock restarts. Empty for models the pool does not hold."""
    if not any(k.model is model for k in pool_entities()):
        return {}
    if new_owner_id is None:
        target = route_owners([old_owner_id]).get(old_owner_id) if old_owner_id else None
        return {"pool_department_id": target, "pool_locked": False, "owned_since": None}
    return {"pool_department_id": None, "owned_since": now}


def visible_q(actor: User, entity_key: str) -> Q:
    """Unowned records of ``entity_key`` in the pools ``actor`` may see (and claim from)."""
    q = Q(owner__isnull=True)
    scope = permissions.scope_of(actor, entity_key)
    if scope == "all":
        return q
    dept = actor.department if actor.department_id else None
    path = dept.path if dept is not None else ""
    pools = Q(pool_department__isnull=True) | Q(pool_department_id__in=_path_ids(path))
    if scope == "subtree" and path:
        pools |= Q(pool_department__path__startswith=path)
    return q & pools


def visible_pools(actor: User, entity_key: str) -> list[tuple[int | None, str]]:
    """The pools ``actor`` sees: ``(department id or None, name)``, company pool first."""
    qs = Pool.objects.select_related("department").order_by("department__path")
    scope = permissions.scope_of(actor, entity_key)
    if scope != "all":
        path = actor.department.path if actor.department_id and actor.department else ""
        cond = Q(department_id__in=_path_ids(path))
        if scope == "subtree" and path:
            cond |= Q(department__path__startswith=path)
        qs = qs.filter(cond)
    return [(None, _("Company pool")), *((p.department_id, p.name) for p in qs)]


def pool_label(department_id: int | None) -> str:
    if department_id is None:
        return _("Company pool")
    pool = Pool.objects.filter(department_id=department_id).first()
    return pool.name if pool is not None else _("Company pool")


# --- Administration ---------------------------------------------------------------------


def pool_create(*, actor: User, department: Department, name: str = "") -> Pool:
    """Give ``department`` its own pool (administrators; one per department; audited).

    Records already in the pool stay where they are; from now on records leaving owners
    in this department (or below, unless a nearer pool exists) come here.
    """
    if not permissions.is_admin(actor):
        raise NotPermitted()
    name = (name or "").strip() or _("%(department)s pool") % {"department": department.name}
    if len(name) > 100:
        raise ValidationFailed([FieldError("name", _("At most 100 characters."))])
    if Pool.objects.filter(department=department).exists():
        raise ValidationFailed([FieldError("department", _("This department already has a pool."))])
    with transaction.atomic():
        pool = Pool.objects.create(department=department, name=name)
        audit.record(
            actor=actor,
            action=A.CREATE,
            entity="pool",
            obj=pool,
            changes={"department": [None, department.pk], "name": [None, name]},
        )
    return pool


def pool_rename(*, actor: User, pool: Pool, name: str) -> Pool:
    if not permissions.is_admin(actor):
        raise NotPermitted()
    name = (name or "").strip()
    if not name:
        raise ValidationFailed([FieldError("name", _("This field is required."))])
    if len(name) > 100:
        raise ValidationFailed([FieldError("name", _("At most 100 characters."))])
    if name != pool.name:
        with transaction.atomic():
            old, pool.name = pool.name, name
            pool.save(update_fields=["name"])
            audit.record(
                actor=actor, action=A.UPDATE, entity="pool", obj=pool, changes={"name": [old, name]}
            )
    return pool


def pool_delete(*, actor: User, pool: Pool) -> dict[str, int]:
    """Remove a department pool; its records move to the next pool up (audited).

    Returns how many records of each kind moved.
    """
    if not permissions.is_admin(actor):
        raise NotPermitted()
    with transaction.atomic():
        pool = Pool.objects.select_for_update().get(pk=pool.pk)
        dept = pool.department
        rest = pooled_department_ids() - {dept.pk}
        parent_path = dept.path.rstrip("/").rsplit("/", 1)[0] + "/" if dept.parent_id else ""
        target = route(parent_path, rest)
        moved: dict[str, int] = {}
        now = timezone.now()
        from_label, to_label = pool.name, pool_label(target)
        for kind in pool_entities():
            rows = list(
                kind.model._default_manager.filter(
                    owner__isnull=True, pool_department_id=dept.pk
                ).values_list("pk", "name")
            )
            kind.model._default_manager.filter(pk__in=[pk for pk, _name in rows]).update(
                pool_department_id=target, updated_at=now
            )
            # Every record's move is on its own history too.
            audit.record_many(
                [
                    AuditEvent(
                        actor=actor,
                        actor_label=actor.get_username(),
                        action=A.UPDATE,
                        entity=kind.key,
                        object_id=str(pk),
                        object_repr=str(name)[:200],
                        changes={"pool": [from_label, to_label]},
                    )
                    for pk, name in rows
                ]
            )
            moved[kind.key] = len(rows)
        audit.record(
            actor=actor,
            action=A.DELETE,
            entity="pool",
            obj=pool,
            changes={"name": [pool.name, None], "moved_to": target, "moved": moved},
        )
        pool.delete()
    return moved
