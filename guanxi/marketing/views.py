"""Web form pages: the public form (no login) and the administrators' editor.

The public view is ``csrf_exempt``: the page carries a signed form token
(:func:`services.form_token`) instead of the CSRF cookie, so it works inside an iframe
on another site. It is also exempt from X-Frame-Options for the same reason.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from guanxi.core.errors import DomainError, FieldError, ValidationFailed
from guanxi.core.middleware import request_ip
from guanxi.core.pagination import paginate
from guanxi.customers.views import actor_of
from guanxi.marketing import selectors, services
from guanxi.marketing.forms import WebFormForm, _slot
from guanxi.marketing.models import FormSubmission, WebForm
from guanxi.web.access import admin_required
from guanxi.web.forms import apply_domain_errors, flash_domain_error

# --- Public -------------------------------------------------------------------------------


def _lang(request: HttpRequest) -> str:
    value = request.GET.get("lang") or request.POST.get("lang") or ""
    return "en" if value.lower().startswith("en") else "zh"


def _django_lang(lang: str) -> str:
    return "en" if lang == "en" else "zh-hans"


def _inputs(
    form: WebForm, lang: str, values: dict[str, Any], errors: dict[str, str]
) -> list[dict[str, Any]]:
    from guanxi.core import custom_fields

    customs = {d.key: d for d in custom_fields.definitions("lead")}
    out = []
    for f in form.fields:
        key = f["key"]
        if key.startswith("custom."):
            definition = customs.get(key.split(".", 1)[1])
            if definition is None:
                continue
            kind = {
                "email": "email",
                "phone": "tel",
                "url": "url",
                "number": "number",
                "date": "date",
                "long_text": "textarea",
                "select": "select",
            }.get(definition.kind, "text")
            options = [str(o) for o in (definition.options or [])] if kind == "select" else []
        else:
            kind = services.LEAD_FIELDS[key][1]
            options = []
        out.append(
            {
                "key": key,
                "name": key,
                "id": f"gx-{_slot(key)}",
                "label": services.field_label(f, lang),
                "required": bool(f.get("required")),
                "kind": kind,
                "options": options,
                "value": values.get(key, ""),
                "error": errors.get(key, ""),
            }
        )
    return out


def _render(
    request: HttpRequest,
    form: WebForm,
    lang: str,
    *,
    values: dict[str, Any] | None = None,
    errors: list[FieldError] | None = None,
    message: str = "",
    thanks: bool = False,
    status: int = 200,
    token: str = "",
) -> HttpResponse:
    by_field = {e.field: str(e.message) for e in errors or []}
    utm_source = request.POST if request.method == "POST" else request.GET
    utm = {k: utm_source.get(k, "") for k in services.UTM_KEYS if k != "referrer"}
    referrer = (
        request.POST.get("referrer", "")
        if request.method == "POST"
        else request.GET.get("referrer") or request.META.get("HTTP_REFERER", "")
    )
    utm["referrer"] = referrer[:500]
    context = {
        "webform": form,
        "lang": lang,
        "html_lang": "en" if lang == "en" else "zh-Hans",
        "title": (form.title_en or form.title_zh) if lang == "en" else form.title_zh,
        "intro": (form.intro_en or form.intro_zh) if lang == "en" else form.intro_zh,
        "consent_text": (form.consent_text_en or form.consent_text_zh)
        if lang == "en"
        else form.consent_text_zh,
        "thanks_text": (form.thanks_en or form.thanks_zh) if lang == "en" else form.thanks_zh,
        "inputs": _inputs(form, lang, values or {}, by_field),
        "consent_checked": bool((values or {}).get("consent")),
        "consent_error": by_field.get("consent", ""),
        "form_errors": [m for k, m in by_field.items() if k == "__all__"],
        "has_errors": bool(by_field),
        "message": message,
        "thanks": thanks,
        "token": token or services.form_token(form),
        "honeypot": services.HONEYPOT,
        "utm": {k: v for k, v in utm.items() if v},
        "other_lang": "zh" if lang == "en" else "en",
    }
    return render(request, "marketing/public_form.html", context, status=status)


@csrf_exempt
@xframe_options_exempt
@require_http_methods(["GET", "POST"])
def public_form(request: HttpRequest, slug: str) -> HttpResponse:
    """The public form at /f/<slug>/ (``?lang=en`` for English)."""
    form = selectors.active_form(slug)
    if form is None:
        raise Http404
    lang = _lang(request)
    with translation.override(_django_lang(lang)):
        if request.method != "POST":
            return _render(request, form, lang)
        values: dict[str, Any] = {f["key"]: request.POST.get(f["key"], "") for f in form.fields}
        values["consent"] = request.POST.get("consent") == "1"
        ip = request_ip(request)
        try:
            services.check_rate(form, ip)
        except services.RateLimited as exc:
            return _render(request, form, lang, values=values, message=exc.message, status=429)
        result = services.submit(
            form=form,
            values=values,
            token=request.POST.get("gx_token", ""),
            honeypot=request.POST.get(services.HONEYPOT, ""),
            utm={k: request.POST.get(k, "") for k in services.UTM_KEYS},
            ip=ip,
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
            lang=lang,
        )
        if result.outcome in (FormSubmission.Outcome.INVALID, FormSubmission.Outcome.ERROR):
            # A visitor correcting a field keeps the page's first token: the minimum fill
            # time counts from when they opened the form, not from the correction.
            keep = "" if result.message else request.POST.get("gx_token", "")
            return _render(
                request,
                form,
                lang,
                values=values,
                errors=result.errors,
                message=result.message,
                status=400,
                token=keep,
            )
        if form.redirect_url:
            return HttpResponseRedirect(form.redirect_url)
        return _render(request, form, lang, thanks=True)


def _cors(response: HttpResponse) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = "Content-Type"
    return response


@csrf_exempt
@require_http_methods(["POST", "OPTIONS"])
def public_submit_json(request: HttpRequest, slug: str) -> HttpResponse:
    """``POST /f/<slug>/submit.json`` with a JSON object of field keys (plus ``consent``,
    ``utm_*``, ``referrer``, optional ``token`` from the page and ``lang``).

    201 ``{"status": "received", "message", "redirect_url"}`` (also for duplicates and
    caught spam: the answer never reveals existing records); 422 with per-field errors;
    429 when rate limited; 404 for a missing or inactive form. Needs no cookie or token:
    it acts on no one's session, and it answers CORS so a site's script may call it.
    """
    if request.method == "OPTIONS":
        return _cors(HttpResponse(status=204))
    form = selectors.active_form(slug)
    if form is None:
        return _cors(JsonResponse({"detail": "Not found."}, status=404))
    try:
        body = json.loads(request.body or b"{}")
        if not isinstance(body, dict):
            raise ValueError
    except ValueError:
        return _cors(
            JsonResponse({"detail": "The body must be a JSON object.", "errors": []}, status=422)
        )
    lang = "en" if str(body.get("lang") or request.GET.get("lang") or "").startswith("en") else "zh"
    with translation.override(_django_lang(lang)):
        ip = request_ip(request)
        try:
            services.check_rate(form, ip)
        except services.RateLimited as exc:
            return _cors(JsonResponse({"detail": exc.message}, status=429))
        values = {f["key"]: body.get(f["key"], "") for f in form.fields}
        values["consent"] = body.get("consent") in (True, "1", "true", "on", 1)
        token = body.get("token")
        result = services.submit(
            form=form,
            values=values,
            token=str(token) if token else None,
            honeypot=str(body.get(services.HONEYPOT) or ""),
            utm={k: body.get(k, "") for k in services.UTM_KEYS},
            ip=ip,
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
            lang=lang,
        )
        if result.outcome in (FormSubmission.Outcome.INVALID, FormSubmission.Outcome.ERROR):
            errors = [e.as_dict() for e in result.errors]
            detail = result.message or (
                errors[0]["message"] if len(errors) == 1 else _("Some fields are invalid.")
            )
            return _cors(JsonResponse({"detail": detail, "errors": errors}, status=422))
        thanks = (form.thanks_en or form.thanks_zh) if lang == "en" else form.thanks_zh
        return _cors(
            JsonResponse(
                {
                    "status": "received",
                    "message": thanks or _("Thank you! We will be in touch soon."),
                    "redirect_url": form.redirect_url,
                },
                status=201,
            )
        )


# --- Administrators ------------------------------------------------------------------------


@admin_required
def webforms(request: HttpRequest) -> HttpResponse:
    forms = selectors.form_list()
    stats = services.form_stats(forms)
    rows = [(f, stats[f.pk], selectors.links(request, f)) for f in forms]
    return render(request, "marketing/webforms.html", {"rows": rows})


def _editor(request: HttpRequest, webform: WebForm | None) -> HttpResponse:
    actor = actor_of(request)
    form = WebFormForm(request.POST or None, webform=webform)
    if request.method == "POST" and form.is_valid():
        try:
            if webform is None:
                saved = services.webform_create(actor=actor, data=form.service_data())
            else:
                saved = services.webform_update(actor=actor, form=webform, data=form.service_data())
        except ValidationFailed as exc:
            renamed = [
                FieldError(
                    e.field.replace("owner_id", "owner")
                    if not e.field.startswith("fields.")
                    else "",
                    e.message,
                )
                for e in exc.errors
            ]
            apply_domain_errors(form, ValidationFailed(renamed))
        except DomainError as exc:
            flash_domain_error(request, exc)
        else:
            messages.success(request, _("Web form “%(name)s” saved.") % {"name": saved.name})
            return redirect("marketing:webform_detail", saved.pk)
    return render(
        request,
        "marketing/webform_form.html",
        {"form": form, "webform": webform, "title": webform.name if webform else _("New web form")},
        status=400 if request.method == "POST" else 200,
    )


@admin_required
def webform_create(request: HttpRequest) -> HttpResponse:
    return _editor(request, None)


@admin_required
def webform_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _editor(request, get_object_or_404(WebForm, pk=pk))


@admin_required
@require_POST
def webform_delete(request: HttpRequest, pk: int) -> HttpResponse:
    webform = get_object_or_404(WebForm, pk=pk)
    try:
        services.webform_delete(actor=actor_of(request), form=webform)
    except DomainError as exc:
        flash_domain_error(request, exc)
        return redirect("marketing:webform_detail", pk)
    messages.success(request, _("Web form “%(name)s” deleted.") % {"name": webform.name})
    return redirect("marketing:webforms")


@admin_required
def webform_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Links, embed snippet, counts and the submissions (filter by outcome)."""
    webform = get_object_or_404(
        WebForm.objects.select_related("source", "owner", "created_by"), pk=pk
    )
    outcome = request.GET.get("outcome", "")
    if outcome not in FormSubmission.Outcome.values:
        outcome = ""
    page = paginate(selectors.submissions(webform, outcome=outcome), request.GET.get("page"), 50)
    stats = services.form_stats([webform])[webform.pk]
    rate = round(100 * stats["created"] / stats["total"]) if stats["total"] else 0
    return render(
        request,
        "marketing/webform_detail.html",
        {
            "webform": webform,
            "links": selectors.links(request, webform),
            "stats": stats,
            "conversion": rate,
            "page": page,
            "outcome": outcome,
            "outcomes": FormSubmission.Outcome.choices,
        },
    )
