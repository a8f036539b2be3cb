"""Outbound HTTP for webhooks and robot channels, refusing private targets.

A target host is resolved and *every* address checked: loopback, private, link-local,
multicast, reserved and unspecified ranges are refused unless
``GUANXI_WEBHOOK_ALLOW_PRIVATE=1``. The check runs when a URL is saved and again at each
request, and the connection goes to the very address that was checked (the host name is
only used for the ``Host`` header and TLS), so a DNS answer that changes between check and
connect (DNS rebinding) cannot reach an internal address.
"""

from __future__ import annotations

import http.client
import ipaddress
import os
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

TIMEOUT_SECONDS = 5.0
SNIPPET_CHARS = 1000


class TargetRefused(Exception):  # noqa: N818
    """The URL is malformed or points into a refused address range."""


def allow_private() -> bool:
    return os.environ.get("GUANXI_WEBHOOK_ALLOW_PRIVATE", "").strip().lower() in {
        "1",
        "true",
        "yes",
        "on",
    }


def _refused(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return _refused(ip.ipv4_mapped)
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str


def check_url(url: str) -> Target:
    """Parse, resolve and check ``url``; the returned target holds the address to use."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise TargetRefused(_("Only http:// and https:// URLs with a host are allowed."))
    if parts.username or parts.password:
        raise TargetRefused(_("User names and passwords in the URL are not allowed."))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise TargetRefused(_("The port is not valid.")) from exc
    host = parts.hostname
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetRefused(_("The host %(host)s cannot be resolved.") % {"host": host}) from exc
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise TargetRefused(_("The host %(host)s cannot be resolved.") % {"host": host})
    if not allow_private():
        for address in addresses:
            if _refused(ipaddress.ip_address(address.split("%")[0])):
                raise TargetRefused(
                    _(
                        "The host %(host)s resolves to %(address)s, a private, loopback or "
                        "reserved address; set GUANXI_WEBHOOK_ALLOW_PRIVATE=1 to allow it."
                    )
                    % {"host": host, "address": address}
                )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, host, port, path, addresses[0])


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address
        self._ctx = ssl.create_default_context()

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._ctx.wrap_socket(sock, server_hostname=self.host)


@dataclass
class Response:
    status: int
    body: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def post(
    url: str, body: bytes, headers: dict[str, str], *, timeout: float | None = None
) -> Response:
    """POST ``body`` to ``url`` (checked and pinned); network errors raise ``OSError``."""
    timeout = TIMEOUT_SECONDS if timeout is None else timeout
    target = check_url(url)
    conn: http.client.HTTPConnection
    if target.scheme == "https":
        conn = _PinnedHTTPSConnection(target, timeout)
    else:
        conn = _PinnedHTTPConnection(target, timeout)
    started = time.monotonic()
    try:
        conn.request(
            "POST",
            target.path,
            body=body,
            headers={"User-Agent": "Guanxi-Webhook/1", **headers},
        )
        resp = conn.getresponse()
        raw = resp.read(SNIPPET_CHARS * 4)
        status = resp.status
    except http.client.HTTPException as exc:
        raise OSError(str(exc) or exc.__class__.__name__) from exc
    finally:
        conn.close()
    duration = int((time.monotonic() - started) * 1000)
    return Response(status, raw.decode("utf-8", "replace")[:SNIPPET_CHARS], duration)
