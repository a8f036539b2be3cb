"""Pages of the account pool (客户公海), the pool settings and the department pools.

Thin: reads through ``guanxi.leads.pool.selectors``, writes through ``guanxi.leads.pool``.
The lead pool pages live in ``guanxi.leads.views`` with the other lead pages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from guanxi.core import permissions
from guanxi.core.errors import DomainError, NotPermitted, OutOfScope, ValidationFailed
from guanxi.customers.views import actor_of, require_can
from guanxi.identity.models import Department
from guanxi.leads import pool
from guanxi.leads.models import Pool, PoolSettings
from guanxi.leads.pool import selectors as pool_selectors
from guanxi.leads.pool.settings import LIMITS
from guanxi.web.forms import apply_domain_errors, flash_domain_error

if TYPE_CHECKING:
    from guanxi.identity.models import User


def _require_admin(actor: User) -> None:
    if not permissions.is_admin(actor):
        raise PermissionDenied


def pool_page_context(request: HttpRequest, actor: User, entity: str) -> dict[str, Any]:
    """What both pool pages show: the visible pools, the filtered page and the preview."""
    q = (request.GET.get("q") or "").strip()
    chosen = request.GET.get("pool") or ""
    tier = (request.GET.get("tier") or "") if entity == "account" else ""
    try:
        page = pool_selectors.pool_list(
            actor=actor,
            entity=entity,
            q=q,
            pool=chosen,
            tier=tier,
            page=request.GET.get("page", 1),
        )
    except ValidationFailed as exc:
        flash_domain_error(request, exc)
        chosen, tier = "", ""
        page = pool_selectors.pool_list(actor=actor, entity=entity, q=q)
    admin = permissions.is_admin(actor)
    pools = pool.visible_pools(actor, entity)
    return {
        "page": page,
        "q": q,
        "pool": chosen,
        "tier": tier,
        "pools": [("company" if d is None else str(d), name) for d, name in pools],
        "pool_names": dict(pools),
        "is_admin": admin,
        "can_claim": permissions.can(actor, entity, "edit"),
        "preview": pool.reclaim_preview(entity=entity, limit=0) if admin else None,
    }


@login_required
def account_pool(request: HttpRequest) -> HttpResponse:
    """The account pool: unowned accounts in the pools the user sees, to claim."""
    actor = actor_of(request)
    require_can(actor, "account", "view")
    return render(request, "leads/account_pool.html", pool_page_context(request, actor, "account"))


def _pool_write(request: HttpRequest, call: Any) -> bool:
    try:
        call()
    except OutOfScope as exc:
        raise Http404 from exc
    except NotPermitted as exc:
        raise PermissionDenied from exc
    except DomainError as exc:
        flash_domain_error(request, exc)
        return False
    return True


@login_required
@require_POST
def account_claim(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    result: dict[str, Any] = {}

    def call() -> None:
        result["account"] = pool.account_claim(actor=actor, account=pk)

    if not _pool_write(request, call):
        if request.POST.get("next") == "detail":
            return redirect("customers:account_detail", pk=pk)
        return redirect("pool:accounts")
    messages.success(request, _("Claimed %(name)s.") % {"name": str(result["account"])})
    return redirect("customers:account_detail", pk=pk)


@login_required
@require_POST
def account_release(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)

    def call() -> None:
        pool.account_release(actor=actor, account=pk, reason=request.POST.get("reason", ""))

    if not _pool_write(request, call):
        return redirect("customers:account_detail", pk=pk)
    messages.success(request, _("Released to the public pool."))
    return redirect("pool:accounts")


@login_required
@require_POST
def account_lock(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    locked = request.POST.get("locked") == "1"

    def call() -> None:
        pool.account_lock(actor=actor, account=pk, locked=locked)

    if _pool_write(request, call):
        messages.success(request, _("Locked.") if locked else _("Unlocked."))
    return redirect("customers:account_detail", pk=pk)


# --- Settings and department pools (administrators) -------------------------------------

_SETTING_LABELS = {
    "max_owned": gettext_lazy("Most leads one user may own"),
    "max_locked": gettext_lazy("Most locked leads per user"),
    "max_owned_accounts": gettext_lazy("Most accounts one user may own"),
    "max_locked_accounts": gettext_lazy("Most locked accounts per user"),
    "cooldown_days": gettext_lazy("Cool-down before re-claiming a record one gave up (days)"),
}


class PoolSettingsForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, (low, high) in LIMITS.items():
            self.fields[name] = forms.IntegerField(
                label=_SETTING_LABELS[name], min_value=low, max_value=high
            )


class PoolForm(forms.Form):
    department = forms.ModelChoiceField(
        label=gettext_lazy("Department"), queryset=Department.objects.order_by("path")
    )
    name = forms.CharField(
        label=gettext_lazy("Pool name"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("Empty: named after the department."),
    )


@login_required
def pool_settings(request: HttpRequest) -> HttpResponse:
    """Administrators: caps and cool-down, and which departments have their own pool."""
    actor = actor_of(request)
    _require_admin(actor)
    conf = PoolSettings.current()
    posted = request.method == "POST" and request.POST.get("form") == "settings"
    form = PoolSettingsForm(
        request.POST if posted else None,
        initial={name: getattr(conf, name) for name in LIMITS},
    )
    if posted and form.is_valid():
        try:
            pool.settings_save(actor=actor, data=form.cleaned_data)
        except ValidationFailed as exc:
            apply_domain_errors(form, exc)
        else:
            messages.success(request, _("Pool settings saved."))
            return redirect("pool:settings")
    adding = request.method == "POST" and request.POST.get("form") == "pool"
    pool_form = PoolForm(request.POST if adding else None)
    if adding and pool_form.is_valid():
        try:
            pool.pool_create(
                actor=actor,
                department=pool_form.cleaned_data["department"],
                name=pool_form.cleaned_data["name"],
            )
        except ValidationFailed as exc:
            apply_domain_errors(pool_form, exc)
        else:
            messages.success(request, _("Department pool created."))
            return redirect("pool:settings")
    return render(
        request,
        "leads/pool_settings.html",
        {
            "form": form,
            "pool_form": pool_form,
            "pools": list(Pool.objects.select_related("department").order_by("department__path")),
        },
        status=422 if (posted and form.errors) or (adding and pool_form.errors) else 200,
    )


@login_required
@require_POST
def pool_remove(request: HttpRequest, department_pk: int) -> HttpResponse:
    actor = actor_of(request)
    _require_admin(actor)
    found = get_object_or_404(Pool, department_id=department_pk)
    moved = pool.pool_delete(actor=actor, pool=found)
    messages.success(
        request,
        _("Pool removed; %(count)s records moved to the next pool up.")
        % {"count": sum(moved.values())},
    )
    return redirect("pool:settings")
