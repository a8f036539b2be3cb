"""The search page (/search/?q=): the same results as the API, grouped by type."""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from guanxi.identity.models import User
from guanxi.search import selectors

LABELS = {"lead": _("Leads"), "account": _("Accounts"), "contact": _("Contacts")}


@login_required
def search_page(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    result: dict[str, Any] = {"q": q, "kind": "empty", "groups": []}
    if q:
        result = selectors.search_global(cast(User, request.user), q)
    groups = [
        {**group, "label": LABELS.get(group["type"], group["type"])} for group in result["groups"]
    ]
    return render(
        request,
        "search/search.html",
        {"q": q, "groups": groups, "has_results": any(g["items"] for g in groups)},
    )
