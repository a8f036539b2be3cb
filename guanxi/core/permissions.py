"""The permission layer: the one place that turns (user, entity, action) into a scoped
queryset and a field mask.

Every selector, list, search, report, export and API handler that returns customer data
calls :func:`scoped_queryset` (or :func:`get_for_user`) and :func:`masked_fields`.

Roles are combined generously: a user may do what any of their roles allows, sees the
widest scope any role grants, and sees a field masked only if every role that grants
``view`` masks it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import models
from django.db.models import Q, QuerySet
from django.utils.functional import Promise

from guanxi.core.errors import NotPermitted, OutOfScope

if TYPE_CHECKING:
    from guanxi.identity.models import User

ACTIONS = ("view", "create", "edit", "delete", "export", "import", "transfer")
SCOPES = ("own", "department", "subtree", "all")
_SCOPE_RANK = {s: i for i, s in enumerate(SCOPES)}

M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True)
class Entity:
    """A kind of record the permission layer guards.

    ``owner_field`` is the field whose value is the owning user's id ("owner" for most
    records, "id" for the users list itself). ``extra_visibility`` may widen what a user
    sees beyond the scope (e.g. collaborators on an account).
    """

    key: str
    model: type[models.Model]
    label: str | Promise
    owner_field: str = "owner"
    maskable: dict[str, str] = field(default_factory=dict)  # field -> mask kind
    extra_visibility: Callable[[User], Q] | None = None


_registry: dict[str, Entity] = {}


def register(entity: Entity) -> Entity:
    _registry[entity.key] = entity
    return entity


def entity(key: str) -> Entity:
    try:
        return _registry[key]
    except KeyError as exc:
        raise KeyError(f"Unknown permission entity {key!r}") from exc


def entities() -> list[Entity]:
    return list(_registry.values())


@dataclass
class EffectiveGrant:
    actions: set[str]
    scope: str | None
    masked: set[str]
    can_reveal: bool


def _load(user: User) -> None:
    """Read the user's roles and grants in one query and cache them on the instance."""
    from guanxi.identity.models import Role

    result: dict[str, EffectiveGrant] = {}
    view_masks: dict[str, list[set[str]]] = {}
    admin = bool(user.is_superuser)
    rows = Role.objects.filter(users=user).values_list(
        "is_admin",
        "grants__entity",
        "grants__actions",
        "grants__scope",
        "grants__masked_fields",
        "grants__can_reveal",
    )
    for role_is_admin, entity_key, actions, scope, masked, reveal in rows:
        admin = admin or role_is_admin
        if entity_key is None:  # a role without grants
            continue
        eff = result.setdefault(entity_key, EffectiveGrant(set(), None, set(), False))
        eff.actions.update(actions or [])
        if "view" in (actions or []):
            if eff.scope is None or _SCOPE_RANK[scope] > _SCOPE_RANK[eff.scope]:
                eff.scope = scope
            view_masks.setdefault(entity_key, []).append(set(masked or []))
        eff.can_reveal = eff.can_reveal or bool(reveal)
    for key, masks in view_masks.items():
        result[key].masked = set.intersection(*masks) if masks else set()
    user._guanxi_grants = result  # type: ignore[attr-defined]
    user._guanxi_is_admin = admin  # type: ignore[attr-defined]


def _grants(user: User) -> dict[str, EffectiveGrant]:
    """The user's combined role grants (cached on the instance)."""
    cached: dict[str, EffectiveGrant] | None = getattr(user, "_guanxi_grants", None)
    if cached is None:
        _load(user)
        cached = user._guanxi_grants  # type: ignore[attr-defined]
    assert cached is not None
    return cached


def forget(user: User) -> None:
    """Drop cached grants (after role changes within the same request)."""
    for attr in ("_guanxi_grants", "_guanxi_is_admin", "_guanxi_scope_users"):
        if hasattr(user, attr):
            delattr(user, attr)


def is_admin(user: User) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if getattr(user, "_guanxi_is_admin", None) is None:
        _load(user)
    return bool(user._guanxi_is_admin)  # type: ignore[attr-defined]


def can(user: User, entity_key: str, action: str) -> bool:
    if action not in ACTIONS:
        raise ValueError(f"Unknown action {action!r}")
    if not user.is_authenticated or not user.is_active:
        return False
    if is_admin(user):
        return True
    grant = _grants(user).get(entity_key)
    return bool(grant and action in grant.actions)


def require(user: User, entity_key: str, action: str) -> None:
    if not can(user, entity_key, action):
        raise NotPermitted()


def scope_of(user: User, entity_key: str) -> str | None:
    if is_admin(user):
        return "all"
    grant = _grants(user).get(entity_key)
    return grant.scope if grant else None


def _department_filter(user: User, scope: str) -> Q | None:
    """The Q on users that ``scope`` covers besides ``user`` itself; None = only oneself."""
    if scope == "own" or user.department_id is None:
        return None
    if scope == "department":
        return Q(department_id=user.department_id)
    # The department is usually cached on the instance (select_related); at most one query.
    path = user.department.path if user.department else ""
    return Q(department__path__startswith=path or "/")


def scope_user_ids(user: User, scope: str) -> list[int] | None:
    """Ids of the users whose records ``scope`` covers; None means everyone."""
    if scope == "all":
        return None
    from guanxi.identity.models import User as UserModel

    dept_filter = _department_filter(user, scope)
    if dept_filter is None:
        return [user.pk]
    ids = list(UserModel.objects.filter(dept_filter).values_list("id", flat=True))
    if user.pk not in ids:
        ids.append(user.pk)
    return ids


def scope_filter(user: User, entity_key: str, action: str = "view") -> Q | None:
    """The Q that limits ``entity_key`` to what ``user`` may ``action``; None = no limit.

    Raises NotPermitted when the user lacks the action altogether. Colleagues are matched
    with a subquery, so scoping adds no query of its own.
    """
    require(user, entity_key, action)
    ent = entity(entity_key)
    scope = scope_of(user, entity_key) or "own"
    if scope == "all":
        return None
    from guanxi.identity.models import User as UserModel

    q = Q(**{ent.owner_field: user.pk})
    dept_filter = _department_filter(user, scope)
    if dept_filter is not None:
        colleagues = UserModel.objects.filter(dept_filter).values("id")
        q |= Q(**{f"{ent.owner_field}__in": colleagues})
    if ent.extra_visibility is not None:
        q |= ent.extra_visibility(user)
    return q


def scoped_queryset(
    user: User, entity_key: str, action: str = "view", base: QuerySet[Any] | None = None
) -> QuerySet[Any]:
    """Records of ``entity_key`` that ``user`` may ``action``."""
    ent = entity(entity_key)
    qs = base if base is not None else ent.model._default_manager.all()
    q = scope_filter(user, entity_key, action)
    return qs if q is None else qs.filter(q)


def get_for_user(
    user: User, entity_key: str, pk: Any, action: str = "view", base: QuerySet[Any] | None = None
) -> Any:
    """One record, or OutOfScope when it does not exist or lies outside the scope.

    A record outside the scope is indistinguishable from a missing one (API: 404).
    """
    qs = scoped_queryset(user, entity_key, action, base)
    try:
        return qs.get(pk=pk)
    except (qs.model.DoesNotExist, ValueError, TypeError) as exc:
        raise OutOfScope() from exc


def in_scope(user: User, entity_key: str, obj: models.Model, action: str = "view") -> bool:
    if not can(user, entity_key, action):
        return False
    return scoped_queryset(user, entity_key, action).filter(pk=obj.pk).exists()


def masked_fields(user: User, entity_key: str) -> set[str]:
    """Fields of ``entity_key`` shown masked to ``user`` in pages, API, exports and search."""
    if is_admin(user):
        return set()
    grant = _grants(user).get(entity_key)
    if grant is None:
        return set(entity(entity_key).maskable)
    return set(grant.masked) & set(entity(entity_key).maskable)


def can_reveal(user: User, entity_key: str) -> bool:
    if is_admin(user):
        return True
    grant = _grants(user).get(entity_key)
    return bool(grant and grant.can_reveal)


def mask_value(kind: str, value: Any) -> Any:
    """Hide most of a value while keeping it recognisable (138****8000, z***@qq.com)."""
    if value in (None, ""):
        return value
    text = str(value)
    if kind == "email":
        local, _sep, domain = text.partition("@")
        return f"{local[:1]}***@{domain}" if domain else "***"
    if kind == "phone":
        digits = [c for c in text if c.isdigit()]
        if len(digits) >= 7:
            tail = "".join(digits[-4:])
            head = "".join(digits[:3]) if not text.startswith("+") else "+" + "".join(digits[:2])
            return f"{head}****{tail}"
        return "****"
    if kind == "id_number":
        return f"{text[:3]}{'*' * max(len(text) - 7, 3)}{text[-4:]}" if len(text) > 7 else "****"
    return "****"


def apply_mask(
    user: User, entity_key: str, data: dict[str, Any], mask: set[str] | None = None
) -> dict[str, Any]:
    """Mask the fields of a serialised record in place and return it.

    Derived copies (``<field>_e164``) are masked with their field.
    """
    ent = entity(entity_key)
    fields = masked_fields(user, entity_key) if mask is None else mask
    for name in fields:
        kind = ent.maskable.get(name, "other")
        for key in (name, f"{name}_e164"):
            if key in data:
                data[key] = mask_value(kind, data[key])
    return data


def mask_changes(
    user: User, entity_key: str, changes: dict[str, Any], mask: set[str] | None = None
) -> dict[str, Any]:
    """A copy of an audit ``changes`` dict ({field: [old, new]}) with masked fields masked.

    Every view of the audit trail of customer data (history tabs, timelines, API) must
    pass through here, or a masked phone leaks through its change history.
    """
    fields = masked_fields(user, entity_key) if mask is None else mask
    if not fields or not changes:
        return dict(changes or {})
    kinds = entity(entity_key).maskable
    out = dict(changes)
    for name in fields:
        kind = kinds.get(name, "other")
        for key in (name, f"{name}_e164"):
            if key not in out:
                continue
            value = out[key]
            if isinstance(value, list | tuple):
                out[key] = [mask_value(kind, v) for v in value]
            else:
                out[key] = mask_value(kind, value)
    return out


def visible_users(user: User, entity_keys: Iterable[str]) -> set[int] | None:
    """Union of the user ids whose records ``user`` may view across several entities."""
    result: set[int] = set()
    for key in entity_keys:
        scope = scope_of(user, key)
        if scope is None:
            continue
        ids = scope_user_ids(user, scope)
        if ids is None:
            return None
        result.update(ids)
    return result
