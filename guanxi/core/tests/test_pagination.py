"""One pagination for UI and API lists, with a bounded count."""

from __future__ import annotations

import pytest

from guanxi.core.errors import ValidationFailed
from guanxi.core.models import Note
from guanxi.core.pagination import clean_page_args, paginate
from guanxi.tests_support import factories
from guanxi.tests_support.api import ApiClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def twelve_notes() -> list[Note]:
    return [Note.objects.create(title=f"n{i:02d}") for i in range(12)]


def _qs():
    return Note.objects.order_by("title")


def test_first_page_that_is_not_full_needs_no_count(twelve_notes, django_assert_num_queries):
    with django_assert_num_queries(1):
        page = paginate(_qs(), 1, 50)
    assert (page.count, page.count_exact, len(page.items)) == (12, True, 12)
    assert not page.has_next and not page.has_previous
    assert page.num_pages == 1


def test_exact_count_below_the_limit(twelve_notes, settings, django_assert_num_queries):
    settings.LIST_COUNT_LIMIT = 100
    with django_assert_num_queries(2):
        page = paginate(_qs(), 2, 5)
    assert [n.title for n in page.items] == ["n05", "n06", "n07", "n08", "n09"]
    assert (page.count, page.count_exact) == (12, True)
    assert page.has_next and page.has_previous
    assert page.num_pages == 3
    assert (page.start_index, page.end_index) == (6, 10)


def test_count_is_bounded_above_the_limit(twelve_notes, settings):
    settings.LIST_COUNT_LIMIT = 10
    page = paginate(_qs(), 1, 5)
    assert (page.count, page.count_exact) == (10, False)
    assert page.num_pages is None
    assert page.has_next
    assert page.as_api(["x"]) == {
        "items": ["x"],
        "count": 10,
        "count_exact": False,
        "page": 1,
        "page_size": 5,
    }


def test_count_exactly_at_the_limit_is_exact(twelve_notes, settings):
    settings.LIST_COUNT_LIMIT = 12
    page = paginate(_qs(), 1, 5)
    assert (page.count, page.count_exact) == (12, True)


def test_bounded_count_never_below_what_was_shown(twelve_notes, settings):
    settings.LIST_COUNT_LIMIT = 3
    page = paginate(_qs(), 2, 5)
    assert page.count_exact is False
    assert page.count == 10
    assert page.has_next


def test_explicit_count_limit_argument(twelve_notes):
    page = paginate(_qs(), 1, 5, count_limit=6)
    assert (page.count, page.count_exact) == (6, False)


def test_page_past_the_end_is_empty(twelve_notes):
    page = paginate(_qs(), 9, 5)
    assert page.items == []
    assert (page.count, page.count_exact) == (12, True)
    assert page.start_index == 0


@pytest.mark.parametrize(
    ("page", "size", "fields"),
    [
        (0, 50, ["page"]),
        (-1, 50, ["page"]),
        ("x", 50, ["page"]),
        (1, 0, ["page_size"]),
        (1, 201, ["page_size"]),
        (1, "many", ["page_size"]),
        (0, 0, ["page", "page_size"]),
    ],
)
def test_bad_page_arguments(page, size, fields):
    with pytest.raises(ValidationFailed) as exc:
        clean_page_args(page, size)
    assert [e.field for e in exc.value.errors] == fields


def test_missing_page_arguments_take_defaults():
    assert clean_page_args(None, None) == (1, 50)
    assert clean_page_args("", "") == (1, 50)
    assert clean_page_args("3", "200") == (3, 200)


def test_api_list_reports_a_bounded_count(settings):
    settings.LIST_COUNT_LIMIT = 4
    admin = factories.admin()
    for _ in range(6):
        factories.user("sales")
    r = ApiClient().login(admin).get("users", page_size=2)
    body = r.json()
    assert (body["count"], body["count_exact"]) == (4, False)
    r = ApiClient().login(admin).get("users", page_size=50)
    body = r.json()
    assert (body["count"], body["count_exact"]) == (7, True)
