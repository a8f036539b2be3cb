"""Report pages and the home dashboards (thin: parse the request, call selectors)."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.core import permissions
from guanxi.core.errors import DomainError, NotPermitted, OutOfScope, ValidationFailed
from guanxi.identity.models import Department, User
from guanxi.reports import charts, dashboard, periods, selectors, services
from guanxi.reports.forms import CampaignCostForm
from guanxi.web.forms import flash_domain_error
from guanxi.web.panels import panels_for


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _departments(actor: User) -> list[Department]:
    """Departments the actor's deal scope covers (for the department filter)."""
    scope = permissions.scope_of(actor, "deal")
    qs = Department.objects.order_by("path")
    if scope == "all":
        return list(qs)
    if scope == "subtree" and actor.department is not None:
        return list(qs.filter(path__startswith=actor.department.path))
    if scope == "department" and actor.department_id is not None:
        return list(qs.filter(pk=actor.department_id))
    return []


def _period(request: HttpRequest) -> periods.Period:
    try:
        return periods.parse(request.GET)
    except ValidationFailed as exc:
        flash_domain_error(request, exc)
        return periods.preset("month")


def _department(request: HttpRequest, allowed: list[Department]) -> str:
    value = request.GET.get("department", "")
    return value if value and any(str(d.pk) == value for d in allowed) else ""


def _common(request: HttpRequest, nav: str) -> dict[str, Any]:
    actor = _actor(request)
    depts = _departments(actor)
    return {
        "period": _period(request),
        "presets": periods.PRESETS,
        "departments": depts,
        "department": _department(request, depts),
        "nav": nav,
    }


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The home page with the dashboard of the user's role (``?view=`` a narrower one)."""
    actor = _actor(request)
    allowed = dashboard.views_for(actor)
    ctx: dict[str, Any] = {
        "department_obj": actor.department,
        "roles": list(actor.roles.all()),
        "nav": "home",
        "views": [(v, label) for v, label in _view_labels() if v in allowed],
        "panels": panels_for(request),
    }
    if allowed:
        view = request.GET.get("view") or allowed[-1]
        if view not in allowed:
            view = allowed[-1]
        ctx.update(_common(request, "home"))
        ctx["view"] = view
        period, dept = ctx["period"], ctx["department"]
        try:
            if view == "sales":
                ctx["sales"] = dashboard.sales_dashboard(actor=actor)
            elif view == "manager":
                ctx["manager"] = dashboard.manager_dashboard(
                    actor=actor, period=period, department=dept
                )
                stages = ctx["manager"]["funnel"]["stages"]
                ctx["funnel_chart"] = charts.funnel(
                    _("Funnel"), [s["stage"] for s in stages], [s["count"] for s in stages]
                )
            else:
                ctx["management"] = dashboard.management_dashboard(
                    actor=actor, period=period, department=dept
                )
        except ValidationFailed as exc:
            flash_domain_error(request, exc)
    return render(request, "reports/dashboard.html", ctx)


@login_required
def quality_card(request: HttpRequest) -> HttpResponse:
    """The data-quality ranking (数据之星) of the manager dashboard, loaded after the page:
    it reads every lead in scope, so it must not hold up the dashboard's figures."""
    actor = _actor(request)
    _guard(actor, "lead")
    return render(
        request, "reports/_quality.html", {"quality": dashboard.quality_ranking(actor=actor)}
    )


def _view_labels() -> list[tuple[str, str]]:
    return [("sales", _("My work")), ("manager", _("Team")), ("management", _("Company"))]


def _guard(actor: User, entity: str) -> None:
    if not permissions.can(actor, entity, "view"):
        raise PermissionDenied


@login_required
def index(request: HttpRequest) -> HttpResponse:
    _guard(_actor(request), "deal")
    from django.urls import NoReverseMatch, reverse

    extra = []
    for name, label in (
        ("finance:receivables", _("Receivables aging")),
        ("forecast:forecast", _("Forecast")),
        ("forecast:attainment", _("Attainment")),
    ):
        try:
            extra.append((reverse(name), label))
        except NoReverseMatch:
            continue
    return render(request, "reports/index.html", {"extra": extra, "nav": "reports"})


@login_required
def funnel(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    _guard(actor, "deal")
    ctx = _common(request, "reports")
    ctx["pipelines"] = selectors.Pipeline.objects.filter(active=True)
    ctx["pipeline"] = request.GET.get("pipeline", "")
    try:
        data = selectors.funnel(
            actor=actor,
            period=ctx["period"],
            pipeline=ctx["pipeline"],
            department=ctx["department"],
            owner=request.GET.get("owner", ""),
        )
    except ValidationFailed as exc:
        flash_domain_error(request, exc)
        data = selectors.funnel(actor=actor, period=ctx["period"])
    for row in data["stages"]:
        row["url"] = dashboard.url(
            "sales:deal_list",
            reached_stage=row["stage_id"],
            reached_from=ctx["period"].start.isoformat(),
            reached_to=ctx["period"].last_day.isoformat(),
            department=ctx["department"],
        )
    ctx["data"] = data
    ctx["chart"] = charts.funnel(
        _("Funnel"), [s["stage"] for s in data["stages"]], [s["count"] for s in data["stages"]]
    )
    return render(request, "reports/funnel.html", ctx)


@login_required
def channels(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    _guard(actor, "lead")
    ctx = _common(request, "reports")
    data = selectors.channels(actor=actor, period=ctx["period"])
    ctx["data"] = data
    ctx["chart"] = charts.stacked_bar(
        _("Leads per source"),
        [r["source_name"] for r in data["rows"]],
        [
            charts.Series(_("Converted"), [r["converted"] for r in data["rows"]]),
            charts.Series(_("Not converted"), [r["leads"] - r["converted"] for r in data["rows"]]),
        ],
    )
    ctx["can_costs"] = permissions.can(actor, "campaign_cost", "view")
    return render(request, "reports/channels.html", ctx)


@login_required
def performance(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    _guard(actor, "deal")
    ctx = _common(request, "reports")
    data = selectors.performance(actor=actor, period=ctx["period"], department=ctx["department"])
    ctx["data"] = data
    ctx["chart"] = charts.bar(
        _("Deals won per person"),
        [r["user"] for r in data["users"][:15]],
        [r["deals_won"] for r in data["users"][:15]],
    )
    return render(request, "reports/performance.html", ctx)


@login_required
def customers(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    _guard(actor, "account")
    data = selectors.customers(actor=actor)
    labels = {
        "industry": _("Industry"),
        "province": _("Region"),
        "tier": _("Tier"),
        "size": _("Size"),
        "lifecycle_stage": _("Lifecycle stage"),
    }
    sections = []
    for dim, rows in data["distribution"].items():
        names = [r["value"] or _("(empty)") for r in rows]
        sections.append(
            {
                "key": dim,
                "label": labels[dim],
                "rows": rows,
                "chart": charts.donut(labels[dim], names, [r["count"] for r in rows]),
            }
        )
    return render(
        request,
        "reports/customers.html",
        {"data": data, "sections": sections, "nav": "reports"},
    )


@login_required
def lost(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    _guard(actor, "deal")
    ctx = _common(request, "reports")
    data = selectors.lost(actor=actor, period=ctx["period"], department=ctx["department"])
    for row in data["by_reason"]:
        row["url"] = dashboard.url(
            "sales:deal_list",
            status="lost",
            loss_reason=row["reason_id"],
            closed_from=ctx["period"].start.isoformat(),
            closed_to=ctx["period"].last_day.isoformat(),
            department=ctx["department"],
        )
    ctx["data"] = data
    ctx["chart"] = charts.donut(
        _("Lost deals by reason"),
        [r["reason"] for r in data["by_reason"]],
        [r["count"] for r in data["by_reason"]],
    )
    return render(request, "reports/lost.html", ctx)


@login_required
def campaign_costs(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    _guard(actor, "campaign_cost")
    form = CampaignCostForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.campaign_cost_save(actor=actor, data=form.cleaned_data)
        except NotPermitted as exc:
            raise PermissionDenied from exc
        except ValidationFailed as exc:
            for error in exc.errors:
                form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, _("Campaign cost saved."))
            return redirect("reports:campaign_costs")
    return render(
        request,
        "reports/campaign_costs.html",
        {
            "form": form,
            "costs": selectors.campaign_cost_list(actor=actor),
            "can_edit": permissions.can(actor, "campaign_cost", "create"),
            "can_delete": permissions.can(actor, "campaign_cost", "delete"),
            "nav": "reports",
        },
    )


@login_required
@require_POST
def campaign_cost_delete(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        services.campaign_cost_delete(actor=_actor(request), pk=pk)
    except (NotPermitted, OutOfScope) as exc:
        raise PermissionDenied from exc
    except DomainError as exc:
        flash_domain_error(request, exc)
    else:
        messages.success(request, _("Campaign cost deleted."))
    return redirect("reports:campaign_costs")
