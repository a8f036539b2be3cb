"""Import wizard (upload → reading and mapping → preview and options → background run →
result with error report, duplicates and undo) and the export download.

Thin: reads through ``guanxi.importing.selectors``, writes through ``services``.
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.core import permissions
from guanxi.core.errors import DomainError, OutOfScope, ValidationFailed
from guanxi.importing import exporting, selectors, services
from guanxi.importing import fields as fieldmap
from guanxi.importing.engine import Options
from guanxi.importing.forms import SetupForm, UploadForm
from guanxi.importing.models import ImportBatch
from guanxi.web.forms import flash_domain_error

if TYPE_CHECKING:
    from guanxi.identity.models import User


def _actor(request: HttpRequest) -> User:
    return cast("User", request.user)


def _batch(request: HttpRequest, pk: int) -> ImportBatch:
    try:
        return selectors.batch_get_for_user(actor=_actor(request), pk=pk)
    except OutOfScope as exc:
        raise Http404 from exc


def _may_import(actor: User) -> bool:
    return any(permissions.can(actor, k, "import") for k in ("lead", "contact", "account"))


@login_required
def batch_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    page = selectors.batch_list(actor=actor, page=request.GET.get("page", 1))
    return render(request, "importing/list.html", {"page": page, "can_import": _may_import(actor)})


@login_required
def batch_new(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    if not _may_import(actor):
        raise PermissionDenied
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        options = Options(
            entity=form.cleaned_data["entity"],
            time_zone=str(getattr(actor, "time_zone", "") or "Asia/Shanghai"),
        )
        try:
            services.check_options(actor=actor, options=options)
            stored = services.store_upload(source=upload, file_name=upload.name)
            try:
                batch = services.batch_create(
                    actor=actor, path=stored, file_name=upload.name, options=options, draft=True
                )
            except services.UnreadableFile as exc:
                raise ValidationFailed({"file": str(exc)}) from exc
        except ValidationFailed as exc:
            for error in exc.errors:
                form.add_error(error.field if error.field in form.fields else None, error.message)
        except DomainError as exc:
            flash_domain_error(request, exc)
        else:
            return redirect("importing:setup", batch.pk)
    return render(request, "importing/new.html", {"form": form})


@login_required
def batch_setup(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    batch = _batch(request, pk)
    if batch.status != ImportBatch.Status.DRAFT:
        return redirect("importing:detail", batch.pk)
    form = SetupForm(request.POST or None, batch=batch, actor=actor)
    if request.method == "POST" and form.is_valid():
        options = form.options(actor)
        if form.is_valid():
            try:
                batch = services.batch_configure(actor=actor, batch=batch, options=options)
                if request.POST.get("action") == "start":
                    services.batch_submit(actor=actor, batch=batch)
                    return redirect("importing:detail", batch.pk)
            except ValidationFailed as exc:
                for error in exc.errors:
                    messages.error(request, f"{error.field}: {error.message}")
            except DomainError as exc:
                flash_domain_error(request, exc)
            else:
                return redirect("importing:setup", batch.pk)
    try:
        preview = services.batch_preview(actor=actor, batch=batch)
    except (services.UnreadableFile, DomainError) as exc:
        messages.error(request, str(getattr(exc, "message", exc)))
        preview = []
    mapped = [
        (str(i), fieldmap.target_label(batch.entity, t))
        for i, t in sorted((batch.options.get("mapping") or {}).items(), key=lambda kv: int(kv[0]))
    ]
    columns = sorted(
        {k for row in preview for k in row.get("values", {})},
        key=lambda k: (
            fieldmap.allowed_targets(batch.entity).index(k)
            if k in fieldmap.allowed_targets(batch.entity)
            else 999
        ),
    )
    return render(
        request,
        "importing/setup.html",
        {
            "batch": batch,
            "form": form,
            "preview": preview,
            "mapped": mapped,
            "preview_columns": [(c, fieldmap.target_label(batch.entity, c)) for c in columns],
        },
    )


@login_required
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    batch = _batch(request, pk)
    if batch.status == ImportBatch.Status.DRAFT:
        return redirect("importing:setup", batch.pk)
    context = {
        "batch": batch,
        "report": selectors.batch_report(batch),
        "can_undo": services.can_undo(actor, batch),
    }
    if request.headers.get("HX-Request"):
        return render(request, "importing/_progress.html", context)
    return render(request, "importing/detail.html", context)


@login_required
@require_POST
def batch_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    try:
        services.batch_cancel(actor=_actor(request), batch=batch)
        messages.success(request, _("The import is being stopped."))
    except DomainError as exc:
        flash_domain_error(request, exc)
    return redirect("importing:detail", batch.pk)


@login_required
@require_POST
def batch_undo(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    try:
        result = services.batch_undo(actor=_actor(request), batch=batch)
    except DomainError as exc:
        flash_domain_error(request, exc)
    else:
        messages.success(
            request,
            _(
                "Undone: %(removed)d records removed, %(restored)d restored, %(kept)d left as they were changed since."
            )
            % {
                "removed": result.removed,
                "restored": result.restored,
                "kept": len(result.conflicts),
            },
        )
    return redirect("importing:detail", batch.pk)


@login_required
def batch_errors_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """The error report: the row number, field, reason and the original row's cells."""
    batch = _batch(request, pk)
    report = batch.report or {}
    rows = report.get("invalid_rows", {})
    headers = list(batch.file_info.get("headers", []))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_("Row"), _("Field"), _("Reason"), *headers])
    for error in report.get("errors", []):
        cells = rows.get(str(error["row"]), [])
        writer.writerow(
            [
                error["row"],
                fieldmap.target_label(batch.entity, error["field"]),
                error["message"],
                *(exporting.neutralise(str(c)) for c in cells),
            ]
        )
    response = HttpResponse(
        out.getvalue().encode("utf-8-sig"), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="import-{batch.pk}-errors.csv"'
    return response


@login_required
def export_download(request: HttpRequest, entity: str) -> HttpResponse:
    """The list page's current filters, exported within scope and masking (audited)."""
    actor = _actor(request)
    if entity not in fieldmap.ENTITIES:
        raise Http404
    if not permissions.can(actor, fieldmap.ENTITY_KEY[entity], "export"):
        raise PermissionDenied
    fmt = request.GET.get("format", "csv")
    encoding = request.GET.get("encoding", "utf-8")
    keys = {
        "leads": ("status", "source", "city", "tag", "owner"),
        "accounts": ("tier", "lifecycle_stage", "city", "tag", "owner"),
        "contacts": ("tag", "owner", "account"),
    }[entity]
    filters: dict[str, Any] = {k: request.GET.get(k) for k in keys if request.GET.get(k)}
    buffer = io.BytesIO()
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    name = f"{entity}-{stamp}.{'xlsx' if fmt == 'xlsx' else 'csv'}"
    try:
        exporting.export_records(
            actor=actor,
            entity=entity,
            out=buffer,
            fmt=fmt,
            encoding=encoding,
            q=request.GET.get("q", ""),
            filters=filters,
            file_name=name,
        )
    except ValidationFailed as exc:
        flash_domain_error(request, exc)
        return redirect(request.META.get("HTTP_REFERER") or "/")
    content_type = (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        if fmt == "xlsx"
        else f"text/csv; charset={'gb18030' if encoding == 'gbk' else 'utf-8'}"
    )
    response = HttpResponse(buffer.getvalue(), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
def data_quality(request: HttpRequest) -> HttpResponse:
    """数据治理: completeness ranking of owners (数据之星) and stale records, in scope."""
    from guanxi.importing import quality

    actor = _actor(request)
    entity_key = request.GET.get("entity", "lead")
    if entity_key not in quality.IMPORTANT_FIELDS:
        raise Http404
    if not permissions.can(actor, entity_key, "view"):
        raise PermissionDenied
    try:
        days = max(1, min(int(request.GET.get("days", "30")), 3650))
    except ValueError:
        days = 30
    model = permissions.entity(entity_key).model
    return render(
        request,
        "importing/quality.html",
        {
            "is_admin": permissions.is_admin(actor),
            "entity_key": entity_key,
            "entities": [
                (k, permissions.entity(k).label)
                for k in quality.IMPORTANT_FIELDS
                if permissions.can(actor, k, "view")
            ],
            "fields": [
                str(getattr(model._meta.get_field(n), "verbose_name", n))
                for n in quality.important_fields(entity_key)
            ],
            "ranking": quality.owner_ranking(actor=actor, entity_key=entity_key),
            "stale": quality.stale_records(actor=actor, entity_key=entity_key, days=days),
            "days": days,
        },
    )
