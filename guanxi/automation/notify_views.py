"""Pages of the notification centre: my preferences; admin pages for webhooks, robot
channels, e-mail templates and the mail log."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.automation import channels, notify, webhooks
from guanxi.automation.forms import ChannelForm, EmailTemplateForm, WebhookForm
from guanxi.automation.models import EmailTemplate, MailLog, RobotChannel
from guanxi.core import permissions
from guanxi.core.errors import DomainError, NotPermitted, OutOfScope, ValidationFailed
from guanxi.core.pagination import paginate
from guanxi.identity.models import User
from guanxi.web.forms import apply_domain_errors, flash_domain_error


def _actor(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _admin(request: HttpRequest) -> User:
    actor = _actor(request)
    if not permissions.is_admin(actor):
        raise Http404
    return actor


# --- Preferences ------------------------------------------------------------------------


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    if request.method == "POST":
        values = {
            kind: {c: f"{kind}:{c}" in request.POST for c in notify.CHANNELS}
            for kind in notify.KINDS
        }
        notify.preferences_save(actor=actor, values=values)
        messages.success(request, _("Your notification preferences have been saved."))
        return redirect("automation:notification_preferences")
    prefs = notify.preferences(actor)
    rows = [
        (kind, [(c, prefs[kind.key][c]) for c in notify.CHANNELS]) for kind in notify.KINDS.values()
    ]
    labels = dict(notify.channel_labels())
    return render(
        request,
        "automation/notification_preferences.html",
        {"rows": rows, "channels": [(c, labels[c]) for c in notify.CHANNELS]},
    )


# --- Webhooks ---------------------------------------------------------------------------


def _can_webhooks(actor: User) -> None:
    if not permissions.can(actor, "webhook", "view"):
        raise Http404


@login_required
def webhook_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    _can_webhooks(actor)
    form = WebhookForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                hook = webhooks.webhook_create(
                    actor=actor,
                    url=form.cleaned_data["url"],
                    events_=form.cleaned_data["events"],
                    secret=form.cleaned_data["secret"],
                )
            except ValidationFailed as exc:
                apply_domain_errors(form, exc)
            except NotPermitted as exc:
                flash_domain_error(request, exc)
            else:
                messages.success(request, _("Webhook created."))
                return redirect("automation:webhook_detail", pk=hook.pk)
        status = 400
    return render(
        request,
        "automation/webhooks.html",
        {
            "hooks": webhooks.webhook_list(actor=actor),
            "form": form,
            "deliveries": webhooks.delivery_list(actor=actor, adhoc=True, limit=50),
        },
        status=status,
    )


@login_required
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    _can_webhooks(actor)
    try:
        hook = webhooks.webhook_get(actor=actor, webhook_id=pk)
    except OutOfScope as exc:
        raise Http404 from exc
    initial = {"url": hook.url, "events": hook.events, "active": hook.active}
    form = WebhookForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data: dict[str, Any] = {
                "url": form.cleaned_data["url"],
                "events": form.cleaned_data["events"],
                "active": form.cleaned_data["active"],
            }
            if form.cleaned_data["secret"]:
                data["secret"] = form.cleaned_data["secret"]
            try:
                webhooks.webhook_update(actor=actor, webhook_id=hook.pk, data=data)
            except ValidationFailed as exc:
                apply_domain_errors(form, exc)
            except NotPermitted as exc:
                flash_domain_error(request, exc)
            else:
                messages.success(request, _("Webhook saved."))
                return redirect("automation:webhook_detail", pk=hook.pk)
        status = 400
    return render(
        request,
        "automation/webhook_detail.html",
        {
            "hook": hook,
            "form": form,
            "deliveries": webhooks.delivery_list(actor=actor, webhook_id=hook.pk),
        },
        status=status,
    )


@login_required
@require_POST
def webhook_delete(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        webhooks.webhook_delete(actor=_actor(request), webhook_id=pk)
    except OutOfScope as exc:
        raise Http404 from exc
    except DomainError as exc:
        flash_domain_error(request, exc)
        return redirect("automation:webhook_detail", pk=pk)
    messages.success(request, _("Webhook deleted."))
    return redirect("automation:webhooks")


@login_required
@require_POST
def delivery_redeliver(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    try:
        old = webhooks.delivery_get(actor=actor, delivery_pk=pk)
        webhooks.redeliver(actor=actor, delivery_pk=pk)
    except OutOfScope as exc:
        raise Http404 from exc
    except DomainError as exc:
        flash_domain_error(request, exc)
        return redirect("automation:webhooks")
    messages.success(request, _("The delivery has been queued again."))
    if old.webhook_id:
        return redirect("automation:webhook_detail", pk=old.webhook_id)
    return redirect("automation:webhooks")


# --- Robot channels ---------------------------------------------------------------------


@login_required
def channel_list(request: HttpRequest) -> HttpResponse:
    actor = _admin(request)
    form = ChannelForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                channels.channel_save(actor=actor, data=form.cleaned_data)
            except ValidationFailed as exc:
                apply_domain_errors(form, exc)
            else:
                messages.success(request, _("Robot channel saved."))
                return redirect("automation:channels")
        status = 400
    return render(
        request,
        "automation/channels.html",
        {"channels": RobotChannel.objects.order_by("name", "id"), "form": form},
        status=status,
    )


@login_required
def channel_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _admin(request)
    try:
        channel = channels.channel_get(actor=actor, channel_id=pk)
    except OutOfScope as exc:
        raise Http404 from exc
    initial = {
        "name": channel.name,
        "kind": channel.kind,
        "webhook_url": channel.webhook_url,
        "active": channel.active,
    }
    form = ChannelForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = dict(form.cleaned_data)
            if not data["secret"]:
                data["secret"] = channel.secret
            try:
                channels.channel_save(actor=actor, data=data, channel=channel)
            except ValidationFailed as exc:
                apply_domain_errors(form, exc)
            else:
                messages.success(request, _("Robot channel saved."))
                return redirect("automation:channels")
        status = 400
    return render(
        request, "automation/channel_edit.html", {"channel": channel, "form": form}, status=status
    )


@login_required
@require_POST
def channel_test(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _admin(request)
    try:
        channels.channel_test(actor=actor, channel_id=pk)
    except OutOfScope as exc:
        raise Http404 from exc
    except (channels.ChannelError, OSError) as exc:
        messages.error(request, _("The test message failed: %(error)s") % {"error": exc})
    else:
        messages.success(request, _("Test message sent."))
    return redirect("automation:channels")


@login_required
@require_POST
def channel_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _admin(request)
    try:
        channels.channel_delete(actor=actor, channel_id=pk)
    except OutOfScope as exc:
        raise Http404 from exc
    messages.success(request, _("Robot channel deleted."))
    return redirect("automation:channels")


# --- E-mail templates and the mail log --------------------------------------------------


@login_required
def template_list(request: HttpRequest) -> HttpResponse:
    _admin(request)
    return render(
        request,
        "automation/email_templates.html",
        {"templates": EmailTemplate.objects.order_by("key")},
    )


@login_required
def template_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    actor = _admin(request)
    template: EmailTemplate | None = None
    initial: dict[str, Any] = {}
    if pk is not None:
        try:
            template = notify.template_get(actor=actor, pk=pk)
        except OutOfScope as exc:
            raise Http404 from exc
        initial = {
            f: getattr(template, f)
            for f in ("key", "name", "subject_zh", "body_zh", "subject_en", "body_en")
        }
    form = EmailTemplateForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                notify.template_save(actor=actor, data=form.cleaned_data, template=template)
            except ValidationFailed as exc:
                apply_domain_errors(form, exc)
            else:
                messages.success(request, _("E-mail template saved."))
                return redirect("automation:email_templates")
        status = 400
    return render(
        request,
        "automation/email_template_edit.html",
        {
            "template_obj": template,
            "form": form,
            "merge_help": _(
                "Merge fields use double braces, e.g. {{ lead.name }} or "
                "{{ owner.display_name }}; {% if %} and filters such as |date work. Only the "
                "data the rule passes is available. The English version is used for "
                "English-speaking recipients when filled in."
            ),
        },
        status=status,
    )


@login_required
def mail_log(request: HttpRequest) -> HttpResponse:
    _admin(request)
    qs = MailLog.objects.order_by("-created_at", "-id")
    status = request.GET.get("status", "")
    if status in MailLog.Status.values:
        qs = qs.filter(status=status)
    page = paginate(qs, request.GET.get("page", 1), 50)
    return render(
        request,
        "automation/mail_log.html",
        {"page": page, "status": status, "statuses": MailLog.Status.choices},
    )
