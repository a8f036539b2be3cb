"""One pagination for UI and API lists, with a bounded count (DESIGN §3)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from guanxi.core.errors import FieldError, ValidationFailed


@dataclass
class Page:
    items: list[Any]
    count: int
    count_exact: bool
    page: int
    page_size: int

    @property
    def has_next(self) -> bool:
        return self.page * self.page_size < self.count or (
            not self.count_exact and len(self.items) == self.page_size
        )

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def num_pages(self) -> int | None:
        if not self.count_exact:
            return None
        return max((self.count + self.page_size - 1) // self.page_size, 1)

    @property
    def start_index(self) -> int:
        return (self.page - 1) * self.page_size + 1 if self.items else 0

    @property
    def end_index(self) -> int:
        return (self.page - 1) * self.page_size + len(self.items)

    def as_api(self, items: list[Any]) -> dict[str, Any]:
        return {
            "items": items,
            "count": self.count,
            "count_exact": self.count_exact,
            "page": self.page,
            "page_size": self.page_size,
        }


def clean_page_args(page: Any, page_size: Any, default_size: int = 50) -> tuple[int, int]:
    errors: list[FieldError] = []
    try:
        # 0 is an error, not "the first page": only a missing value takes the default.
        page_i = 1 if page in (None, "") else int(page)
        if page_i < 1:
            raise ValueError
    except (TypeError, ValueError):
        errors.append(FieldError("page", "page must be a positive whole number"))
        page_i = 1
    try:
        size_i = default_size if page_size in (None, "") else int(page_size)
        if not 1 <= size_i <= settings.API_PAGE_SIZE_MAX:
            raise ValueError
    except (TypeError, ValueError):
        errors.append(
            FieldError("page_size", f"page_size must be between 1 and {settings.API_PAGE_SIZE_MAX}")
        )
        size_i = default_size
    if errors:
        raise ValidationFailed(errors)
    return page_i, size_i


def paginate(
    qs: QuerySet[Any], page: Any = 1, page_size: Any = 50, *, count_limit: int | None = None
) -> Page:
    """Slice ``qs`` into a page; counts at most ``count_limit`` rows (then count_exact=False).

    Two queries: the bounded count and the page itself.
    """
    page_i, size_i = clean_page_args(page, page_size)
    limit = count_limit if count_limit is not None else settings.LIST_COUNT_LIMIT
    offset = (page_i - 1) * size_i
    items = list(qs[offset : offset + size_i])
    if page_i == 1 and len(items) < size_i:
        return Page(items, len(items), True, page_i, size_i)
    bounded = qs.order_by()[: limit + 1].count() if limit else qs.count()
    exact = not limit or bounded <= limit
    count = bounded if exact else limit
    if items:  # a bounded count is never below what this page shows (past the end: as is)
        count = max(count, offset + len(items))
    return Page(items, count, exact, page_i, size_i)
