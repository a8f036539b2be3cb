"""Group robot channels: DingTalk custom robot, WeCom group robot, Feishu custom bot.

:func:`channel_post` checks its input at once (unknown or inactive channel, empty title:
:class:`ValidationFailed`) and sends from a Huey task. The task raises on any failure
(network error, non-2xx, or the robot's own non-zero error code) and Huey retries it
3 times, a minute apart; the channel keeps the last result for the admin page.

Signing schemes (each robot's "加签" security setting):

* DingTalk: ``sign = urlencode(base64(HMAC-SHA256(key=secret, msg=f"{ts_ms}\\n{secret}")))``,
  sent as ``timestamp`` and ``sign`` query parameters.
* Feishu: ``sign = base64(HMAC-SHA256(key=f"{ts_s}\\n{secret}", msg=b""))``, sent as
  ``timestamp`` and ``sign`` in the JSON body.
* WeCom: the key in the webhook URL is the credential; no signature.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus, urljoin

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.automation import netguard
from guanxi.automation.models import RobotChannel
from guanxi.core import audit, permissions
from guanxi.core.errors import OutOfScope, ValidationFailed

if TYPE_CHECKING:
    from guanxi.identity.models import User


class ChannelError(Exception):
    """The robot did not accept the message."""


def absolute_url(url: str | None) -> str:
    if not url:
        return ""
    return urljoin(settings.GUANXI_BASE_URL.rstrip("/") + "/", url)


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), to_sign, hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode())


def feishu_sign(secret: str, timestamp_s: int) -> str:
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def build_request(
    channel: RobotChannel, *, title: str, text: str, url: str, now: float | None = None
) -> tuple[str, dict[str, Any]]:
    """The URL to POST to and the JSON message for ``channel``'s kind."""
    now = time.time() if now is None else now
    link_label = _("Open in Guanxi")
    if channel.kind == RobotChannel.Kind.DINGTALK:
        target = channel.webhook_url
        if channel.secret:
            ts = int(now * 1000)
            sep = "&" if "?" in target else "?"
            target = f"{target}{sep}timestamp={ts}&sign={dingtalk_sign(channel.secret, ts)}"
        if url:
            message: dict[str, Any] = {
                "msgtype": "actionCard",
                "actionCard": {
                    "title": title,
                    "text": f"### {title}\n\n{text}",
                    "singleTitle": link_label,
                    "singleURL": url,
                },
            }
        else:
            message = {
                "msgtype": "markdown",
                "markdown": {"title": title, "text": f"### {title}\n\n{text}"},
            }
        return target, message
    if channel.kind == RobotChannel.Kind.WECOM:
        content = f"**{title}**\n{text}"
        if url:
            content += f"\n[{link_label}]({url})"
        return channel.webhook_url, {"msgtype": "markdown", "markdown": {"content": content}}
    if channel.kind == RobotChannel.Kind.FEISHU:
        elements: list[dict[str, Any]] = [
            {"tag": "div", "text": {"tag": "lark_md", "content": text}}
        ]
        if url:
            elements.append(
                {
                    "tag": "action",
                    "actions": [
                        {
                            "tag": "button",
                            "text": {"tag": "plain_text", "content": link_label},
                            "type": "primary",
                            "url": url,
                        }
                    ],
                }
            )
        message = {
            "msg_type": "interactive",
            "card": {
                "header": {"title": {"tag": "plain_text", "content": title}},
                "elements": elements,
            },
        }
        if channel.secret:
            ts = int(now)
            message = {"timestamp": str(ts), "sign": feishu_sign(channel.secret, ts), **message}
        return channel.webhook_url, message
    raise ChannelError(f"unknown channel kind {channel.kind!r}")


def send_now(channel: RobotChannel, *, title: str, text: str, url: str) -> None:
    """Post synchronously; raises :class:`ChannelError` or ``OSError`` on failure."""
    target, message = build_request(channel, title=title, text=text, url=url)
    body = json.dumps(message, ensure_ascii=False).encode()
    try:
        resp = netguard.post(target, body, {"Content-Type": "application/json; charset=utf-8"})
    except netguard.TargetRefused as exc:
        _record(channel, str(exc))
        raise ChannelError(str(exc)) from exc
    except OSError as exc:
        _record(channel, f"{exc.__class__.__name__}: {exc}")
        raise
    error = ""
    if not resp.ok:
        error = f"HTTP {resp.status}: {resp.body[:200]}"
    else:
        try:
            answer = json.loads(resp.body or "{}")
        except ValueError:
            answer = {}
        code = (
            answer.get("errcode", answer.get("code", answer.get("StatusCode", 0)))
            if isinstance(answer, dict)
            else 0
        )
        if code not in (0, None):
            msg = answer.get("errmsg") or answer.get("msg") or ""
            error = f"error {code}: {msg}"[:200]
    _record(channel, error or "ok")
    if error:
        raise ChannelError(error)


def _record(channel: RobotChannel, status: str) -> None:
    RobotChannel.objects.filter(pk=channel.pk).update(
        last_status=status[:200], last_sent_at=timezone.now()
    )


def _active_channel(channel_id: Any) -> RobotChannel:
    try:
        channel = RobotChannel.objects.get(pk=int(channel_id))
    except (RobotChannel.DoesNotExist, ValueError, TypeError) as exc:
        raise ValidationFailed({"channel_id": _("No such robot channel.")}) from exc
    if not channel.active:
        raise ValidationFailed({"channel_id": _("This robot channel is switched off.")})
    return channel


def channel_post(*, channel_id: int, title: str, text: str, url: str | None) -> None:
    """Queue a message card to a robot channel (see the module doc for errors and retries).

    ``url`` may be a path (``/leads/3/``); it is made absolute with ``GUANXI_BASE_URL``.
    """
    channel = _active_channel(channel_id)
    if not str(title or "").strip():
        raise ValidationFailed({"title": _("This field is required.")})
    from guanxi.automation.tasks import automation_channel_post

    args = (channel.pk, str(title)[:200], str(text or ""), absolute_url(url))
    transaction.on_commit(lambda: automation_channel_post(*args))


# --- Admin ------------------------------------------------------------------------------


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    name = str(data.get("name") or "").strip()
    if not name:
        errors["name"] = _("This field is required.")
    kind = str(data.get("kind") or "")
    if kind not in RobotChannel.Kind.values:
        errors["kind"] = _("Choose DingTalk, WeCom or Feishu.")
    url = str(data.get("webhook_url") or "").strip()
    if not url:
        errors["webhook_url"] = _("This field is required.")
    else:
        try:
            netguard.check_url(url)
        except netguard.TargetRefused as exc:
            errors["webhook_url"] = str(exc)
    if errors:
        raise ValidationFailed(errors)
    return {
        "name": name[:120],
        "kind": kind,
        "webhook_url": url,
        "secret": str(data.get("secret") or "").strip(),
        "active": bool(data.get("active", True)),
    }


def channel_save(
    *, actor: User, data: dict[str, Any], channel: RobotChannel | None = None
) -> RobotChannel:
    if not permissions.is_admin(actor):
        from guanxi.core.errors import NotPermitted

        raise NotPermitted()
    clean = _clean(data)
    with transaction.atomic():
        if channel is None:
            channel = RobotChannel.objects.create(**clean)
            audit.record(
                actor=actor,
                action="create",
                entity="robot_channel",
                obj=channel,
                changes={k: v for k, v in clean.items() if k != "secret"},
            )
        else:
            for k, v in clean.items():
                setattr(channel, k, v)
            channel.save()
            audit.record(
                actor=actor,
                action="update",
                entity="robot_channel",
                obj=channel,
                changes={k: v for k, v in clean.items() if k != "secret"},
            )
    return channel


def channel_get(*, actor: User, channel_id: Any) -> RobotChannel:
    if not permissions.is_admin(actor):
        raise OutOfScope()
    try:
        return RobotChannel.objects.get(pk=int(channel_id))
    except (RobotChannel.DoesNotExist, ValueError, TypeError) as exc:
        raise OutOfScope() from exc


def channel_delete(*, actor: User, channel_id: Any) -> None:
    channel = channel_get(actor=actor, channel_id=channel_id)
    with transaction.atomic():
        audit.record(actor=actor, action="delete", entity="robot_channel", obj=channel)
        channel.delete()


def channel_test(*, actor: User, channel_id: Any) -> None:
    """Send a test message at once (synchronously), raising what went wrong."""
    channel = channel_get(actor=actor, channel_id=channel_id)
    send_now(
        channel,
        title=_("Guanxi test message"),
        text=_("This robot channel works. Sent by %(user)s.") % {"user": actor.label},
        url=absolute_url("/"),
    )
