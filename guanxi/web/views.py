from __future__ import annotations

from typing import cast

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from guanxi.identity.models import User
from guanxi.web.panels import panels_for


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    return render(
        request,
        "web/home.html",
        {
            "department": user.department,
            "roles": list(user.roles.all()),
            "panels": panels_for(request),
            "nav": "home",
        },
    )
