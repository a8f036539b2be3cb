"""Pages: forecast, attainment (业绩达成) and the targets grid (业绩目标). Thin: reads through
``guanxi.sales.forecast`` / ``guanxi.sales.targets``, writes through the targets services.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from guanxi.core import permissions
from guanxi.core.errors import NotPermitted, ValidationFailed
from guanxi.customers.views import actor_of
from guanxi.sales import forecast, measures, periods, targets
from guanxi.sales.models import Pipeline, SalesTarget

MEASURE_LABELS = dict(SalesTarget.Measure.choices)


def _period(
    request: HttpRequest, default_kind: str = periods.QUARTER
) -> tuple[periods.Period, list[str]]:
    errors: list[str] = []
    try:
        period = periods.parse(request.GET.get("period"), default=periods.current(default_kind))
    except ValidationFailed as exc:
        errors = [str(e.message) for e in exc.errors]
        period = periods.current(default_kind)
    return period, errors


def _period_context(request: HttpRequest, period: periods.Period) -> dict[str, Any]:
    today = periods.company_today()
    params = request.GET.copy()

    def link(p: periods.Period) -> str:
        params["period"] = p.key
        return f"?{params.urlencode()}"

    return {
        "period": period,
        "previous_url": link(period.shifted(-1)),
        "next_url": link(period.shifted(1)),
        "period_choices": [
            (periods.current(periods.MONTH, today), _("This month")),
            (periods.current(periods.QUARTER, today), _("This quarter")),
            (periods.current(periods.YEAR, today), _("This year")),
        ],
    }


@login_required
def forecast_page(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    if not permissions.can(actor, "deal", "view"):
        raise PermissionDenied
    period, errors = _period(request)
    try:
        group_by = forecast.clean_group_by(request.GET.get("group_by"))
    except ValidationFailed as exc:
        errors += [str(e.message) for e in exc.errors]
        group_by = "owner"
    try:
        pipeline = forecast.clean_pipeline(request.GET.get("pipeline"))
    except ValidationFailed as exc:
        errors += [str(e.message) for e in exc.errors]
        pipeline = None
    for error in errors:
        messages.error(request, error)
    report = forecast.deal_forecast(
        actor=actor, period=period, group_by=group_by, pipeline=pipeline
    )
    return render(
        request,
        "sales/forecast.html",
        {
            **_period_context(request, period),
            "report": report,
            "group_by": group_by,
            "group_choices": [
                ("owner", _("Owner")),
                ("department", _("Department")),
                ("pipeline", _("Pipeline")),
            ],
            "pipelines": list(Pipeline.objects.filter(active=True)),
            "pipeline": pipeline,
            "nav": "forecast",
        },
    )


def _measure(request: HttpRequest) -> str:
    value = request.GET.get("measure") or SalesTarget.Measure.WON_AMOUNT
    return value if value in SalesTarget.Measure.values else SalesTarget.Measure.WON_AMOUNT


@login_required
def attainment_page(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    if not permissions.can(actor, "target", "view"):
        raise PermissionDenied
    period, errors = _period(request)
    for error in errors:
        messages.error(request, error)
    available = measures.available_measures()
    measure = _measure(request)
    if measure not in available:
        measure = available[0]
    report = forecast.attainment(actor=actor, period=period, measure=measure)
    return render(
        request,
        "sales/attainment.html",
        {
            **_period_context(request, period),
            "report": report,
            "measure": measure,
            "measure_label": MEASURE_LABELS[measure],
            "measures": [(m, MEASURE_LABELS[m]) for m in available],
            "is_money": measure in targets.MONEY_MEASURES,
            "can_set_targets": permissions.can(actor, "target", "edit")
            or permissions.can(actor, "target", "create"),
            "nav": "attainment",
        },
    )


def _grid_rows(request: HttpRequest, kind: str) -> list[targets.GridRow]:
    """The submitted rows: cells named ``<kind>-<id>-<month>``, ``<kind>-<id>-currency``."""
    rows: list[targets.GridRow] = []
    for raw_id in request.POST.getlist("row"):
        try:
            subject_id = int(raw_id)
        except ValueError:
            continue
        key = f"{kind}-{subject_id}"
        rows.append(
            targets.GridRow(
                kind=kind,
                id=subject_id,
                currency=request.POST.get(f"{key}-currency"),
                months={m: request.POST.get(f"{key}-{m}", "") for m in range(1, 13)},
            )
        )
    return rows


@login_required
def targets_page(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    if not permissions.can(actor, "target", "view"):
        raise PermissionDenied
    source = request.POST if request.method == "POST" else request.GET
    measure = source.get("measure") or SalesTarget.Measure.WON_AMOUNT
    if measure not in SalesTarget.Measure.values:
        measure = SalesTarget.Measure.WON_AMOUNT
    kind = "department" if source.get("kind") == "department" else "user"
    try:
        year = targets.clean_year(source.get("year") or periods.company_today().year)
    except ValidationFailed as exc:
        messages.error(request, exc.message)
        year = periods.company_today().year
    cell_errors: dict[str, str] = {}
    submitted: dict[str, str] = {}
    if request.method == "POST":
        rows = _grid_rows(request, kind)
        try:
            result = targets.target_grid_save(actor=actor, measure=measure, year=year, rows=rows)
        except NotPermitted as exc:
            raise PermissionDenied from exc
        except ValidationFailed as exc:
            cell_errors = {e.field: str(e.message) for e in exc.errors}
            submitted = {
                k: str(request.POST.get(k, "")) for k in request.POST if k.startswith(f"{kind}-")
            }
            messages.error(request, _("Nothing was saved: correct the marked cells."))
        else:
            messages.success(
                request,
                _("Targets saved: %(created)s added, %(updated)s changed, %(deleted)s removed.")
                % {"created": result.created, "updated": result.updated, "deleted": result.deleted},
            )
            return redirect(
                f"{reverse('forecast:targets')}?year={year}&measure={measure}&kind={kind}"
            )
    lines = targets.target_grid(actor=actor, measure=measure, year=year, kind=kind)
    grid = []
    for line in lines:
        cells: list[dict[str, Any]] = []
        for month, value in line.cells:
            name = f"{line.key}-{month}"
            cells.append(
                {
                    "name": name,
                    "month": month,
                    "label": _month_label(month),
                    "value": submitted.get(name, value),
                    "error": cell_errors.get(name, ""),
                }
            )
            if month % 3 == 0:
                cells.append({"quarter": month // 3, "value": line.quarters[month // 3 - 1]})
        grid.append(
            {
                "line": line,
                "cells": cells,
                "currency": submitted.get(f"{line.key}-currency", line.currency),
                "currency_error": cell_errors.get(f"{line.key}-currency", ""),
                "row_error": cell_errors.get(line.key, ""),
            }
        )
    header: list[tuple[str, bool]] = []
    for month in range(1, 13):
        header.append((_month_label(month), False))
        if month % 3 == 0:
            header.append((_("Q%(quarter)s") % {"quarter": month // 3}, True))
    return render(
        request,
        "sales/targets.html",
        {
            "grid": grid,
            "measure": measure,
            "measures": SalesTarget.Measure.choices,
            "is_money": measure in targets.MONEY_MEASURES,
            "kind": kind,
            "year": year,
            "years": [year - 1, year, year + 1],
            "header": header,
            "spread_prompt": _("Target for the whole year, spread evenly over the 12 months:"),
            "any_editable": any(line.editable for line in lines),
            "nav": "targets",
        },
    )


def _month_label(month: int) -> str:
    return _("Month %(month)s") % {"month": month}


def home_panel(request: HttpRequest) -> dict[str, Any] | None:
    """The "my targets" panel of the home page: this month and quarter, every measure."""
    actor = actor_of(request)
    if not permissions.can(actor, "target", "view"):
        return None
    today = periods.company_today()
    month, quarter = periods.current(periods.MONTH, today), periods.current(periods.QUARTER, today)
    rows: list[dict[str, Any]] = []
    anything = False
    for period, measure, line in forecast.my_attainment(actor=actor, periods=[month, quarter]):
        anything = anything or (line is not None and (line.target is not None or bool(line.actual)))
        rows.append(
            {
                "period": period,
                "measure": measure,
                "label": MEASURE_LABELS[measure],
                "line": line,
                "is_money": measure in targets.MONEY_MEASURES,
            }
        )
    # Someone with neither a target nor a result (an administrator, a service agent) gets
    # no empty panel.
    if not anything:
        return None
    return {"rows": rows, "month": month, "quarter": quarter}
