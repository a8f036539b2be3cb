"""Sent e-mails on the 360° timeline of the record they were about."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from guanxi.activities.selectors import TimelineItem
from guanxi.automation.models import MailLog

if TYPE_CHECKING:
    from guanxi.identity.models import User


def mail_stream_for(entity_key: str) -> Any:
    """A related stream for ``entity_key`` records: their mail log, newest first.

    The timeline has already checked that the viewer may see the record itself."""

    def stream(*, actor: User, obj: Any, kinds: set[str], need: int) -> Iterator[TimelineItem]:
        if "other" not in kinds:
            return iter(())
        logs = MailLog.objects.filter(entity=entity_key, object_id=obj.pk).order_by(
            "-created_at", "-id"
        )[:need]
        return (
            TimelineItem(
                kind="other",
                sub_kind="email",
                at=log.created_at,
                actor="",
                title=_("E-mail: %(subject)s (%(status)s)")
                % {"subject": log.subject, "status": log.get_status_display()},
                body=_("To: %(to)s") % {"to": ", ".join(log.to)} + "\n\n" + log.body,
                id=log.pk,
            )
            for log in logs
        )

    stream.__name__ = f"mail_stream_{entity_key}"
    return stream


_streams: dict[str, Any] = {}


def register() -> None:
    from guanxi.activities import targets
    from guanxi.activities.selectors import register_related_stream

    for target in targets.registered():
        key = target.entity_key
        if key not in _streams:
            _streams[key] = mail_stream_for(key)
        register_related_stream(key, _streams[key])
