"""The audit trail: append-only, field-by-field diffs, login events and lockout."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from guanxi.core import audit
from guanxi.core.models import AuditEvent
from guanxi.identity.models import User
from guanxi.tests_support import factories

pytestmark = pytest.mark.django_db

PASSWORD = "secret-pass-123"


def _event() -> AuditEvent:
    return audit.record(actor=None, action="create", entity="note", object_id=1, object_repr="x")


# --- append-only ----------------------------------------------------------------------


def test_saving_an_existing_event_is_refused():
    event = _event()
    event.object_repr = "changed"
    with pytest.raises(PermissionError):
        event.save()
    assert AuditEvent.objects.get(pk=event.pk).object_repr == "x"


def test_deleting_an_event_is_refused():
    event = _event()
    with pytest.raises(PermissionError):
        event.delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_queryset_update_and_delete_are_refused():
    event = _event()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(object_repr="changed")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.update(object_repr="changed")
    assert AuditEvent.objects.get(pk=event.pk).object_repr == "x"
    # last: bulk_update fails inside its own atomic block, which spoils the test transaction
    event.object_repr = "changed"
    with pytest.raises(PermissionError):
        AuditEvent.objects.bulk_update([event], ["object_repr"])


def test_record_names_actor_and_system():
    user = factories.user("sales")
    by_user = audit.record(actor=user, action="update", entity="user", obj=user)
    assert (by_user.actor_id, by_user.actor_label) == (user.pk, user.username)
    assert by_user.object_id == str(user.pk)
    assert by_user.object_repr == str(user)
    by_system = _event()
    assert (by_system.actor_id, by_system.actor_label) == (None, "system")


def test_record_makes_changes_json_safe():
    event = audit.record(
        actor=None,
        action="update",
        entity="note",
        object_id=1,
        changes={
            "amount": [Decimal("1.50"), Decimal("2.00")],
            "when": [None, dt.date(2024, 5, 1)],
        },
    )
    event.refresh_from_db()
    assert event.changes == {"amount": ["1.50", "2.00"], "when": [None, "2024-05-01"]}


def test_record_many_bulk_appends():
    audit.record_many(
        [AuditEvent(action="import", entity="note", object_id=str(i)) for i in range(3)]
    )
    assert AuditEvent.objects.filter(action="import").count() == 3


# --- diff -----------------------------------------------------------------------------


def test_diff_lists_changed_fields_only():
    before = {"title": "a", "body": "same", "owner": 1}
    after = {"title": "b", "body": "same", "owner": 2}
    assert audit.diff(before, after) == {"title": ["a", "b"], "owner": [1, 2]}


def test_diff_splits_custom_by_key():
    before = {"custom": {"region": "east", "size": 3, "gone": "x"}}
    after = {"custom": {"region": "north", "size": 3, "new": True}}
    assert audit.diff(before, after) == {
        "custom.gone": ["x", None],
        "custom.new": [None, True],
        "custom.region": ["east", "north"],
    }


def test_diff_of_equal_snapshots_is_empty():
    snap = {"title": "a", "custom": {"k": 1}}
    assert audit.diff(snap, dict(snap)) == {}


def test_diff_renders_dates_and_decimals():
    changes = audit.diff(
        {"d": dt.date(2024, 1, 1), "n": Decimal("1.0")},
        {"d": dt.date(2024, 1, 2), "n": Decimal("2.5")},
    )
    assert changes == {"d": ["2024-01-01", "2024-01-02"], "n": ["1.0", "2.5"]}


# --- login ----------------------------------------------------------------------------


def _login(username: str, password: str = PASSWORD) -> tuple[Client, int]:
    client = Client()
    r = client.post("/login/", {"username": username, "password": password})
    return client, r.status_code


def _logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_login_success_is_recorded():
    user = factories.user("sales", username="Zhang")
    client, status = _login("zhang")
    assert status == 302
    assert _logged_in(client)
    event = AuditEvent.objects.get(action="login")
    assert (event.actor_id, event.object_id, event.ip) == (user.pk, str(user.pk), "127.0.0.1")


def test_login_by_email_is_case_insensitive():
    user = factories.user("sales", username="li", email="li.na@example.com")
    client, status = _login("LI.NA@Example.COM")
    assert status == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_failed_login_is_recorded_and_counted():
    user = factories.user("sales", username="wang")
    client, status = _login("wang", "wrong-password")
    assert status == 400
    assert not _logged_in(client)
    event = AuditEvent.objects.get(action="login_failed")
    assert (event.actor_id, event.object_id, event.object_repr) == (None, str(user.pk), "wang")
    assert User.objects.get(pk=user.pk).failed_logins == 1


def test_failed_login_of_unknown_user_is_recorded():
    _client, status = _login("nobody", "whatever")
    assert status == 400
    event = AuditEvent.objects.get(action="login_failed")
    assert (event.object_id, event.object_repr) == ("", "nobody")


def test_inactive_user_cannot_log_in():
    factories.user("sales", username="gone", is_active=False)
    client, status = _login("gone")
    assert status == 400
    assert not _logged_in(client)


def test_lockout_after_max_failures(settings):
    settings.LOGIN_MAX_FAILURES = 3
    user = factories.user("sales", username="zhao")
    # given max-1 failures the account is still open
    for _ in range(2):
        _login("zhao", "wrong")
    assert User.objects.get(pk=user.pk).locked_until is None
    # when the last allowed failure happens
    _login("zhao", "wrong")
    # then the account is locked and the lock is recorded
    locked = User.objects.get(pk=user.pk)
    assert locked.locked_until is not None and locked.locked_until > timezone.now()
    assert AuditEvent.objects.filter(action="locked", object_id=str(user.pk)).count() == 1
    assert AuditEvent.objects.filter(action="login_failed").count() == 3
    # and even the right password is refused while locked, without a login event
    client, status = _login("zhao")
    assert status == 400
    assert not _logged_in(client)
    assert not AuditEvent.objects.filter(action="login").exists()


def test_login_works_again_after_the_lock_expires(settings):
    settings.LOGIN_MAX_FAILURES = 2
    user = factories.user("sales", username="sun")
    _login("sun", "wrong")
    _login("sun", "wrong")
    User.objects.filter(pk=user.pk).update(locked_until=timezone.now() - dt.timedelta(seconds=1))
    client, status = _login("sun")
    assert status == 302
    assert _logged_in(client)
    after = User.objects.get(pk=user.pk)
    assert (after.failed_logins, after.locked_until) == (0, None)


def test_default_max_failures_locks():
    user = factories.user("sales", username="qian")
    for _ in range(settings.LOGIN_MAX_FAILURES):
        _login("qian", "wrong")
    assert User.objects.get(pk=user.pk).locked_until is not None


def test_success_resets_the_failure_count():
    user = factories.user("sales", username="zhou")
    _login("zhou", "wrong")
    _login("zhou")
    assert User.objects.get(pk=user.pk).failed_logins == 0
