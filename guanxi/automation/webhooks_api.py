"""/webhooks: outbound webhook subscriptions, their delivery log, redelivery; /events."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.responses import Status

from guanxi.api.auth import actor
from guanxi.automation import webhooks
from guanxi.automation.models import Webhook, WebhookDelivery

router = Router(tags=["webhooks"])


class WebhookIn(Schema):
    url: str
    events: list[str]
    secret: str = ""


class WebhookPatch(Schema):
    url: str | None = None
    events: list[str] | None = None
    secret: str | None = None
    active: bool | None = None


class WebhookOut(Schema):
    id: int
    url: str
    events: list[str]
    has_secret: bool
    active: bool
    created_at: dt.datetime


class DeliveryOut(Schema):
    id: int
    webhook_id: int | None
    delivery_id: str
    url: str
    event: str
    status: str
    attempts: int
    next_attempt_at: dt.datetime | None
    created_at: dt.datetime
    last_attempt_at: dt.datetime | None
    response_code: int | None
    duration_ms: int | None
    response_snippet: str
    error: str


class EventOut(Schema):
    name: str
    description: str


def _out(hook: Webhook) -> dict[str, Any]:
    return {
        "id": hook.pk,
        "url": hook.url,
        "events": hook.events,
        "has_secret": bool(hook.secret),
        "active": hook.active,
        "created_at": hook.created_at,
    }


@router.get("/webhooks", response=list[WebhookOut])
def webhook_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [_out(h) for h in webhooks.webhook_list(actor=actor(request))]


@router.post("/webhooks", response={201: WebhookOut}, summary="Subscribe a URL to events")
def webhook_create(request: HttpRequest, payload: WebhookIn) -> Status[dict[str, Any]]:
    hook = webhooks.webhook_create(
        actor=actor(request), url=payload.url, events_=payload.events, secret=payload.secret
    )
    return Status(201, _out(hook))


@router.get("/webhooks/{int:webhook_id}", response=WebhookOut)
def webhook_detail(request: HttpRequest, webhook_id: int) -> dict[str, Any]:
    return _out(webhooks.webhook_get(actor=actor(request), webhook_id=webhook_id))


@router.patch("/webhooks/{int:webhook_id}", response=WebhookOut)
def webhook_update(request: HttpRequest, webhook_id: int, payload: WebhookPatch) -> dict[str, Any]:
    data = payload.dict(exclude_unset=True)
    return _out(webhooks.webhook_update(actor=actor(request), webhook_id=webhook_id, data=data))


@router.delete("/webhooks/{int:webhook_id}", response={204: None})
def webhook_delete(request: HttpRequest, webhook_id: int) -> Status[None]:
    webhooks.webhook_delete(actor=actor(request), webhook_id=webhook_id)
    return Status(204, None)


@router.get("/webhooks/{int:webhook_id}/deliveries", response=list[DeliveryOut])
def delivery_list(request: HttpRequest, webhook_id: int) -> list[WebhookDelivery]:
    return webhooks.delivery_list(actor=actor(request), webhook_id=webhook_id)


@router.post(
    "/webhook-deliveries/{int:delivery_pk}/redeliver",
    response={202: DeliveryOut},
    summary="Send a delivery again (a new delivery id)",
)
def delivery_redeliver(request: HttpRequest, delivery_pk: int) -> Status[WebhookDelivery]:
    new = webhooks.redeliver(actor=actor(request), delivery_pk=delivery_pk)
    new.refresh_from_db()
    return Status(202, new)
