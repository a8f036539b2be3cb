"""The notification centre: :func:`notify_user` and e-mail templates.

``notify_user`` delivers one notification to one user on each channel the user has not
switched off for that kind (in the app, e-mail, robot channel); defaults are in
:data:`KINDS`. E-mail templates render with a sandboxed Django template engine over plain
data only (dicts, lists, strings, numbers): no model instances, no methods, no private
attributes, no ``{% load %}`` libraries or ``{% include %}``.

:func:`send_email_template` checks its input at once (unknown template, no or invalid
recipients, a template error: :class:`ValidationFailed`), writes a :class:`MailLog` row
("queued") and sends from a Huey task. The task raises on an SMTP error and Huey retries
it 3 times, a minute apart; the log row shows the outcome ("sent" / "failed" and why).
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import transaction
from django.template import Context, Engine, TemplateDoesNotExist, TemplateSyntaxError
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from guanxi.activities.services import notification_create
from guanxi.automation.models import EmailTemplate, MailLog, NotificationPreference
from guanxi.core import audit, permissions
from guanxi.core.errors import NotPermitted, OutOfScope, ValidationFailed

if TYPE_CHECKING:
    from guanxi.identity.models import User


@dataclass(frozen=True)
class Kind:
    key: str
    label: Any
    in_app: bool = True
    email: bool = False
    robot: bool = False


KINDS: dict[str, Kind] = {}


def define_kind(key: str, label: Any, *, email: bool = False, robot: bool = False) -> str:
    KINDS[key] = Kind(key, label, True, email, robot)
    return key


MENTION = define_kind("mention", _("Mentioned in a follow-up"), email=True)
ASSIGNED = define_kind("assigned", _("A record was assigned to you"), email=True)
APPROVAL = define_kind("approval", _("Approvals"), email=True)
REMINDER = define_kind("reminder", _("Reminders"))
RULE = define_kind("rule", _("Automation rules"))

# Existing notification verbs (approvals, reminders …) grouped under a preference kind.
VERB_KIND = {
    "approval_requested": APPROVAL,
    "approval_approved": APPROVAL,
    "approval_rejected": APPROVAL,
    "task.due": REMINDER,
    "pool_warning": REMINDER,
    "contract.expiring": REMINDER,
    "payment.overdue": REMINDER,
    "task.assigned": ASSIGNED,
}


def verbs_of(kind: str) -> list[str]:
    """The notification verbs shown under ``kind`` (the kind itself and grouped verbs)."""
    return [kind, *(verb for verb, k in VERB_KIND.items() if k == kind)]


CHANNELS = [c.value for c in NotificationPreference.Channel]


def channel_labels() -> list[tuple[str, str]]:
    return [(str(c.value), str(c.label)) for c in NotificationPreference.Channel]


# --- Preferences ------------------------------------------------------------------------


def preferences(user: User) -> dict[str, dict[str, bool]]:
    """kind → channel → on/off, defaults filled in."""
    prefs = {
        k.key: {"in_app": k.in_app, "email": k.email, "robot": k.robot} for k in KINDS.values()
    }
    for kind, channel, enabled in NotificationPreference.objects.filter(user=user).values_list(
        "kind", "channel", "enabled"
    ):
        if kind in prefs and channel in prefs[kind]:
            prefs[kind][channel] = enabled
    return prefs


def preferences_save(*, actor: User, values: dict[str, dict[str, bool]]) -> None:
    """Store the actor's own choices (every kind × channel given)."""
    errors: dict[str, str] = {}
    for kind, channels in values.items():
        if kind not in KINDS:
            errors[kind] = str(_("Unknown kind of notification."))
        elif any(c not in CHANNELS for c in channels):
            errors[kind] = str(_("Unknown channel."))
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        for kind, channels in values.items():
            for channel, enabled in channels.items():
                NotificationPreference.objects.update_or_create(
                    user=actor, kind=kind, channel=channel, defaults={"enabled": bool(enabled)}
                )
        audit.record(
            actor=actor,
            action="update",
            entity="notification_preference",
            obj=actor,
            changes={"preferences": values},
        )


def robot_channel_of(user: User) -> int | None:
    """The robot channel a user's robot notifications go to: the first active channel."""
    from guanxi.automation.models import RobotChannel

    return (
        RobotChannel.objects.filter(active=True).order_by("id").values_list("pk", flat=True).first()
    )


def notify_user(
    *,
    user: User,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    record: tuple[str, int] | None = None,
    verb: str | None = None,
    now: dt.datetime | None = None,
) -> list[str]:
    """Notify ``user`` on each channel enabled for ``kind``; returns the channels used."""
    if kind not in KINDS:
        raise ValueError(f"Unknown notification kind {kind!r}")
    if not user.is_active:
        return []
    prefs = preferences(user)[kind]
    used: list[str] = []
    entity, object_id = record if record else ("", None)
    if prefs["in_app"]:
        notification_create(
            recipient=user,
            verb=verb or kind,
            title=title,
            body=body,
            url=url,
            target_entity=entity,
            target_id=object_id,
            now=now,
        )
        used.append("in_app")
    if prefs["email"] and user.email:
        _send_plain(
            to=[user.email],
            subject=str(title)[:200],
            body=f"{body}\n\n{absolute(url)}".strip() if url else str(body),
            record=record,
        )
        used.append("email")
    if prefs["robot"]:
        channel_id = robot_channel_of(user)
        if channel_id is not None:
            from guanxi.automation.channels import channel_post

            channel_post(
                channel_id=channel_id, title=f"@{user.label} {title}", text=body or title, url=url
            )
            used.append("robot")
    return used


def centre_notifier(
    *,
    recipient: User,
    verb: str,
    title: str,
    body: str,
    url: str,
    target_entity: str,
    target_id: int | None,
    now: dt.datetime | None,
) -> None:
    """What ``activities.services.notify`` calls once this app is ready."""
    notify_user(
        user=recipient,
        kind=VERB_KIND.get(verb, RULE),
        verb=verb,
        title=title,
        body=body,
        url=url,
        record=(target_entity, target_id) if target_entity and target_id else None,
        now=now,
    )


def absolute(url: str) -> str:
    from guanxi.automation.channels import absolute_url

    return absolute_url(url)


# --- E-mail templates -------------------------------------------------------------------

_engine = Engine(debug=False, loaders=[], libraries={}, autoescape=False)


def _plain(value: Any, depth: int = 0) -> Any:
    """Only plain data reaches a template: anything else becomes its text."""
    if depth > 6:
        return ""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, decimal.Decimal | dt.date | dt.datetime | Promise):
        return str(value)
    if isinstance(value, dict):
        return {
            str(k): _plain(v, depth + 1) for k, v in value.items() if not str(k).startswith("_")
        }
    if isinstance(value, list | tuple):
        return [_plain(v, depth + 1) for v in value]
    return str(value)


_FORBIDDEN_TAG = re.compile(r"{%\s*(include|extends|load|debug|ssi|csrf_token)\b")


def check_template_source(field: str, source: str) -> None:
    """Compile ``source``; tags reaching outside the given data are refused."""
    bad = _FORBIDDEN_TAG.search(source or "")
    if bad:
        raise ValidationFailed(
            {field: str(_("The tag {%% %(tag)s %%} is not allowed.")) % {"tag": bad.group(1)}}
        )
    try:
        _engine.from_string(source)
    except TemplateSyntaxError as exc:
        raise ValidationFailed({field: str(exc)}) from exc


def render(source: str, context: dict[str, Any], field: str = "template") -> str:
    check_template_source(field, source)
    try:
        return _engine.from_string(source).render(Context(_plain(context), autoescape=False))
    except TemplateDoesNotExist as exc:  # pragma: no cover  (refused above)
        raise ValidationFailed({field: str(exc)}) from exc


def render_template(
    template: EmailTemplate, context: dict[str, Any], language: str
) -> tuple[str, str]:
    """Subject and body in ``language`` (English falls back to Chinese when empty)."""
    if language.startswith("en") and template.subject_en and template.body_en:
        subject, body = template.subject_en, template.body_en
    else:
        subject, body = template.subject_zh, template.body_zh
    rendered_subject = " ".join(render(subject, context).split())
    return rendered_subject[:200], render(body, context)


def _clean_recipients(to: Any) -> list[str]:
    if not isinstance(to, list | tuple) or not to:
        raise ValidationFailed({"to": str(_("Give at least one recipient."))})
    clean = []
    for address in to:
        try:
            validate_email(str(address))
        except ValidationError as exc:
            raise ValidationFailed(
                {"to": str(_("Not an e-mail address: %(a)s")) % {"a": address}}
            ) from exc
        clean.append(str(address))
    return clean


def _queue(log: MailLog) -> None:
    from guanxi.automation.tasks import automation_send_mail

    pk = log.pk
    transaction.on_commit(lambda: automation_send_mail(pk))


def _send_plain(
    *,
    to: list[str],
    subject: str,
    body: str,
    record: tuple[str, int] | None,
    key: str = "",
    language: str = "",
) -> MailLog:
    entity, object_id = record if record else ("", None)
    with transaction.atomic():
        log = MailLog.objects.create(
            template_key=key,
            to=to,
            subject=subject,
            body=body,
            language=language,
            entity=entity,
            object_id=object_id,
        )
        _queue(log)
    return log


def send_email_template(
    *,
    template_key: str,
    to: list[str],
    context: dict[str, Any],
    record: tuple[str, int] | None,
    language: str | None = None,
) -> None:
    """Render template ``template_key`` and queue it to ``to`` (see the module doc).

    ``language`` defaults to the active language; ``record`` ties the mail to a record's
    timeline, e.g. ``("lead", 42)``.
    """
    try:
        template = EmailTemplate.objects.get(key=template_key)
    except EmailTemplate.DoesNotExist as exc:
        raise ValidationFailed(
            {"template_key": str(_("No e-mail template %(key)s.")) % {"key": template_key}}
        ) from exc
    recipients = _clean_recipients(to)
    if not isinstance(context, dict):
        raise ValidationFailed({"context": str(_("Must be an object."))})
    lang = language or translation.get_language() or settings.LANGUAGE_CODE
    subject, body = render_template(template, context, lang)
    _send_plain(
        to=recipients,
        subject=subject,
        body=body,
        record=record,
        key=template.key,
        language="en" if lang.startswith("en") else "zh-hans",
    )


def deliver(log_pk: int) -> str:
    """Send one queued mail (Huey task body); raises on failure so Huey retries."""
    log = MailLog.objects.get(pk=log_pk)
    if log.status == MailLog.Status.SENT:
        return log.status
    log.attempts += 1
    try:
        EmailMessage(log.subject, log.body, settings.DEFAULT_FROM_EMAIL, list(log.to)).send()
    except Exception as exc:
        log.status = MailLog.Status.FAILED
        log.error = f"{exc.__class__.__name__}: {exc}"[:1000]
        log.save(update_fields=["status", "error", "attempts"])
        raise
    log.status = MailLog.Status.SENT
    log.error = ""
    log.sent_at = timezone.now()
    log.save(update_fields=["status", "error", "attempts", "sent_at"])
    return log.status


# --- Template admin ---------------------------------------------------------------------


def template_save(
    *, actor: User, data: dict[str, Any], template: EmailTemplate | None = None
) -> EmailTemplate:
    if not permissions.is_admin(actor):
        raise NotPermitted()
    errors: dict[str, str] = {}
    clean: dict[str, str] = {}
    for field, required, limit in (
        ("key", True, 60),
        ("name", True, 120),
        ("subject_zh", True, 200),
        ("body_zh", True, 0),
        ("subject_en", False, 200),
        ("body_en", False, 0),
    ):
        value = str(data.get(field) or "").strip()
        if required and not value:
            errors[field] = str(_("This field is required."))
        elif limit and len(value) > limit:
            errors[field] = str(_("At most %(n)s characters.")) % {"n": limit}
        clean[field] = value
    if clean["key"] and not re.fullmatch(r"[-a-zA-Z0-9_]+", clean["key"]):
        errors["key"] = str(_("Letters, digits, - and _ only."))
    dupe = EmailTemplate.objects.filter(key=clean["key"])
    if template is not None:
        dupe = dupe.exclude(pk=template.pk)
    if clean["key"] and dupe.exists():
        errors["key"] = str(_("Another template has this key."))
    for field in ("subject_zh", "body_zh", "subject_en", "body_en"):
        if field not in errors:
            try:
                check_template_source(field, clean[field])
            except ValidationFailed as exc:
                errors.update(exc.as_dict())
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        if template is None:
            template = EmailTemplate.objects.create(**clean)
            action = "create"
        else:
            for k, v in clean.items():
                setattr(template, k, v)
            template.save()
            action = "update"
        audit.record(
            actor=actor,
            action=action,
            entity="email_template",
            obj=template,
            changes={"key": template.key},
        )
    return template


def template_get(*, actor: User, pk: Any) -> EmailTemplate:
    if not permissions.is_admin(actor):
        raise OutOfScope()
    try:
        return EmailTemplate.objects.get(pk=int(pk))
    except (EmailTemplate.DoesNotExist, ValueError, TypeError) as exc:
        raise OutOfScope() from exc
