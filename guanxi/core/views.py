"""Organisation settings pages owned by the core app (document numbering)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from guanxi.core import numbering
from guanxi.core.errors import DomainError, ValidationFailed
from guanxi.web.access import admin_required


def _rows(errors: dict[str, str], posted: dict[str, str]) -> list[dict[str, Any]]:
    rows = []
    for seq in numbering.sequences():
        pattern = numbering.pattern_for(seq.key)
        year = numbering._period(None)
        rows.append(
            {
                "key": seq.key,
                "label": seq.label,
                "pattern": posted.get(seq.key, pattern),
                "default": seq.default_pattern,
                "last": numbering.current(seq.key),
                "next": numbering.render(pattern, year=year, seq=numbering.current(seq.key) + 1),
                "error": errors.get(seq.key, ""),
            }
        )
    return rows


@admin_required
def numbering_settings(request: HttpRequest) -> HttpResponse:
    """Each document sequence with its pattern, last number and the next number."""
    errors: dict[str, str] = {}
    posted: dict[str, str] = {}
    if request.method == "POST":
        key = request.POST.get("key", "")
        pattern = request.POST.get("pattern", "")
        try:
            numbering.pattern_save(actor=request.user, key=key, pattern=pattern)  # type: ignore[arg-type]
        except ValidationFailed as exc:
            errors[key] = "; ".join(str(e.message) for e in exc.errors)
            posted[key] = pattern
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The numbering pattern has been saved."))
            return redirect("core:numbering")
    return render(
        request,
        "core/numbering.html",
        {"nav": "numbering", "rows": _rows(errors, posted)},
        status=400 if errors else 200,
    )
