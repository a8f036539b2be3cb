"""What every list page shares: saved views (场景), the column chooser and bulk actions.

The list pages (leads, accounts, contacts) call :func:`list_state` to learn which saved
view, filters and columns apply, and :func:`page_context` for their template. The POST
endpoints here save views, columns and defaults, and run bulk actions in two steps (choose
what to do and confirm with the count, then apply). Thin: the work is done by
``guanxi.core.saved_views`` and ``guanxi.core.bulk``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qsl

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from guanxi.core import bulk, custom_fields, lists, permissions, saved_views
from guanxi.core.errors import DomainError, NotPermitted, OutOfScope, ValidationFailed
from guanxi.core.lists import Column
from guanxi.core.saved_views import ListContext, ViewInfo
from guanxi.web.forms import flash_domain_error

if TYPE_CHECKING:
    from guanxi.identity.models import User

UNDO_SESSION_KEY = "lists_undo"
# Never part of a saved view's query (paging, the view itself).
_TRANSIENT = {"page", "sv"}


def _actor(request: HttpRequest) -> User:
    return cast("User", request.user)


@dataclass
class ListState:
    entity: str
    ctx: ListContext
    view: ViewInfo | None
    params: QueryDict
    columns: list[Column]

    @property
    def column_keys(self) -> list[str]:
        return [c.key for c in self.columns]

    @property
    def query_string(self) -> str:
        """The filters and sort in effect (what "save view" and "all matching" use)."""
        params = self.params.copy()
        for key in _TRANSIENT:
            params.pop(key, None)
        return params.urlencode()


def list_state(request: HttpRequest, entity: str) -> ListState:
    """The saved view (``?sv=``, or the user's default on a bare URL), the filters in
    effect (the view's query overridden by the query string) and the columns to show.

    No query of its own: the viewer's views and preferences are cached."""
    actor = _actor(request)
    ctx = saved_views.list_context(actor=actor, entity=entity)
    view = ctx.view(request.GET.get("sv")) if request.GET.get("sv") else None
    if view is None and not request.GET and ctx.default_view_id is not None:
        view = ctx.view(ctx.default_view_id)
    params = QueryDict(mutable=True)
    if view is not None:
        for key, value in view.query.items():
            params[key] = value
    for key in request.GET:
        if key not in _TRANSIENT:
            params.setlist(key, request.GET.getlist(key))
    chosen = view.columns if view is not None and view.columns else ctx.columns
    return ListState(entity, ctx, view, params, lists.resolve(entity, chosen))


# (action, button label); the permission each needs is bulk.NEEDS[action].
BULK_ACTIONS = (
    ("edit", gettext_lazy("Edit a field")),
    ("add_tags", gettext_lazy("Add tags")),
    ("remove_tags", gettext_lazy("Remove tags")),
    ("transfer", gettext_lazy("Transfer")),
    ("delete", gettext_lazy("Delete")),
)


def can_bulk(actor: User, entity: str) -> bool:
    """Whether the list offers row selection (some bulk action is permitted at all)."""
    return any(permissions.can(actor, entity, bulk.NEEDS[a]) for a, _label in BULK_ACTIONS)


def page_context(request: HttpRequest, state: ListState, *, count: int) -> dict[str, Any]:
    """Template context for the shared list parts (views, columns, bulk bar)."""
    actor = _actor(request)
    chosen = state.column_keys
    every = lists.available(state.entity)
    ordered = [c for key in chosen for c in every if c.key == key]
    ordered += [c for c in every if c.key not in chosen]
    undo = (
        request.session.pop(UNDO_SESSION_KEY, None) if UNDO_SESSION_KEY in request.session else None
    )
    bulk_actions = [
        (action, label)
        for action, label in BULK_ACTIONS
        if permissions.can(actor, state.entity, bulk.NEEDS[action])
    ]
    return {
        "list": state,
        "entity": state.entity,
        "columns": state.columns,
        "column_choices": [(c, c.key in chosen) for c in ordered],
        "name_label": lists.spec(state.entity).name_label,
        "saved_views": state.ctx.views,
        "own_views": [v for v in state.ctx.views if v.mine],
        "current_view": state.view,
        "default_view_id": state.ctx.default_view_id,
        "can_share": state.ctx.can_share,
        "role_choices": state.ctx.role_choices,
        "bulk_actions": bulk_actions,
        "match_count": count,
        "undo": undo if isinstance(undo, dict) and undo.get("entity") == state.entity else None,
        "list_path": request.get_full_path(),
    }


def _list_url(entity: str) -> str:
    return reverse(lists.spec(entity).url_name)


def _next(request: HttpRequest, entity: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return _list_url(entity)


def _query_of(text: str) -> dict[str, str]:
    return {k: v for k, v in parse_qsl(text or "", keep_blank_values=False) if k not in _TRANSIENT}


def _entity(entity: str) -> str:
    try:
        lists.spec(entity)
    except ValidationFailed as exc:
        raise Http404 from exc
    return entity


# --- saved views and columns -------------------------------------------------------------


@login_required
@require_POST
def view_create(request: HttpRequest, entity: str) -> HttpResponse:
    """Save the current filters, sort and columns as a view."""
    entity = _entity(entity)
    actor = _actor(request)
    data: dict[str, Any] = {
        "name": request.POST.get("name", ""),
        "query": _query_of(request.POST.get("query", "")),
        "columns": [c for c in request.POST.get("columns", "").split(",") if c]
        if request.POST.get("with_columns")
        else [],
        "visibility": request.POST.get("visibility") or "private",
        "role_ids": request.POST.getlist("role_ids"),
    }
    try:
        view = saved_views.saved_view_create(
            actor=actor,
            entity=entity,
            data=data,
            make_default=request.POST.get("make_default") == "1",
        )
    except NotPermitted as exc:
        messages.error(request, exc.message)
        return redirect(_next(request, entity))
    except DomainError as exc:
        flash_domain_error(request, exc)
        return redirect(_next(request, entity))
    messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
    return redirect(f"{_list_url(entity)}?sv={view.pk}")


def _own_view(request: HttpRequest, pk: int) -> Any:
    try:
        return saved_views.saved_view_get_for_user(actor=_actor(request), pk=pk, action="edit")
    except OutOfScope as exc:
        raise Http404 from exc
    except NotPermitted as exc:
        raise PermissionDenied from exc


@login_required
@require_POST
def view_update(request: HttpRequest, pk: int) -> HttpResponse:
    """Rename a view, or replace its filters and columns with the current ones."""
    view = _own_view(request, pk)
    data: dict[str, Any] = {}
    if "name" in request.POST:
        data["name"] = request.POST["name"]
    if request.POST.get("replace_query") == "1":
        data["query"] = _query_of(request.POST.get("query", ""))
        data["columns"] = [c for c in request.POST.get("columns", "").split(",") if c]
    if "visibility" in request.POST:
        data["visibility"] = request.POST["visibility"]
        data["role_ids"] = request.POST.getlist("role_ids")
    try:
        saved_views.saved_view_update(actor=_actor(request), view=view, data=data)
    except DomainError as exc:
        flash_domain_error(request, exc)
    else:
        messages.success(request, _("View saved."))
    return redirect(_next(request, view.entity))


@login_required
@require_POST
def view_delete(request: HttpRequest, pk: int) -> HttpResponse:
    view = _own_view(request, pk)
    try:
        saved_views.saved_view_delete(actor=_actor(request), view=view)
    except DomainError as exc:
        flash_domain_error(request, exc)
        return redirect(_next(request, view.entity))
    messages.success(request, _("View “%(name)s” deleted.") % {"name": view.name})
    return redirect(f"{_list_url(view.entity)}?view=")


@login_required
@require_POST
def view_default(request: HttpRequest, entity: str) -> HttpResponse:
    """Make a view the one a bare list URL opens (empty: the plain list)."""
    entity = _entity(entity)
    raw = request.POST.get("default_view_id") or None
    try:
        saved_views.list_preference_save(actor=_actor(request), entity=entity, default_view_id=raw)
    except DomainError as exc:
        flash_domain_error(request, exc)
    else:
        messages.success(request, _("Default view saved."))
    return redirect(_next(request, entity))


@login_required
@require_POST
def columns_save(request: HttpRequest, entity: str) -> HttpResponse:
    """Remember the chosen columns in the chosen order (``reset``: the defaults)."""
    entity = _entity(entity)
    columns = [] if request.POST.get("reset") else request.POST.getlist("columns")
    try:
        saved_views.list_preference_save(actor=_actor(request), entity=entity, columns=columns)
    except DomainError as exc:
        flash_domain_error(request, exc)
    else:
        messages.success(request, _("Columns saved."))
    target = _next(request, entity)
    # A saved view with columns of its own would hide the choice: show the plain list's.
    if request.POST.get("view_has_columns") == "1":
        target = f"{_list_url(entity)}?view="
    return redirect(target)


# --- bulk actions ---------------------------------------------------------------------------


def _selection(request: HttpRequest) -> bulk.Selection:
    if request.POST.get("all_matching") == "1":
        return bulk.Selection(filter=_query_of(request.POST.get("query", "")))
    return bulk.Selection(ids=request.POST.getlist("ids"))


def _bulk_data(request: HttpRequest, action: str) -> dict[str, Any]:
    data: dict[str, Any] = {"action": action}
    if action == "edit":
        data["field"] = request.POST.get("field", "")
        data["value"] = request.POST.get("value", "")
    elif action in ("add_tags", "remove_tags"):
        data["tags"] = request.POST.get("tags", "")
    elif action == "transfer":
        choice = request.POST.get("to_user", "")
        data["to_user_id"] = None if choice == "pool" else choice
    return data


@login_required
@require_POST
def bulk_action(request: HttpRequest, entity: str) -> HttpResponse:
    """Step 1 (no ``confirmed``): the form for the chosen action with the number of records
    it will touch. Step 2 (``confirmed=1``): apply, report, offer undo."""
    entity = _entity(entity)
    actor = _actor(request)
    action = request.POST.get("action", "")
    bulk_spec = bulk.spec(entity)
    selection = _selection(request)
    back = _next(request, entity)
    try:
        count = bulk.selection_count(actor=actor, entity=entity, selection=selection)
    except ValidationFailed as exc:
        flash_domain_error(request, exc)
        return redirect(back)
    error = ""
    if request.POST.get("confirmed") == "1":
        try:
            result = bulk.bulk_apply(
                actor=actor, entity=entity, selection=selection, data=_bulk_data(request, action)
            )
        except ValidationFailed as exc:
            error = "; ".join(str(e.message) for e in exc.errors) or exc.message
        except DomainError as exc:
            error = exc.message
        else:
            level = messages.success if result.updated else messages.warning
            level(request, result.message())
            if result.undoable:
                request.session[UNDO_SESSION_KEY] = {
                    "id": result.operation_id,
                    "entity": entity,
                    "message": result.message(),
                }
            return redirect(back)
    elif action not in bulk.ACTIONS:
        messages.error(request, _("Choose what to do with the selected records."))
        return redirect(back)
    from guanxi.customers.forms import TransferForm

    custom = list(custom_fields.definitions(entity))
    return render(
        request,
        "web/bulk.html",
        {
            "entity": entity,
            "entity_label": permissions.entity(entity).label,
            "action": action,
            "count": count,
            "all_matching": selection.filter is not None,
            "ids": selection.ids or [],
            "query": request.POST.get("query", ""),
            "next": back,
            "fields": bulk_spec.fields,
            "field_choices": {f.name: f.choices() if f.choices else None for f in bulk_spec.fields},
            "custom_fields": custom,
            "transfer_form": TransferForm() if action == "transfer" else None,
            "posted": request.POST,
            "error": error,
        },
        status=422 if error else 200,
    )


@login_required
@require_POST
def bulk_undo(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    try:
        operation = bulk.operation_get(actor=actor, pk=pk)
    except OutOfScope as exc:
        raise Http404 from exc
    try:
        result = bulk.bulk_undo(actor=actor, operation_id=pk)
    except DomainError as exc:
        flash_domain_error(request, exc)
        return redirect(_next(request, operation.entity))
    messages.success(request, _("Undone: %(result)s") % {"result": result.message()})
    return redirect(_next(request, operation.entity))
