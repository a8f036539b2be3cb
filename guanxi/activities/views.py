"""Pages and htmx partials: My day, follow-up quick-add, timeline, notifications, calendar.

Thin: every read goes through ``selectors``, every write through ``services``.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanxi.activities import ics, selectors, services, targets
from guanxi.activities.forms import FollowupForm
from guanxi.activities.models import Activity, Task
from guanxi.core.errors import DomainError, NotPermitted, OutOfScope, ValidationFailed
from guanxi.identity import services as identity_services
from guanxi.identity.models import User
from guanxi.web.forms import apply_domain_errors, flash_domain_error


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


# --- My day -----------------------------------------------------------------------------


@login_required
@require_GET
def my_day(request: HttpRequest) -> HttpResponse:
    day = selectors.my_day(actor=_actor(request))
    sections = [
        ("overdue", _("Overdue"), day.overdue),
        ("today", _("Today"), day.today),
        ("upcoming", _("Next 7 days"), day.upcoming),
        ("undated", _("No due time"), day.undated),
    ]
    return render(
        request, "activities/my_day.html", {"day": day, "sections": sections, "nav": "my_day"}
    )


def _task_or_404(request: HttpRequest, pk: int) -> Task:
    try:
        return selectors.task_get(actor=_actor(request), pk=pk)
    except (OutOfScope, NotPermitted) as exc:
        raise Http404 from exc


def _task_toggled(request: HttpRequest, task: Task) -> HttpResponse:
    if _is_htmx(request):
        return render(request, "activities/_task_row.html", {"task": task, "now": timezone.now()})
    return redirect(_safe_next(request, reverse("activities:my_day")))


@login_required
@require_POST
def task_complete(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task_or_404(request, pk)
    try:
        task = services.task_complete(actor=_actor(request), task=task)
    except DomainError as exc:
        flash_domain_error(request, exc)
    return _task_toggled(request, task)


@login_required
@require_POST
def task_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task_or_404(request, pk)
    try:
        task = services.task_reopen(actor=_actor(request), task=task)
    except DomainError as exc:
        flash_domain_error(request, exc)
    return _task_toggled(request, task)


# --- Follow-up quick-add ----------------------------------------------------------------


def followup_context(
    form: FollowupForm, target_entity: str, target_id: Any, **extra: Any
) -> dict[str, Any]:
    return {
        "form": form,
        "kinds": Activity.Kind.choices,
        "target_entity": target_entity,
        "target_id": target_id,
        **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
def followup_create(request: HttpRequest) -> HttpResponse:
    """GET: the quick-add form for ``?target_entity=&target_id=``; POST: record it."""
    actor = _actor(request)
    source = request.POST if request.method == "POST" else request.GET
    target_entity = source.get("target_entity", "")
    target_id = source.get("target_id", "")
    try:
        target, obj = targets.resolve(actor, target_entity, target_id)
    except (OutOfScope, NotPermitted, ValidationFailed) as exc:
        raise Http404 from exc
    if request.method == "GET":
        form = FollowupForm(initial={"target_entity": target_entity, "target_id": obj.pk})
        return render(
            request,
            "activities/_followup_form.html",
            followup_context(form, target_entity, obj.pk, next=_safe_next(request, "")),
        )
    form = FollowupForm(request.POST, request.FILES)
    status = 200
    if form.is_valid():
        data = form.cleaned_data
        try:
            activity = services.activity_create(
                actor=actor,
                target_entity=target_entity,
                target_id=obj.pk,
                kind=data["kind"],
                content=data["content"],
                outcome=data["outcome"],
                next_followup_at=data["next_followup_at"],
                attachments=data["attachments"],
            )
        except ValidationFailed as exc:
            apply_domain_errors(form, exc)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            message = _("Follow-up saved.")
            if activity.next_followup_at:
                message = _("Follow-up saved; a task was added for the next follow-up.")
            if not _is_htmx(request):
                messages.success(request, message)
                default = target.url_of(obj) or reverse("activities:my_day")
                return redirect(_safe_next(request, default))
            fresh = FollowupForm(initial={"target_entity": target_entity, "target_id": obj.pk})
            response = render(
                request,
                "activities/_followup_form.html",
                followup_context(fresh, target_entity, obj.pk, saved=message),
            )
            response["HX-Trigger"] = "followupCreated"
            return response
    if not _is_htmx(request):
        status = 422
    return render(
        request,
        "activities/_followup_form.html",
        followup_context(form, target_entity, obj.pk, next=_safe_next(request, "")),
        status=status,
    )


@login_required
@require_GET
def attachment(request: HttpRequest, pk: int) -> FileResponse:
    """A follow-up's file, only for those who may see the follow-up."""
    try:
        att = selectors.attachment_get(actor=_actor(request), pk=pk)
    except (OutOfScope, NotPermitted) as exc:
        raise Http404 from exc
    inline = att.is_image and att.content_type != "image/svg+xml"
    try:
        handle = att.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(handle, as_attachment=not inline, filename=att.name)
    response["Content-Type"] = att.content_type if inline else "application/octet-stream"
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- Timeline ---------------------------------------------------------------------------


@login_required
@require_GET
def timeline(request: HttpRequest) -> HttpResponse:
    """The 360° timeline of ``?entity=&id=`` (``&kind=`` to filter): a partial for htmx, a
    page otherwise."""
    entity = request.GET.get("entity", "")
    target_id = request.GET.get("id", "")
    kind = request.GET.get("kind", "")
    kinds = [k for k in kind.split(",") if k.strip()]
    try:
        page = selectors.timeline(
            actor=_actor(request),
            target_entity=entity,
            target_id=target_id,
            kinds=kinds,
            page=request.GET.get("page", 1),
            page_size=request.GET.get("page_size", 30),
        )
    except (OutOfScope, NotPermitted) as exc:
        raise Http404 from exc
    except ValidationFailed as exc:
        if not targets.is_registered(entity):
            raise Http404 from exc
        return HttpResponse(exc.message, status=422)
    filters = [
        ("", _("All")),
        ("followup", _("Follow-ups")),
        ("task", _("Tasks")),
        ("change", _("Changes")),
        ("ownership", _("Ownership")),
        ("conversion", _("Conversions")),
    ]
    if selectors.has_related_streams(entity):
        filters.append(("deal", _("Deals")))
        filters.append(("finance", _("Contracts & payments")))
    context = {
        "page": page,
        "entity": entity,
        "target_id": target_id,
        "kind": kind,
        "filters": filters,
        "kind_labels": dict(Activity.Kind.choices),
    }
    if _is_htmx(request):
        return render(request, "activities/_timeline.html", context)
    return render(request, "activities/timeline.html", context)


# --- Notifications ----------------------------------------------------------------------


@login_required
@require_GET
def notifications(request: HttpRequest) -> HttpResponse:
    unread_only = request.GET.get("all") != "1"
    page = selectors.notification_list(
        actor=_actor(request), unread_only=unread_only, page=request.GET.get("page", 1)
    )
    return render(
        request,
        "activities/notifications.html",
        {"page": page, "unread_only": unread_only, "nav": "notifications"},
    )


@login_required
@require_GET
def notifications_dropdown(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    page = selectors.notification_list(actor=actor, unread_only=True, page=1, page_size=10)
    return render(request, "activities/_notifications.html", {"page": page})


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        note = services.notification_mark_read(actor=_actor(request), notification_id=pk)
    except OutOfScope as exc:
        raise Http404 from exc
    safe = note.url.startswith("/") and url_has_allowed_host_and_scheme(
        note.url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return redirect(note.url if safe else _safe_next(request, reverse("activities:notifications")))


@login_required
@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    services.notification_mark_all_read(actor=_actor(request))
    if _is_htmx(request):
        return render(
            request,
            "activities/_notifications.html",
            {"page": selectors.notification_list(actor=_actor(request), unread_only=True)},
        )
    return redirect(_safe_next(request, reverse("activities:notifications")))


# --- Calendar feed ----------------------------------------------------------------------


@login_required
@require_GET
def calendar(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    feed_url = ""
    if actor.calendar_token:
        feed_url = request.build_absolute_uri(
            reverse("activities:ics_feed", args=[actor.calendar_token])
        )
    return render(request, "activities/calendar.html", {"feed_url": feed_url, "nav": "calendar"})


@login_required
@require_POST
def calendar_rotate(request: HttpRequest) -> HttpResponse:
    had = bool(_actor(request).calendar_token)
    identity_services.calendar_token_rotate(actor=_actor(request))
    if had:
        messages.success(
            request, _("A new calendar address was made; the old one no longer works.")
        )
    else:
        messages.success(request, _("Your calendar address is ready."))
    return redirect("activities:calendar")


@never_cache
@require_GET
def ics_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The secret per-user calendar of open tasks. No login: the token is the key."""
    if len(token) < 20:
        raise Http404
    user = User.objects.filter(calendar_token=token, is_active=True).first()
    if user is None:
        raise Http404
    body = ics.calendar_for(
        user,
        selectors.tasks_for_calendar(user=user),
        now=timezone.now(),
        absolute=request.build_absolute_uri,
        task_url=reverse("activities:my_day"),
        host=request.get_host().split(":")[0] or "guanxi",
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="guanxi-tasks.ics"'
    return response
