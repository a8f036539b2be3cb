"""Gap-free document numbers: format, yearly restart, rollback, patterns, concurrency."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.test import Client
from django.urls import reverse
from django.utils import translation

from guanxi.core import numbering
from guanxi.core.errors import NotPermitted, ValidationFailed
from guanxi.core.models import AuditEvent, NumberPattern, NumberSequence
from guanxi.tests_support import factories

pytestmark = pytest.mark.django_db

UTC = dt.UTC


@pytest.fixture(autouse=True)
def _sequence() -> Iterator[None]:
    numbering.define("test_doc", "Test documents", "T-{year}-{seq:04d}")
    with translation.override("en"):
        yield
    numbering._sequences.pop("test_doc", None)


def test_numbers_count_up_per_year_and_key() -> None:
    at = dt.datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    assert numbering.next_number(key="test_doc", at=at) == "T-2026-0001"
    assert numbering.next_number(key="test_doc", at=at) == "T-2026-0002"
    assert numbering.next_number(key="other", pattern="HT{year}{seq:05d}", at=at) == "HT202600001"
    next_year = dt.datetime(2027, 1, 3, tzinfo=UTC)
    assert numbering.next_number(key="test_doc", at=next_year) == "T-2027-0001"
    assert numbering.next_number(key="test_doc", at=at) == "T-2026-0003"
    assert numbering.current("test_doc", at=at) == 3


def test_the_year_is_the_local_year() -> None:
    # 2026-12-31 17:00 UTC is already 2027-01-01 01:00 in Shanghai.
    at = dt.datetime(2026, 12, 31, 17, 0, tzinfo=UTC)
    assert numbering.next_number(key="test_doc", at=at) == "T-2027-0001"


def test_rolled_back_create_gives_its_number_back() -> None:
    at = dt.datetime(2026, 3, 1, tzinfo=UTC)
    assert numbering.next_number(key="test_doc", at=at) == "T-2026-0001"
    with pytest.raises(IntegrityError), transaction.atomic():
        assert numbering.next_number(key="test_doc", at=at) == "T-2026-0002"
        raise IntegrityError("the numbered record failed to save")
    assert numbering.next_number(key="test_doc", at=at) == "T-2026-0002"


def test_configured_pattern_wins_over_default() -> None:
    admin = factories.admin()
    numbering.pattern_save(actor=admin, key="test_doc", pattern="QT{yy}{seq:03d}")
    at = dt.datetime(2026, 3, 1, tzinfo=UTC)
    assert numbering.next_number(key="test_doc", at=at) == "QT26001"
    assert AuditEvent.objects.filter(entity="number_pattern").count() == 1


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("Q-{year}", "must contain {seq}"),
        ("Q-{month}-{seq}", "Unknown placeholder {month}"),
        ("Q-{seq:04d", "Unbalanced"),
        ("", "Enter a pattern"),
        ("Q" * 61 + "{seq}", "at most 60"),
    ],
)
def test_bad_patterns_are_refused(pattern: str, message: str) -> None:
    admin = factories.admin()
    with pytest.raises(ValidationFailed, match=message) as info:
        numbering.pattern_save(actor=admin, key="test_doc", pattern=pattern)
    assert info.value.errors[0].field == "pattern"
    assert not NumberPattern.objects.exists()


def test_only_admins_change_patterns() -> None:
    with pytest.raises(NotPermitted):
        numbering.pattern_save(actor=factories.user("manager"), key="test_doc", pattern="{seq}")


def test_settings_page(client: Client) -> None:
    admin = factories.admin(language="en")
    client.force_login(admin)
    url = reverse("core:numbering")
    page = client.get(url).content.decode()
    assert "T-{year}-{seq:04d}" in page
    resp = client.post(url, {"key": "test_doc", "pattern": "X{year}"})
    assert resp.status_code == 400
    assert "must contain {seq}" in resp.content.decode()
    resp = client.post(url, {"key": "test_doc", "pattern": "X{year}-{seq:03d}"})
    assert resp.status_code == 302
    assert NumberPattern.objects.get(key="test_doc").pattern == "X{year}-{seq:03d}"
    client.force_login(factories.user("sales"))
    assert client.get(url).status_code == 403


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_on_postgres_are_gap_free() -> None:
    """25 threads take numbers at once and 5 of them roll back: 1..20, no gap, no twin."""
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent connections (PostgreSQL)")
    at = dt.datetime(2026, 6, 1, tzinfo=UTC)
    workers = 25
    barrier = threading.Barrier(workers)
    numbers: list[str] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def create(i: int) -> None:
        try:
            barrier.wait()
            with transaction.atomic():
                number = numbering.next_number(key="race", pattern="R{seq:03d}", at=at)
                # Hold the lock a little while, as a real create (lines, audit) would.
                AuditEvent.objects.create(action="create", entity="race", object_id=number)
                if i % 5 == 4:
                    raise RuntimeError("rolled back")
            with lock:
                numbers.append(number)
        except RuntimeError:
            pass
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    committed = len(numbers)
    assert committed == 20
    assert sorted(numbers) == [f"R{n:03d}" for n in range(1, committed + 1)]
    assert NumberSequence.objects.get(key="race", period="2026").last == committed
