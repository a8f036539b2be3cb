"""Thin views of the analytics pages and the report builder."""

from __future__ import annotations

import io
import json
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.core import permissions
from guanxi.core.errors import DomainError, NotPermitted, OutOfScope, ValidationFailed
from guanxi.identity.models import Role, User
from guanxi.reports import charts
from guanxi.reports.analytics import cohorts as cohort_selectors
from guanxi.reports.analytics import selectors, services
from guanxi.reports.analytics.scores import POINTS, THRESHOLD
from guanxi.reports.builder import engine
from guanxi.reports.builder import selectors as saved_selectors
from guanxi.reports.builder import services as builder_services
from guanxi.reports.builder.fields import BUCKETS, ENTITIES, MEASURES, NUMERIC, OPERATORS
from guanxi.web.forms import flash_domain_error


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _need(actor: User, key: str) -> None:
    if not permissions.can(actor, key, "view"):
        raise PermissionDenied


@login_required
def rfm(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    _need(actor, "account")
    summary = selectors.rfm_summary(actor=actor)
    segment = request.GET.get("segment", "")
    try:
        page = selectors.rfm_list(actor=actor, segment=segment, page=request.GET.get("page", 1))
    except ValidationFailed as exc:
        flash_domain_error(request, exc)
        segment = ""
        page = selectors.rfm_list(actor=actor)
    chart = charts.bar(
        _("Accounts per segment"),
        [s["label"] for s in summary["segments"]],
        [s["accounts"] for s in summary["segments"]],
    )
    return render(
        request,
        "reports/analytics/rfm.html",
        {
            "summary": summary,
            "chart": chart,
            "page": page,
            "rows": [selectors.score_as_dict(s) for s in page.items],
            "segment": segment,
        },
    )


@login_required
@require_POST
def refresh(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    try:
        result = services.scores_refresh(actor=actor)
    except NotPermitted as exc:
        raise PermissionDenied from exc
    messages.success(
        request,
        _("Scores recomputed: %(n)s customers, %(r)s at risk.")
        % {"n": result["customers"], "r": result["at_risk"]},
    )
    target = request.POST.get("next") or ""
    return redirect(target if target.startswith("/reports/") else reverse("analytics:rfm"))


@login_required
def churn(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    _need(actor, "account")
    show_all = request.GET.get("all") == "1"
    page = selectors.churn_list(actor=actor, page=request.GET.get("page", 1), all_=show_all)
    return render(
        request,
        "reports/analytics/churn.html",
        {
            "page": page,
            "rows": [selectors.score_as_dict(s) for s in page.items],
            "threshold": THRESHOLD,
            "points": POINTS,
            "show_all": show_all,
        },
    )


@login_required
def cohort_page(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    _need(actor, "deal")
    data = cohort_selectors.cohorts(actor=actor)
    width = max((len(c["active"]) for c in data["cohorts"]), default=0)
    heat = charts.heat_map(
        _("Share of each cohort buying again, by months since the first win (%)"),
        [c["cohort"] for c in data["cohorts"]],
        [f"+{k}" for k in range(width)],
        [
            [round(r * 100) for r in c["retention"]] + [0] * (width - len(c["retention"]))
            for c in data["cohorts"]
        ],
    )
    return render(
        request,
        "reports/analytics/cohorts.html",
        {"data": data, "heat": heat, "width": range(width)},
    )


# --- Report builder ----------------------------------------------------------------------


def definition_from(params: Any) -> dict[str, Any] | None:
    """A definition from the builder form's fields (or its ``definition`` JSON)."""
    if params.get("definition"):
        raw = json.loads(params["definition"])
        return cast(dict[str, Any], raw) if isinstance(raw, dict) else None
    entity = params.get("entity")
    if not entity:
        return None
    dims = []
    for i in (1, 2):
        name = params.get(f"d{i}")
        if name:
            dims.append(
                {"field": name, **({"bucket": params[f"b{i}"]} if params.get(f"b{i}") else {})}
            )
    measures = []
    for value in params.getlist("m") if hasattr(params, "getlist") else params.get("m", []):
        if not value:
            continue
        op, _sep, name = str(value).partition(":")
        measures.append({"op": op, **({"field": name} if name else {})})
    filters = []
    for i in (1, 2, 3):
        name = params.get(f"f{i}")
        if name:
            filters.append(
                {"field": name, "op": params.get(f"o{i}") or "eq", "value": params.get(f"v{i}", "")}
            )
    return {"entity": entity, "dimensions": dims, "measures": measures, "filters": filters}


def _form_context(actor: User, definition: dict[str, Any] | None) -> dict[str, Any]:
    from guanxi.core import custom_fields

    entities = []
    for key, ent in ENTITIES.items():
        if not permissions.can(actor, ent.permission_key, "view"):
            continue
        fields = [(name, str(f.label), f.kind) for name, f in ent.fields.items()]
        custom = (
            [
                (f"custom.{c.key}", str(c.label_zh or c.key))
                for c in custom_fields.definitions(ent.permission_key)
            ]
            if ent.custom
            else []
        )
        measures = [("count", _("Count"))]
        for name, f in ent.fields.items():
            if f.kind in NUMERIC:
                measures += [
                    (f"sum:{name}", f"{_('Sum')}: {f.label}"),
                    (f"avg:{name}", f"{_('Average')}: {f.label}"),
                ]
        measures += [
            (f"distinct:{n}", f"{_('Distinct')}: {f.label}")
            for n, f in ent.fields.items()
            if f.kind in ("ref", "user", "text")
        ]
        entities.append(
            {
                "key": key,
                "label": str(ent.label),
                "fields": fields,
                "custom": custom,
                "measures": measures,
            }
        )
    d = definition or {}
    dims = d.get("dimensions") or []
    filters = d.get("filters") or []
    return {
        "entities": entities,
        "entities_json": json.dumps(entities, ensure_ascii=False),
        "buckets": BUCKETS,
        "operators": OPERATORS,
        "chosen": {
            "entity": d.get("entity", ""),
            "d1": dims[0].get("field", "") if len(dims) > 0 else "",
            "b1": dims[0].get("bucket", "") if len(dims) > 0 else "",
            "d2": dims[1].get("field", "") if len(dims) > 1 else "",
            "b2": dims[1].get("bucket", "") if len(dims) > 1 else "",
            "m": [
                m["op"] + (f":{m['field']}" if m.get("field") else "")
                for m in d.get("measures") or []
            ],
            "filters": [*filters, *([{}] * max(0, 3 - len(filters)))][:3]
            if len(filters) <= 3
            else filters,
        },
        "measure_ops": MEASURES,
    }


def _chart(result: dict[str, Any]) -> Any:
    rows = result["rows"]
    if not rows:
        return ""
    title = result["measure_labels"][0]

    def number(v: Any) -> Any:
        return (
            v
            if isinstance(v, int | float)
            else (
                float(v)
                if v is not None and str(v).replace(".", "", 1).lstrip("-").isdigit()
                else 0
            )
        )

    if len(result["dimension_labels"]) == 2:
        firsts: list[str] = []
        seconds: list[str] = []
        cells: dict[tuple[str, str], Any] = {}
        for r in rows:
            a, b = r["dimensions"][0]["label"], r["dimensions"][1]["label"]
            if a not in firsts:
                firsts.append(a)
            if b not in seconds:
                seconds.append(b)
            cells[(a, b)] = number(r["values"][0])
        series = [charts.Series(b, [cells.get((a, b), 0) for a in firsts]) for b in seconds[:8]]
        return charts.stacked_bar(title, firsts, series)
    if len(result["dimension_labels"]) == 1:
        return charts.bar(
            title,
            [r["dimensions"][0]["label"] for r in rows[:50]],
            [number(r["values"][0]) for r in rows[:50]],
        )
    return ""


@login_required
def builder(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    saved = list(saved_selectors.saved_reports(actor))
    definition: dict[str, Any] | None = None
    result = None
    opened = None
    try:
        if request.GET.get("saved"):
            opened = saved_selectors.saved_report_get(actor=actor, pk=request.GET["saved"])
            definition = opened.definition
        else:
            definition = definition_from(request.GET)
        if definition is not None:
            result = engine.run(actor=actor, definition=definition)
    except OutOfScope as exc:
        raise Http404 from exc
    except NotPermitted as exc:
        raise PermissionDenied from exc
    except (ValidationFailed, ValueError) as exc:
        if isinstance(exc, DomainError):
            flash_domain_error(request, exc)
        else:
            messages.error(request, _("The definition is not valid JSON."))
        result = None
    return render(
        request,
        "reports/builder/builder.html",
        {
            **_form_context(actor, definition),
            "result": result,
            "chart": _chart(result) if result else "",
            "definition_json": json.dumps(result["definition"], ensure_ascii=False)
            if result
            else "",
            "saved": saved,
            "opened": opened,
            "roles": Role.objects.order_by("code"),
            "can_export": result is not None
            and permissions.can(
                actor, ENTITIES[result["definition"]["entity"]].permission_key, "export"
            ),
        },
    )


@login_required
def builder_records(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    try:
        d, page = engine.records(
            actor=actor,
            definition=request.GET.get("definition", ""),
            page=request.GET.get("page", 1),
        )
    except NotPermitted as exc:
        raise PermissionDenied from exc
    except ValidationFailed as exc:
        flash_domain_error(request, exc)
        return redirect("analytics:builder")
    return render(
        request,
        "reports/builder/records.html",
        {
            "entity_label": d.entity.label,
            "page": page,
            "rows": [engine.record_row(d, obj) for obj in page.items],
            "filters": d.as_json()["filters"],
            "definition": request.GET.get("definition", ""),
        },
    )


@login_required
def builder_export(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    fmt = request.GET.get("format", "csv")
    out = io.BytesIO()
    name = f"report-{timezone.localtime():%Y%m%d-%H%M}.{fmt}"
    try:
        builder_services.report_export(
            actor=actor, definition=request.GET.get("definition", ""), out=out, fmt=fmt, name=name
        )
    except NotPermitted as exc:
        raise PermissionDenied from exc
    except ValidationFailed as exc:
        flash_domain_error(request, exc)
        return redirect("analytics:builder")
    content_type = (
        "text/csv; charset=utf-8"
        if fmt == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response = HttpResponse(out.getvalue(), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_POST
def builder_save(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    data: dict[str, Any] = {
        "name": request.POST.get("name", ""),
        "definition": request.POST.get("definition", ""),
        "shared_roles": request.POST.getlist("shared_roles"),
    }
    try:
        pk = request.POST.get("saved")
        if pk:
            report = saved_selectors.saved_report_get(actor=actor, pk=pk)
            report = builder_services.saved_report_update(actor=actor, report=report, data=data)
        else:
            report = builder_services.saved_report_create(actor=actor, data=data)
    except OutOfScope as exc:
        raise Http404 from exc
    except DomainError as exc:
        flash_domain_error(request, exc)
        return redirect(reverse("analytics:builder") + "?" + request.POST.get("query", ""))
    messages.success(request, _("Report saved."))
    return redirect(reverse("analytics:builder") + f"?saved={report.pk}")


@login_required
@require_POST
def saved_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    try:
        report = saved_selectors.saved_report_get(actor=actor, pk=pk)
        builder_services.saved_report_delete(actor=actor, report=report)
    except OutOfScope as exc:
        raise Http404 from exc
    except NotPermitted as exc:
        raise PermissionDenied from exc
    messages.success(request, _("Report deleted."))
    return redirect("analytics:builder")
