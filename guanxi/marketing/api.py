"""Administrators' endpoints for web forms: /web-forms (CRUD) and their submissions.

The public submission endpoints (``/f/<slug>/`` and ``/f/<slug>/submit.json``) are plain
Django views in ``guanxi.marketing.views``: they need no API token.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.responses import Status

from guanxi.api.auth import actor
from guanxi.core import permissions
from guanxi.core.errors import NotPermitted, OutOfScope
from guanxi.core.pagination import paginate
from guanxi.identity.models import User
from guanxi.marketing import selectors, services
from guanxi.marketing.models import FormSubmission, WebForm

router = Router(tags=["web forms"])


def _admin(request: HttpRequest) -> User:
    caller = actor(request)
    if not permissions.is_admin(caller):
        raise NotPermitted()
    return caller


class FormFieldIO(Schema):
    key: str = Field(..., description="A lead field (name, mobile, email …) or custom.<key>")
    label_zh: str = ""
    label_en: str = ""
    required: bool = False


class WebFormIn(Schema):
    name: str
    slug: str = Field(..., description="The public address: /f/<slug>/")
    title_zh: str
    title_en: str = ""
    intro_zh: str = ""
    intro_en: str = ""
    fields: list[FormFieldIO]
    consent_enabled: bool = False
    consent_required: bool = False
    consent_text_zh: str = ""
    consent_text_en: str = ""
    thanks_zh: str = ""
    thanks_en: str = ""
    redirect_url: str = ""
    source: str | None = Field(None, description="Lead source code")
    campaign: str = ""
    routing: str = Field("rules", description="rules | user | pool")
    owner_id: int | None = Field(None, description="The fixed owner when routing is user")
    active: bool = True
    rate_limit: int = 5
    rate_window_minutes: int = 10
    min_fill_seconds: int = 3


class WebFormPatch(Schema):
    name: str | None = None
    slug: str | None = None
    title_zh: str | None = None
    title_en: str | None = None
    intro_zh: str | None = None
    intro_en: str | None = None
    fields: list[FormFieldIO] | None = None
    consent_enabled: bool | None = None
    consent_required: bool | None = None
    consent_text_zh: str | None = None
    consent_text_en: str | None = None
    thanks_zh: str | None = None
    thanks_en: str | None = None
    redirect_url: str | None = None
    source: str | None = None
    campaign: str | None = None
    routing: str | None = None
    owner_id: int | None = None
    active: bool | None = None
    rate_limit: int | None = None
    rate_window_minutes: int | None = None
    min_fill_seconds: int | None = None


class Stats(Schema):
    total: int
    created: int
    duplicate: int
    spam: int
    invalid: int
    converted: int


class WebFormOut(WebFormIn):
    id: int
    url: str
    embed: str
    stats: Stats
    created_by: int
    created_at: str
    updated_at: str


class SubmissionOut(Schema):
    id: int
    created_at: str
    outcome: str
    data: dict[str, Any]
    utm: dict[str, str]
    lead_id: int | None
    duplicate_of: dict[str, Any] | None
    error: str
    ip: str | None
    user_agent: str


class SubmissionPage(Schema):
    items: list[SubmissionOut]
    count: int
    count_exact: bool
    page: int
    page_size: int


def _out(
    request: HttpRequest, form: WebForm, stats: dict[str, int] | None = None
) -> dict[str, Any]:
    links = selectors.links(request, form)
    return {
        "id": form.pk,
        "name": form.name,
        "slug": form.slug,
        "title_zh": form.title_zh,
        "title_en": form.title_en,
        "intro_zh": form.intro_zh,
        "intro_en": form.intro_en,
        "fields": form.fields,
        "consent_enabled": form.consent_enabled,
        "consent_required": form.consent_required,
        "consent_text_zh": form.consent_text_zh,
        "consent_text_en": form.consent_text_en,
        "thanks_zh": form.thanks_zh,
        "thanks_en": form.thanks_en,
        "redirect_url": form.redirect_url,
        "source": form.source.code if form.source else None,
        "campaign": form.campaign,
        "routing": form.routing,
        "owner_id": form.owner_id,
        "active": form.active,
        "rate_limit": form.rate_limit,
        "rate_window_minutes": form.rate_window_minutes,
        "min_fill_seconds": form.min_fill_seconds,
        "url": links["url"],
        "embed": links["embed"],
        "stats": stats if stats is not None else services.form_stats([form])[form.pk],
        "created_by": form.created_by_id,
        "created_at": form.created_at.isoformat(),
        "updated_at": form.updated_at.isoformat(),
    }


def _form(pk: int) -> WebForm:
    form = WebForm.objects.select_related("source").filter(pk=pk).first()
    if form is None:
        raise OutOfScope()
    return form


def _sub_out(sub: FormSubmission) -> dict[str, Any]:
    return {
        "id": sub.pk,
        "created_at": sub.created_at.isoformat(),
        "outcome": sub.outcome,
        "data": sub.data,
        "utm": sub.utm,
        "lead_id": sub.lead_id,
        "duplicate_of": (
            {"type": sub.duplicate_entity, "id": sub.duplicate_id} if sub.duplicate_entity else None
        ),
        "error": sub.error,
        "ip": sub.ip,
        "user_agent": sub.user_agent,
    }


@router.get("/web-forms", response=list[WebFormOut], summary="Web forms with their counts")
def webform_list(request: HttpRequest) -> list[dict[str, Any]]:
    _admin(request)
    forms = selectors.form_list()
    stats = services.form_stats(forms)
    return [_out(request, f, stats[f.pk]) for f in forms]


@router.post("/web-forms", response={201: WebFormOut})
def webform_create(request: HttpRequest, payload: WebFormIn) -> Status[dict[str, Any]]:
    caller = _admin(request)
    form = services.webform_create(actor=caller, data=payload.dict())
    return Status(201, _out(request, _form(form.pk)))


@router.get("/web-forms/{form_id}", response=WebFormOut)
def webform_get(request: HttpRequest, form_id: int) -> dict[str, Any]:
    _admin(request)
    return _out(request, _form(form_id))


@router.patch("/web-forms/{form_id}", response=WebFormOut)
def webform_update(request: HttpRequest, form_id: int, payload: WebFormPatch) -> dict[str, Any]:
    caller = _admin(request)
    form = services.webform_update(
        actor=caller, form=_form(form_id), data=payload.dict(exclude_unset=True)
    )
    return _out(request, _form(form.pk))


@router.delete("/web-forms/{form_id}", response={204: None})
def webform_delete(request: HttpRequest, form_id: int) -> Status[None]:
    caller = _admin(request)
    services.webform_delete(actor=caller, form=_form(form_id))
    return Status(204, None)


@router.get("/web-forms/{form_id}/submissions", response=SubmissionPage)
def webform_submissions(
    request: HttpRequest,
    form_id: int,
    outcome: str = "",
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    _admin(request)
    form = _form(form_id)
    result = paginate(selectors.submissions(form, outcome=outcome), page, page_size)
    return result.as_api([_sub_out(s) for s in result.items])
