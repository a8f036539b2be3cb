"""Saved reports (create, change, share, delete) and exporting a report's table."""

from __future__ import annotations

from typing import IO, Any

from django.db import transaction
from django.utils.translation import gettext as _

from guanxi.core import audit, events, permissions
from guanxi.core.errors import FieldError, NotPermitted, ValidationFailed
from guanxi.core.models import AuditEvent
from guanxi.identity.models import Role, User
from guanxi.reports.builder import engine
from guanxi.reports.builder.fields import ENTITIES
from guanxi.reports.models import SavedReport

SAVED = events.define("saved_report.created", "A report-builder definition was saved")
CHANGED = events.define("saved_report.updated", "A saved report was changed or re-shared")
DELETED = events.define("saved_report.deleted", "A saved report was deleted")


def _clean(data: dict[str, Any]) -> tuple[str, dict[str, Any], list[Role] | None]:
    name = str(data.get("name") or "").strip()
    if not name:
        raise ValidationFailed([FieldError("name", _("Enter a name."))])
    if len(name) > 100:
        raise ValidationFailed([FieldError("name", _("At most 100 characters."))])
    definition = engine.parse(data.get("definition")).as_json()
    roles: list[Role] | None = None
    if "shared_roles" in data:
        codes = [str(c) for c in data.get("shared_roles") or []]
        roles = list(Role.objects.filter(code__in=codes))
        unknown = sorted(set(codes) - {r.code for r in roles})
        if unknown:
            raise ValidationFailed(
                [FieldError("shared_roles", _("Unknown roles: %(r)s.") % {"r": ", ".join(unknown)})]
            )
    return name, definition, roles


def saved_report_create(*, actor: User, data: dict[str, Any]) -> SavedReport:
    name, definition, roles = _clean(data)
    permissions.require(actor, ENTITIES[definition["entity"]].permission_key, "view")
    with transaction.atomic():
        report = SavedReport.objects.create(name=name, definition=definition, owner=actor)
        if roles:
            report.shared_roles.set(roles)
        audit.record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            entity="saved_report",
            obj=report,
            changes={
                "definition": [None, definition],
                "shared_roles": [None, [r.code for r in roles or []]],
            },
        )
        events.emit(SAVED, {"id": report.pk}, actor_id=actor.pk)
    return report


def _own(actor: User, report: SavedReport) -> None:
    if report.owner_id != actor.pk and not permissions.is_admin(actor):
        raise NotPermitted(_("Only its owner may change a saved report."))


def saved_report_update(*, actor: User, report: SavedReport, data: dict[str, Any]) -> SavedReport:
    _own(actor, report)
    merged = {"name": report.name, "definition": report.definition, **data}
    name, definition, roles = _clean(merged)
    before = {
        "name": report.name,
        "definition": report.definition,
        "shared_roles": sorted(report.shared_roles.values_list("code", flat=True)),
    }
    with transaction.atomic():
        report.name, report.definition = name, definition
        report.save(update_fields=["name", "definition", "updated_at"])
        if roles is not None:
            report.shared_roles.set(roles)
        after = {
            "name": name,
            "definition": definition,
            "shared_roles": sorted(report.shared_roles.values_list("code", flat=True)),
        }
        changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        audit.record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            entity="saved_report",
            obj=report,
            changes=changes,
        )
        events.emit(CHANGED, {"id": report.pk, "changes": list(changes)}, actor_id=actor.pk)
    return report


def saved_report_delete(*, actor: User, report: SavedReport) -> None:
    _own(actor, report)
    with transaction.atomic():
        pk = report.pk
        audit.record(
            actor=actor, action=AuditEvent.Action.DELETE, entity="saved_report", obj=report
        )
        report.delete()
        events.emit(DELETED, {"id": pk}, actor_id=actor.pk)


def report_export(
    *, actor: User, definition: Any, out: IO[bytes], fmt: str = "csv", name: str = ""
) -> int:
    """Write a report's table (scoped, masked, formula-safe) as CSV or XLSX; audited.
    Needs the export permission on the report's entity."""
    from guanxi.importing import exporting

    if fmt not in ("csv", "xlsx"):
        raise ValidationFailed([FieldError("format", _("Choose csv or xlsx."))])
    d = engine.parse(definition)
    permissions.require(actor, d.entity.permission_key, "export")
    result = engine.run(actor=actor, definition=d.as_json())
    headers = [*result["dimension_labels"], *result["measure_labels"]]

    def rows() -> Any:
        for row in result["rows"]:
            yield [
                *(exporting.neutralise(str(c["label"])) for c in row["dimensions"]),
                *(
                    v if isinstance(v, int) else exporting.neutralise("" if v is None else str(v))
                    for v in row["values"]
                ),
            ]

    if fmt == "csv":
        count = exporting.write_csv(out, headers, rows(), "utf-8")
    else:
        count = exporting.write_xlsx(out, headers, rows())
    audit.record(
        actor=actor,
        action=AuditEvent.Action.EXPORT,
        entity=d.entity.permission_key,
        object_repr=name or f"report.{fmt}",
        changes={
            "format": fmt,
            "rows": count,
            "definition": d.as_json(),
            "masked": sorted(permissions.masked_fields(actor, d.entity.permission_key)),
        },
    )
    return count
