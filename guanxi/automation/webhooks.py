"""Outbound webhooks: subscriptions, signed deliveries, retries with back-off.

A delivery is a row (:class:`WebhookDelivery`) holding the exact body, the secret and
``next_attempt_at``. The first attempt runs in a Huey task right after the event; failures
(network error, timeout after 5 s, any non-2xx answer) are retried with exponential
back-off (30 s, 1 min, 2 min … capped at 2 h) by the periodic scanner
``automation_webhook_retry`` (every minute), which picks rows whose ``next_attempt_at``
has passed, so retries survive worker restarts. A delivery older than 24 hours is not
retried again: it is marked failed ("gave up"). Anyone with the ``webhook`` permission can
redeliver by hand.

:func:`webhook_call` (used by the rules engine) queues a delivery the same way and returns;
it raises :class:`ValidationFailed` at once for a bad or refused URL, and transport errors
are retried by this module, not by the caller.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import uuid
from typing import TYPE_CHECKING, Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.automation import netguard
from guanxi.automation.models import Webhook, WebhookDelivery
from guanxi.core import audit, events, permissions
from guanxi.core.errors import OutOfScope, ValidationFailed

if TYPE_CHECKING:
    from guanxi.identity.models import User

logger = logging.getLogger("guanxi.webhooks")

GIVE_UP_AFTER = dt.timedelta(hours=24)
FIRST_DELAY = dt.timedelta(seconds=30)
MAX_DELAY = dt.timedelta(hours=2)
MANUAL_EVENT = "manual"

WEBHOOK_CREATED = events.define("webhook.created", "An outbound webhook was created")


def backoff(attempts: int) -> dt.timedelta:
    """Wait after the ``attempts``-th failed attempt: 30 s doubling, at most 2 h."""
    return min(FIRST_DELAY * (2 ** max(attempts - 1, 0)), MAX_DELAY)


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# --- Subscriptions ----------------------------------------------------------------------


def _require(actor: User) -> None:
    permissions.require(actor, "webhook", "view")


def _clean(
    *, url: Any = None, events_: Any = None, secret: Any = None, partial: bool = False
) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    if url is not None or not partial:
        url_s = str(url or "").strip()
        if not url_s:
            errors["url"] = _("This field is required.")
        elif len(url_s) > 500:
            errors["url"] = _("At most 500 characters.")
        else:
            try:
                netguard.check_url(url_s)
            except netguard.TargetRefused as exc:
                errors["url"] = str(exc)
        out["url"] = url_s
    if events_ is not None or not partial:
        if not isinstance(events_, list) or not events_:
            errors["events"] = _('Give a list of at least one event name (or "*").')
        else:
            unknown = [e for e in events_ if e != "*" and e not in events.EVENT_NAMES]
            if unknown:
                errors["events"] = _("Unknown events: %(names)s") % {
                    "names": ", ".join(map(str, unknown))
                }
            out["events"] = sorted({str(e) for e in events_})
    if secret is not None:
        secret_s = str(secret)
        if len(secret_s) > 200:
            errors["secret"] = _("At most 200 characters.")
        out["secret"] = secret_s
    if errors:
        raise ValidationFailed(errors)
    return out


def webhook_create(*, actor: User, url: Any, events_: Any, secret: Any = "") -> Webhook:
    permissions.require(actor, "webhook", "create")
    data = _clean(url=url, events_=events_, secret=secret or "")
    with transaction.atomic():
        hook = Webhook.objects.create(created_by=actor, **data)
        audit.record(
            actor=actor,
            action="create",
            entity="webhook",
            obj=hook,
            changes={"url": hook.url, "events": hook.events},
        )
        events.emit(WEBHOOK_CREATED, {"id": hook.pk, "url": hook.url}, actor_id=actor.pk)
    return hook


def webhook_get(*, actor: User, webhook_id: Any) -> Webhook:
    _require(actor)
    try:
        return Webhook.objects.get(pk=int(webhook_id))
    except (Webhook.DoesNotExist, ValueError, TypeError) as exc:
        raise OutOfScope() from exc


def webhook_list(*, actor: User) -> list[Webhook]:
    _require(actor)
    return list(Webhook.objects.order_by("id"))


def webhook_update(*, actor: User, webhook_id: Any, data: dict[str, Any]) -> Webhook:
    permissions.require(actor, "webhook", "edit")
    hook = webhook_get(actor=actor, webhook_id=webhook_id)
    clean = _clean(
        url=data.get("url"), events_=data.get("events"), secret=data.get("secret"), partial=True
    )
    if "active" in data and data["active"] is not None:
        if not isinstance(data["active"], bool):
            raise ValidationFailed({"active": _("Must be true or false.")})
        clean["active"] = data["active"]
    changes = {k: v for k, v in clean.items() if getattr(hook, k) != v}
    with transaction.atomic():
        for k, v in changes.items():
            setattr(hook, k, v)
        if changes:
            hook.save()
            shown = {k: ("***" if k == "secret" else v) for k, v in changes.items()}
            audit.record(actor=actor, action="update", entity="webhook", obj=hook, changes=shown)
    return hook


def webhook_delete(*, actor: User, webhook_id: Any) -> None:
    permissions.require(actor, "webhook", "delete")
    hook = webhook_get(actor=actor, webhook_id=webhook_id)
    with transaction.atomic():
        audit.record(actor=actor, action="delete", entity="webhook", obj=hook)
        hook.delete()


def delivery_list(
    *, actor: User, webhook_id: Any | None = None, adhoc: bool = False, limit: int = 100
) -> list[WebhookDelivery]:
    _require(actor)
    qs = WebhookDelivery.objects.all()
    if adhoc:  # sent by rules with webhook_call, not through a subscription
        qs = qs.filter(webhook__isnull=True)
    elif webhook_id is not None:
        qs = qs.filter(webhook_id=webhook_get(actor=actor, webhook_id=webhook_id).pk)
    return list(qs.order_by("-created_at", "-id")[:limit])


def delivery_get(*, actor: User, delivery_pk: Any) -> WebhookDelivery:
    _require(actor)
    try:
        return WebhookDelivery.objects.get(pk=int(delivery_pk))
    except (WebhookDelivery.DoesNotExist, ValueError, TypeError) as exc:
        raise OutOfScope() from exc


# --- Deliveries -------------------------------------------------------------------------


def _enqueue(delivery: WebhookDelivery) -> None:
    from guanxi.automation.tasks import automation_webhook_deliver

    pk = delivery.pk
    transaction.on_commit(lambda: automation_webhook_deliver(pk))


def queue_delivery(
    *,
    url: str,
    event: str,
    data: Any,
    secret: str = "",
    webhook: Webhook | None = None,
    now: dt.datetime | None = None,
) -> WebhookDelivery:
    now = now or timezone.now()
    delivery_id = str(uuid.uuid4())
    body = json.dumps(
        {"event": event, "delivery_id": delivery_id, "occurred_at": now.isoformat(), "data": data},
        cls=DjangoJSONEncoder,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    delivery = WebhookDelivery.objects.create(
        webhook=webhook,
        delivery_id=delivery_id,
        url=url,
        secret=secret,
        event=event,
        body=body,
        created_at=now,
        next_attempt_at=now,
    )
    _enqueue(delivery)
    return delivery


def attempt(delivery_pk: int, *, now: dt.datetime | None = None) -> str:
    """Try one delivery once (if still pending and due); returns its status afterwards."""
    now = now or timezone.now()
    with transaction.atomic():
        # Claim: only one worker moves next_attempt_at forward for this attempt.
        claimed = WebhookDelivery.objects.filter(
            pk=delivery_pk,
            status=WebhookDelivery.Status.PENDING,
            next_attempt_at__lte=now,
        ).update(next_attempt_at=now + netguard_lease())
        if not claimed:
            return (
                WebhookDelivery.objects.filter(pk=delivery_pk)
                .values_list("status", flat=True)
                .first()
                or ""
            )
    d = WebhookDelivery.objects.get(pk=delivery_pk)
    body = d.body.encode()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "X-Guanxi-Event": d.event,
        "X-Guanxi-Delivery": d.delivery_id,
    }
    if d.secret:
        headers["X-Guanxi-Signature"] = sign(body, d.secret)
    d.attempts += 1
    d.last_attempt_at = now
    try:
        resp = netguard.post(d.url, body, headers)
    except netguard.TargetRefused as exc:
        d.error, d.response_code, d.duration_ms, d.response_snippet = str(exc), None, None, ""
        ok = False
    except OSError as exc:  # includes timeouts
        d.error = f"{exc.__class__.__name__}: {exc}"[:1000]
        d.response_code, d.duration_ms, d.response_snippet = None, None, ""
        ok = False
    else:
        d.response_code, d.duration_ms, d.response_snippet = (
            resp.status,
            resp.duration_ms,
            resp.body,
        )
        ok = resp.ok
        d.error = "" if ok else _("HTTP status %(code)s") % {"code": resp.status}
    if ok:
        d.status = WebhookDelivery.Status.DELIVERED
        d.next_attempt_at = None
    else:
        next_at = now + backoff(d.attempts)
        if next_at - d.created_at > GIVE_UP_AFTER:
            d.status = WebhookDelivery.Status.FAILED
            d.next_attempt_at = None
        else:
            d.next_attempt_at = next_at
    d.save()
    return d.status


def netguard_lease() -> dt.timedelta:
    """How long a claimed attempt keeps others off (longer than the 5 s timeout)."""
    return dt.timedelta(seconds=netguard.TIMEOUT_SECONDS * 6)


def retry_due(*, now: dt.datetime | None = None, limit: int = 200) -> int:
    """Attempt every pending delivery whose time has come; returns how many were tried."""
    now = now or timezone.now()
    due = list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now
        )
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in due:
        attempt(pk, now=now)
    return len(due)


def redeliver(*, actor: User, delivery_pk: Any) -> WebhookDelivery:
    """Send a delivery again by hand: a new delivery (new id) with the same event and data."""
    permissions.require(actor, "webhook", "edit")
    old = delivery_get(actor=actor, delivery_pk=delivery_pk)
    data = json.loads(old.body).get("data")
    with transaction.atomic():
        new = queue_delivery(
            url=old.webhook.url if old.webhook else old.url,
            event=old.event,
            data=data,
            secret=old.webhook.secret if old.webhook else old.secret,
            webhook=old.webhook,
        )
        audit.record(
            actor=actor,
            action="update",
            entity="webhook",
            object_id=old.webhook_id or "",
            object_repr=old.url,
            changes={"redelivered": old.delivery_id, "as": new.delivery_id},
        )
    return new


def webhook_call(*, url: str, payload: dict[str, Any], secret: str | None) -> None:
    """Queue a signed POST of ``payload`` to ``url`` (rules engine action).

    Raises :class:`ValidationFailed` (field ``url``) at once for a malformed or refused URL;
    otherwise returns after queueing: the delivery is retried with back-off for 24 h by
    this module and appears in the delivery log.
    """
    try:
        netguard.check_url(url)
    except netguard.TargetRefused as exc:
        raise ValidationFailed({"url": str(exc)}) from exc
    with transaction.atomic():
        queue_delivery(url=url, event=MANUAL_EVENT, data=payload, secret=secret or "")


def on_event(event: events.Event) -> None:
    """Subscriber of every domain event: one delivery per active matching webhook."""
    hooks = [
        h for h in Webhook.objects.filter(active=True) if event.name in h.events or "*" in h.events
    ]
    if not hooks:
        return
    # The standard payload: the record as the API shows it, the changes, the actor.
    data = events.envelope(event)
    with transaction.atomic():
        for hook in hooks:
            queue_delivery(
                url=hook.url, event=event.name, data=data, secret=hook.secret, webhook=hook
            )
