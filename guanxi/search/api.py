"""``GET /api/v1/search?q=``: the global search, grouped by type, scoped and masked."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from guanxi.api.auth import actor
from guanxi.search import selectors

router = Router(tags=["search"])


class SearchGroup(Schema):
    type: str
    items: list[dict[str, Any]]
    more: bool


class SearchOut(Schema):
    q: str
    kind: str
    groups: list[SearchGroup]


@router.get("/search", response=SearchOut, summary="Search leads, accounts and contacts")
def search(request: HttpRequest, q: str = "", limit: int = 10) -> dict[str, Any]:
    """Name or company prefix, pinyin (zhangwei) or initials (zw), phone in any format,
    its last 4+ digits, or e-mail; each group holds at most ``limit`` items (≤ 50)."""
    return selectors.search_global(actor(request), q, limit_per_type=limit)
