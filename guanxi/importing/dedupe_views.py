"""Duplicate groups (with a button to scan again) and the merge screen. Thin: reads
through ``guanxi.importing.duplicates``, writes through ``guanxi.importing.merge``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.core import permissions, required_fields
from guanxi.core.errors import DomainError, NotPermitted, OutOfScope, ValidationFailed
from guanxi.importing import duplicates, merge
from guanxi.importing.models import DuplicateGroup
from guanxi.web.forms import flash_domain_error

if TYPE_CHECKING:
    from guanxi.identity.models import User


def _actor(request: HttpRequest) -> User:
    return cast("User", request.user)


@login_required
def duplicate_list(request: HttpRequest) -> HttpResponse:
    entity = request.GET.get("entity", "")
    kind = request.GET.get("kind", "")
    try:
        scan, page = duplicates.group_page(
            actor=_actor(request),
            entity=entity if entity in duplicates.ENTITIES else "",
            kind=kind if kind in DuplicateGroup.Kind.values else "",
            page=request.GET.get("page", 1),
        )
    except ValidationFailed as exc:
        raise Http404 from exc
    return render(
        request,
        "importing/duplicates.html",
        {
            "scan": scan,
            "page": page,
            "entity": entity,
            "kind": kind,
            "entities": [(e, permissions.entity(e).label) for e in duplicates.ENTITIES],
            "kinds": DuplicateGroup.Kind.choices,
        },
    )


@login_required
@require_POST
def duplicate_scan(request: HttpRequest) -> HttpResponse:
    duplicates.scan_start(actor=_actor(request))
    messages.success(request, _("Looking for duplicates; the list fills in when it is done."))
    return redirect("importing:duplicates")


def _display(actor: User, entity_key: str, obj: Any, name: str) -> str:
    value = getattr(obj, name)
    if name == "source":
        value = obj.source.name_zh if obj.source_id else ""
    elif hasattr(obj, f"get_{name}_display"):
        value = getattr(obj, f"get_{name}_display")()
    if isinstance(value, list):
        value = ", ".join(map(str, value))
    if value in (None, ""):
        return ""
    if name in permissions.masked_fields(actor, entity_key):
        kind = "email" if name == "email" else "phone" if name in ("mobile", "phone") else "other"
        return str(permissions.mask_value(kind, value))
    return str(value)


@login_required
def merge_screen(request: HttpRequest, entity: str) -> HttpResponse:
    if entity not in merge.MERGEABLE:
        raise Http404
    raw = request.GET.get("ids", "")
    ids = [p for p in raw.replace("，", ",").split(",") if p.strip()]
    actor = _actor(request)
    primary_id = request.POST.get("primary_id") or (ids[0] if ids else "")
    try:
        plan = merge.load(
            actor=actor,
            entity_key=entity,
            primary_id=primary_id,
            other_ids=[i for i in ids if i != primary_id],
        )
    except OutOfScope as exc:
        raise Http404 from exc
    except NotPermitted as exc:
        raise PermissionDenied from exc
    except ValidationFailed as exc:
        flash_domain_error(request, exc)
        return redirect("importing:duplicates")
    records = [plan.primary, *plan.others]
    records.sort(key=lambda r: ids.index(str(r.pk)) if str(r.pk) in ids else 0)
    if request.method == "POST":
        fields = {
            name: request.POST[f"field_{name}"]
            for name in merge.pickable_fields(entity)
            if request.POST.get(f"field_{name}")
        }
        try:
            survivor = merge.merge(
                actor=actor,
                entity_key=entity,
                primary_id=plan.primary.pk,
                other_ids=[o.pk for o in plan.others],
                fields=fields,
            )
        except DomainError as exc:
            flash_domain_error(request, exc)
        else:
            messages.success(request, _("Merged into %(name)s.") % {"name": survivor})
            return redirect("importing:duplicates")
    choice = merge.default_choice(entity, plan.primary, plan.others)
    model = type(plan.primary)
    rows = [
        {
            "name": name,
            "label": model._meta.get_field(name).verbose_name,
            "cells": [
                {
                    "id": r.pk,
                    "value": _display(actor, entity, r, name),
                    "checked": choice[name] == r.pk,
                }
                for r in records
            ],
        }
        for name in merge.pickable_fields(entity)
    ]
    return render(
        request,
        "importing/merge.html",
        {
            "entity": entity,
            "entity_label": permissions.entity(entity).label,
            "records": records,
            "primary": plan.primary,
            "rows": rows,
            "ids": ",".join(str(r.pk) for r in records),
        },
    )


@login_required
def required_fields_settings(request: HttpRequest) -> HttpResponse:
    """Admins choose the required fields of leads, contacts and accounts (数据治理)."""
    actor = _actor(request)
    if not permissions.is_admin(actor):
        raise PermissionDenied
    if request.method == "POST":
        entity = request.POST.get("entity", "")
        try:
            required_fields.rule_set(
                actor=actor, entity_key=entity, fields=request.POST.getlist("fields")
            )
        except DomainError as exc:
            flash_domain_error(request, exc)
        else:
            messages.success(request, _("Required fields saved."))
            return redirect("importing:required_fields")
    sections = [
        {
            "entity": e,
            "label": permissions.entity(e).label,
            "choices": [
                {"name": n, "label": label, "checked": n in required_fields.required(e)}
                for n, label in required_fields.choices(e)
            ],
        }
        for e in required_fields.ENTITIES
    ]
    return render(request, "importing/required_fields.html", {"sections": sections})
