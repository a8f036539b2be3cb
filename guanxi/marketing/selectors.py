"""Reads of web forms and submissions (administrators only: callers check is_admin)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import escape

from guanxi.marketing.models import FormSubmission, WebForm


def form_list() -> list[WebForm]:
    return list(WebForm.objects.select_related("source", "owner", "created_by"))


def active_form(slug: str) -> WebForm | None:
    """The public form at ``slug`` (None when missing or inactive)."""
    return (
        WebForm.objects.select_related("created_by", "source")
        .filter(slug=slug, active=True)
        .first()
    )


def submissions(form: WebForm, *, outcome: str = "") -> QuerySet[FormSubmission]:
    qs = FormSubmission.objects.filter(form=form).select_related("lead")
    if outcome:
        qs = qs.filter(outcome=outcome)
    return qs.order_by("-created_at", "-id")


def links(request: HttpRequest | None, form: WebForm) -> dict[str, Any]:
    """The direct link (absolute when a request is known) and an iframe embed snippet."""
    path = reverse("marketing:public", args=[form.slug])
    url = request.build_absolute_uri(path) if request is not None else path
    embed = (
        f'<iframe src="{escape(url)}" title="{escape(form.title_zh)}" '
        'style="width:100%;max-width:640px;height:720px;border:0" loading="lazy"></iframe>'
    )
    return {"url": url, "url_en": f"{url}?lang=en", "embed": embed}
