"""Saved views (场景) and per-user list preferences: the writes (validated, permission-
checked, audited, with events) and the reads.

A saved view stores a list's query-string parameters, its sort and (optionally) its
columns. Sharing a view shares the *question*, never the answers: whoever opens it sees
only the records of their own data scope, because the list selectors scope every query.

The list pages read a user's views and preferences on every request; that read is cached
(``list_context``) and the cache is invalidated on every write, so the pinned query
counts of the list pages do not grow.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from guanxi.core import audit, events, lists, permissions
from guanxi.core.errors import FieldError, NotPermitted, OutOfScope, ValidationFailed
from guanxi.core.models import AuditEvent, ListPreference, SavedView

if TYPE_CHECKING:
    from guanxi.identity.models import User

VIEW_CREATED = events.define("saved_view.created", "A saved list view was created")
VIEW_UPDATED = events.define("saved_view.updated", "A saved list view was changed")
VIEW_DELETED = events.define("saved_view.deleted", "A saved list view was deleted")

V = SavedView.Visibility
A = AuditEvent.Action
KEEP: Any = object()
MAX_VIEWS_PER_LIST = 50
_VERSION_KEY = "lists:views:version"
# Role membership changes do not bump the version; a changed role shows up within this.
_CACHE_SECONDS = 300
_counter = itertools.count()


def share_role_codes() -> set[str]:
    """Roles (besides administrators) that may share views with others."""
    return set(getattr(settings, "GUANXI_VIEW_SHARE_ROLES", ["manager"]))


def can_share(user: User) -> bool:
    """Administrators and managers (``GUANXI_VIEW_SHARE_ROLES``) may share views."""
    if permissions.is_admin(user):
        return True
    return user.roles.filter(code__in=share_role_codes()).exists()


# --- reads ------------------------------------------------------------------------------


@dataclass
class ViewInfo:
    id: int
    entity: str
    name: str
    owner_id: int
    owner_label: str
    owner_username: str
    query: dict[str, str]
    columns: list[str]
    visibility: str
    role_ids: list[int]
    mine: bool


@dataclass
class ListContext:
    """What a list page needs about its viewer: their views and preferences."""

    views: list[ViewInfo]
    columns: list[str]
    default_view_id: int | None
    can_share: bool
    # (id, Chinese name, English name): labelled in the viewer's language when shown.
    roles: list[tuple[int, str, str]] = dataclasses.field(default_factory=list)

    @property
    def role_choices(self) -> list[tuple[int, str]]:
        from django.utils.translation import get_language

        english = (get_language() or "").startswith("en")
        return [(pk, (en if english and en else zh)) for pk, zh, en in self.roles]

    def view(self, pk: Any) -> ViewInfo | None:
        try:
            wanted = int(pk)
        except (TypeError, ValueError):
            return None
        return next((v for v in self.views if v.id == wanted), None)


def _visible(actor: User, entity: str) -> QuerySet[SavedView]:
    """Views ``actor`` may open: their own, those shared with everyone, or with a role
    they hold (a subquery on the roles; no duplicate rows)."""
    through = SavedView.roles.through
    shared_with_my_roles = through.objects.filter(role_id__in=actor.roles.values("id")).values(
        "savedview_id"
    )
    return SavedView.objects.filter(entity=entity).filter(
        Q(owner=actor)
        | Q(visibility=V.EVERYONE)
        | Q(visibility=V.ROLES, pk__in=shared_with_my_roles)
    )


def _info(view: SavedView, actor: User, role_ids: list[int] | None = None) -> ViewInfo:
    return ViewInfo(
        id=view.pk,
        entity=view.entity,
        name=view.name,
        owner_id=view.owner_id,
        owner_label=view.owner.label,
        owner_username=view.owner.username,
        query=dict(view.query or {}),
        columns=list(view.columns or []),
        visibility=view.visibility,
        role_ids=role_ids if role_ids is not None else [],
        mine=view.owner_id == actor.pk,
    )


def saved_view_list(*, actor: User, entity: str) -> list[ViewInfo]:
    """``actor``'s own views first, then those shared with them, each by name."""
    lists.spec(entity)
    return _view_infos(actor, [entity]).get(entity, [])


def _view_infos(actor: User, entities: list[str]) -> dict[str, list[ViewInfo]]:
    """The views of several lists in one query (plus one for the shared roles)."""
    through = SavedView.roles.through
    mine_or_shared = (
        Q(owner=actor)
        | Q(visibility=V.EVERYONE)
        | Q(
            visibility=V.ROLES,
            pk__in=through.objects.filter(role_id__in=actor.roles.values("id")).values(
                "savedview_id"
            ),
        )
    )
    views = list(
        SavedView.objects.filter(entity__in=entities)
        .filter(mine_or_shared)
        .select_related("owner")
        .prefetch_related("roles")
    )
    out: dict[str, list[ViewInfo]] = {}
    for view in views:
        info = _info(view, actor, sorted(r.pk for r in view.roles.all()))
        out.setdefault(view.entity, []).append(info)
    for infos in out.values():
        infos.sort(key=lambda i: (not i.mine, i.name))
    return out


def _version() -> str:
    version = cache.get(_VERSION_KEY)
    if version is None:
        version = f"{time.time_ns()}-{next(_counter)}"
        cache.set(_VERSION_KEY, version, None)
    return str(version)


def forget() -> None:
    """Invalidate every cached list context (after any saved-view or preference write)."""
    cache.set(_VERSION_KEY, f"{time.time_ns()}-{next(_counter)}", None)


def list_context(*, actor: User, entity: str) -> ListContext:
    """The viewer's saved views, columns and default view for ``entity`` (cached).

    The contexts of every list are read together (three queries, or four for those who
    may share) and cached until any view or preference changes."""
    lists.spec(entity)
    key = f"lists:ctx:{actor.pk}:{_version()}"
    contexts: dict[str, ListContext] | None = cache.get(key)
    if contexts is None:
        contexts = _load_contexts(actor)
        cache.set(key, contexts, _CACHE_SECONDS)
    return contexts.get(entity) or ListContext([], [], None, False)


def _load_contexts(actor: User) -> dict[str, ListContext]:
    entities = lists.entities()
    prefs = {p.entity: p for p in ListPreference.objects.filter(user=actor, entity__in=entities)}
    sharing = can_share(actor)
    roles: list[tuple[int, str, str]] = []
    if sharing:
        from guanxi.identity.models import Role

        roles = list(Role.objects.order_by("id").values_list("id", "name_zh", "name_en"))
    views = _view_infos(actor, entities)
    contexts: dict[str, ListContext] = {}
    for entity in entities:
        pref = prefs.get(entity)
        entity_views = views.get(entity, [])
        default_id = pref.default_view_id if pref else None
        if default_id is not None and all(v.id != default_id for v in entity_views):
            default_id = None  # no longer shared with this user
        contexts[entity] = ListContext(
            views=entity_views,
            columns=list(pref.columns) if pref else [],
            default_view_id=default_id,
            can_share=sharing,
            roles=roles,
        )
    return contexts


def saved_view_get_for_user(*, actor: User, pk: Any, action: str = "view") -> SavedView:
    """A view ``actor`` may open (``view``) or change (``edit``: their own; administrators
    may also change or delete shared ones). OutOfScope otherwise (API: 404)."""
    try:
        wanted = int(pk)
    except (TypeError, ValueError) as exc:
        raise OutOfScope() from exc
    view = SavedView.objects.select_related("owner").filter(pk=wanted).first()
    if view is None:
        raise OutOfScope()
    visible = _visible(actor, view.entity).filter(pk=view.pk).exists()
    if not visible:
        raise OutOfScope()
    may_moderate = permissions.is_admin(actor) and view.visibility != V.PRIVATE
    if action == "edit" and view.owner_id != actor.pk and not may_moderate:
        raise NotPermitted(_("Only the owner can change this view."))
    return view


def saved_view_as_dict(*, actor: User, view: SavedView) -> dict[str, Any]:
    default_id = (
        ListPreference.objects.filter(user=actor, entity=view.entity)
        .values_list("default_view_id", flat=True)
        .first()
    )
    return {
        "id": view.pk,
        "entity": view.entity,
        "name": view.name,
        "owner": {"id": view.owner_id, "username": view.owner.username},
        "query": dict(view.query or {}),
        "columns": list(view.columns or []),
        "visibility": view.visibility,
        "role_ids": sorted(view.roles.values_list("id", flat=True)),
        "mine": view.owner_id == actor.pk,
        "is_default": default_id == view.pk,
        "created_at": view.created_at.isoformat(),
        "updated_at": view.updated_at.isoformat(),
    }


def info_as_dict(info: ViewInfo, default_view_id: int | None) -> dict[str, Any]:
    return {
        "id": info.id,
        "entity": info.entity,
        "name": info.name,
        "owner": {"id": info.owner_id, "username": info.owner_username},
        "query": info.query,
        "columns": info.columns,
        "visibility": info.visibility,
        "role_ids": info.role_ids,
        "mine": info.mine,
        "is_default": info.id == default_view_id,
    }


# --- writes -----------------------------------------------------------------------------


def _clean(
    *,
    actor: User,
    entity: str,
    data: dict[str, Any],
    view: SavedView | None,
) -> tuple[dict[str, Any], list[int] | None]:
    errors: list[FieldError] = []
    cleaned: dict[str, Any] = {}
    if "name" in data or view is None:
        name = str(data.get("name") or "").strip()
        if not name:
            errors.append(FieldError("name", _("Enter a name.")))
        elif len(name) > 60:
            errors.append(FieldError("name", _("At most %(n)d characters.") % {"n": 60}))
        else:
            same = SavedView.objects.filter(entity=entity, owner=actor, name=name)
            if view is not None:
                same = same.exclude(pk=view.pk)
            if same.exists():
                errors.append(FieldError("name", _("You already have a view with this name.")))
            cleaned["name"] = name
    try:
        if "query" in data:
            cleaned["query"] = lists.clean_query(entity, dict(data.get("query") or {}))
        if "columns" in data:
            cleaned["columns"] = lists.clean_columns(entity, list(data.get("columns") or []))
    except ValidationFailed as exc:
        errors.extend(exc.errors)
    role_ids: list[int] | None = None
    if "visibility" in data:
        visibility = str(data.get("visibility") or V.PRIVATE)
        if visibility not in V.values:
            errors.append(
                FieldError("visibility", _("Choose one of: %(c)s.") % {"c": ", ".join(V.values)})
            )
        else:
            cleaned["visibility"] = visibility
    visibility = cleaned.get("visibility", view.visibility if view else V.PRIVATE)
    if "role_ids" in data:
        from guanxi.identity.models import Role

        try:
            wanted = sorted({int(r) for r in data.get("role_ids") or []})
        except (TypeError, ValueError):
            wanted = []
            errors.append(FieldError("role_ids", _("No such role.")))
        found = set(Role.objects.filter(pk__in=wanted).values_list("id", flat=True))
        if set(wanted) - found:
            errors.append(FieldError("role_ids", _("No such role.")))
        role_ids = wanted
    if visibility == V.ROLES:
        effective = (
            role_ids
            if role_ids is not None
            else (list(view.roles.values_list("id", flat=True)) if view else [])
        )
        if not effective:
            errors.append(FieldError("role_ids", _("Choose at least one role to share with.")))
    elif view is None or "visibility" in cleaned:
        role_ids = []
    if errors:
        raise ValidationFailed(errors)
    sharing = visibility != V.PRIVATE and ("visibility" in cleaned or "role_ids" in data)
    if sharing and not can_share(actor):
        raise NotPermitted(_("Only administrators and managers may share views."))
    return cleaned, role_ids


def _snapshot(view: SavedView, role_ids: list[int]) -> dict[str, Any]:
    return {
        "name": view.name,
        "query": view.query,
        "columns": view.columns,
        "visibility": view.visibility,
        "roles": role_ids,
    }


def saved_view_create(
    *, actor: User, entity: str, data: dict[str, Any], make_default: bool = False
) -> SavedView:
    """Save a view of ``entity``'s list for ``actor``.

    ``data``: ``name`` (unique per user and list), ``query`` (the list's query-string
    parameters; unknown keys are a 422), ``columns`` (column keys in order; empty keeps
    each viewer's own), ``visibility`` (private / everyone / roles) and ``role_ids``.
    Sharing needs an administrator or manager (403 otherwise).
    """
    lists.spec(entity)
    permissions.require(actor, entity, "view")
    if SavedView.objects.filter(entity=entity, owner=actor).count() >= MAX_VIEWS_PER_LIST:
        raise ValidationFailed(
            [FieldError("name", _("At most %(n)d views per list.") % {"n": MAX_VIEWS_PER_LIST})]
        )
    payload = {"query": {}, "columns": [], "visibility": V.PRIVATE, **data}
    cleaned, role_ids = _clean(actor=actor, entity=entity, data=payload, view=None)
    try:
        with transaction.atomic():
            view = SavedView.objects.create(entity=entity, owner=actor, **cleaned)
            if role_ids:
                view.roles.set(role_ids)
            audit.record(
                actor=actor,
                action=A.CREATE,
                entity="saved_view",
                obj=view,
                changes=audit.diff({}, _snapshot(view, role_ids or [])),
            )
            if make_default:
                _set_preference(actor, entity, default_view=view)
            events.emit(VIEW_CREATED, {"id": view.pk, "entity": entity}, actor_id=actor.pk)
    except IntegrityError as exc:  # a concurrent save with the same name
        raise ValidationFailed(
            [FieldError("name", _("You already have a view with this name."))]
        ) from exc
    transaction.on_commit(forget)
    forget()
    return view


def saved_view_update(*, actor: User, view: SavedView, data: dict[str, Any]) -> SavedView:
    """Rename, re-filter, re-column or re-share a view (partial). Owner only (and
    administrators for shared views)."""
    view = saved_view_get_for_user(actor=actor, pk=view.pk, action="edit")
    cleaned, role_ids = _clean(actor=actor, entity=view.entity, data=data, view=view)
    with transaction.atomic():
        old_roles = sorted(view.roles.values_list("id", flat=True))
        before = _snapshot(view, old_roles)
        for key, value in cleaned.items():
            setattr(view, key, value)
        view.save()
        if role_ids is not None and role_ids != old_roles:
            view.roles.set(role_ids)
        changes = audit.diff(
            before, _snapshot(view, role_ids if role_ids is not None else old_roles)
        )
        if changes:
            audit.record(
                actor=actor, action=A.UPDATE, entity="saved_view", obj=view, changes=changes
            )
            events.emit(VIEW_UPDATED, {"id": view.pk, "changes": list(changes)}, actor_id=actor.pk)
    transaction.on_commit(forget)
    forget()
    return view


def saved_view_delete(*, actor: User, view: SavedView) -> None:
    """Delete a view (owner; administrators for shared views). Users who had it as their
    default fall back to the plain list."""
    view = saved_view_get_for_user(actor=actor, pk=view.pk, action="edit")
    with transaction.atomic():
        audit.record(
            actor=actor,
            action=A.DELETE,
            entity="saved_view",
            obj=view,
            changes={"name": [view.name, None]},
        )
        pk, entity = view.pk, view.entity
        view.delete()
        events.emit(VIEW_DELETED, {"id": pk, "entity": entity}, actor_id=actor.pk)
    transaction.on_commit(forget)
    forget()


def _set_preference(
    actor: User, entity: str, *, columns: Any = KEEP, default_view: Any = KEEP
) -> ListPreference:
    pref, _created = ListPreference.objects.select_for_update().get_or_create(
        user=actor, entity=entity
    )
    if columns is not KEEP:
        pref.columns = columns
    if default_view is not KEEP:
        pref.default_view = default_view
    pref.save()
    return pref


def list_preference_save(
    *, actor: User, entity: str, columns: Any = KEEP, default_view_id: Any = KEEP
) -> ListPreference:
    """Remember ``actor``'s columns (keys in order; [] = the defaults) and default view
    (a view they may open, or None) for ``entity``'s list."""
    lists.spec(entity)
    permissions.require(actor, entity, "view")
    cleaned_columns = KEEP if columns is KEEP else lists.clean_columns(entity, columns or [])
    default_view: Any = KEEP
    if default_view_id is not KEEP:
        if default_view_id is None:
            default_view = None
        else:
            try:
                default_view = saved_view_get_for_user(actor=actor, pk=default_view_id)
            except OutOfScope as exc:
                raise ValidationFailed([FieldError("default_view_id", _("No such view."))]) from exc
            if default_view.entity != entity:
                raise ValidationFailed(
                    [FieldError("default_view_id", _("This view belongs to another list."))]
                )
    with transaction.atomic():
        pref = _set_preference(actor, entity, columns=cleaned_columns, default_view=default_view)
    transaction.on_commit(forget)
    forget()
    return pref
