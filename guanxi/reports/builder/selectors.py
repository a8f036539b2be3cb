"""Saved reports a user may open: their own and those shared with one of their roles."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from guanxi.core import permissions
from guanxi.core.errors import OutOfScope
from guanxi.identity.models import User
from guanxi.reports.models import SavedReport


def saved_reports(actor: User) -> QuerySet[SavedReport]:
    qs = SavedReport.objects.select_related("owner").prefetch_related("shared_roles")
    if permissions.is_admin(actor):
        return qs
    return qs.filter(Q(owner=actor) | Q(shared_roles__in=actor.roles.all())).distinct()


def saved_report_get(*, actor: User, pk: Any) -> SavedReport:
    try:
        return saved_reports(actor).get(pk=pk)
    except (SavedReport.DoesNotExist, ValueError, TypeError) as exc:
        raise OutOfScope() from exc


def saved_report_as_dict(report: SavedReport) -> dict[str, Any]:
    return {
        "id": report.pk,
        "name": report.name,
        "definition": report.definition,
        "owner": {"id": report.owner_id, "label": report.owner.label},
        "shared_roles": sorted(r.code for r in report.shared_roles.all()),
        "created_at": report.created_at.isoformat(),
        "updated_at": report.updated_at.isoformat(),
    }
