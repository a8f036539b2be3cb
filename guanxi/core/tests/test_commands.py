"""The command-line contract (DESIGN §3): createuser, token, demo, worker, schedule."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from guanxi import schedule
from guanxi.core import demo
from guanxi.core.demo import (
    DEMO_COMPANY,
    DEMO_PASSWORD,
    DemoContext,
    load_organisation,
    register_demo_step,
)
from guanxi.identity.models import ApiToken, Department, User
from guanxi.identity.services import token_authenticate

pytestmark = pytest.mark.django_db


def run(*args: str, **kwargs: object) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO(), **kwargs)
    return out.getvalue()


# --- createuser -------------------------------------------------------------------------


def test_createuser_with_role_and_new_department() -> None:
    out = run(
        "createuser",
        "alice",
        "--password",
        "a-strong-pass-42",
        "--role",
        "manager",
        "--department",
        "市场部",
        "--email",
        "Alice@Example.com",
        "--display-name",
        "爱丽丝",
    )
    user = User.objects.get(username="alice")
    assert "Created user alice" in out
    assert user.check_password("a-strong-pass-42")
    assert [r.code for r in user.roles.all()] == ["manager"]
    assert user.department.name == "市场部"
    assert user.department.parent is not None and user.department.parent.parent is None
    assert user.email == "alice@example.com" and user.display_name == "爱丽丝"


def test_createuser_defaults_to_sales_in_root_and_reuses_department() -> None:
    run("createuser", "bob", "--password", "a-strong-pass-42")
    run("createuser", "carol", "--password", "a-strong-pass-42", "--department", "市场部")
    run("createuser", "dave", "--password", "a-strong-pass-42", "--department", "市场部")
    bob = User.objects.get(username="bob")
    assert [r.code for r in bob.roles.all()] == ["sales"]
    assert bob.department.parent is None
    assert Department.objects.filter(name="市场部").count() == 1


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["bad name!", "--password", "a-strong-pass-42"], "username"),
        (["erin", "--password", "123"], "password"),
        (["erin", "--password", "a-strong-pass-42", "--role", "boss"], "role"),
        (["erin", "--password", "a-strong-pass-42", "--email", "not-mail"], "email"),
    ],
)
def test_createuser_invalid_input_exits_1_with_field_errors(args: list[str], field: str) -> None:
    with pytest.raises(CommandError) as info:
        run("createuser", *args)
    assert info.value.returncode == 1
    assert f"{field}:" in str(info.value)
    assert not User.objects.filter(username="erin").exists()


def test_createuser_duplicate_username() -> None:
    run("createuser", "bob", "--password", "a-strong-pass-42")
    with pytest.raises(CommandError, match="username"):
        run("createuser", "BOB", "--password", "a-strong-pass-42")


# --- token ------------------------------------------------------------------------------


def test_token_create_prints_only_the_token_and_it_authenticates() -> None:
    run("createuser", "bob", "--password", "a-strong-pass-42")
    out = run("token", "create", "bob", "--name", "crm-sync")
    raw = out.strip()
    assert out == raw + "\n" and " " not in raw
    user = token_authenticate(raw)
    assert user is not None and user.username == "bob"
    assert ApiToken.objects.get(user=user).name == "crm-sync"


def test_token_list_and_revoke() -> None:
    run("createuser", "bob", "--password", "a-strong-pass-42")
    raw = run("token", "create", "bob").strip()
    token = ApiToken.objects.get()
    listing = run("token", "list", "bob")
    assert "active" in listing and token.hint in listing
    assert "Revoked" in run("token", "revoke", str(token.pk))
    assert token_authenticate(raw) is None
    assert "revoked" in run("token", "list", "bob")


def test_token_errors() -> None:
    with pytest.raises(CommandError, match="No user"):
        run("token", "create", "nobody")
    with pytest.raises(CommandError, match="No token"):
        run("token", "revoke", "999")


# --- demo -------------------------------------------------------------------------------


def test_demo_organisation_and_idempotent() -> None:
    ctx = DemoContext(log=lambda _line: None)
    load_organisation(ctx)
    assert len(ctx.logins) == 12
    root = Department.objects.get(parent__isnull=True)
    assert root.name == DEMO_COMPANY
    sales = Department.objects.get(name="销售部")
    assert {d.name for d in sales.children.all()} == {"华东区", "华南区"}
    assert Department.objects.filter(name="客服部", parent=root).exists()
    assert User.objects.count() == 12
    admin = User.objects.get(username="admin")
    assert admin.check_password(DEMO_PASSWORD)
    assert User.objects.get(username="zhengkai").check_password(DEMO_PASSWORD)
    assert admin.roles.filter(is_admin=True).exists()
    assert root.head == admin
    manager = User.objects.get(username="manager")
    assert manager.display_name == "王经理" and manager.department == sales
    assert sales.head == manager
    zhangwei = User.objects.get(username="zhangwei")
    assert (zhangwei.display_name, zhangwei.department.name) == ("张伟", "华东区")
    lina = User.objects.get(username="lina")
    assert (lina.display_name, lina.department.name) == ("李娜", "华南区")
    roles = set(User.objects.values_list("roles__code", flat=True))
    assert roles == {"admin", "manager", "sales", "service", "readonly"}

    load_organisation(DemoContext(log=lambda _line: None))
    assert User.objects.count() == 12
    assert Department.objects.count() == 5


def test_demo_command_runs_every_registered_step_twice() -> None:
    """The whole demo, every app's steps included, loads and can be loaded again."""
    out = run("demo")
    assert "admin" in out and DEMO_PASSWORD in out and "张伟" in out
    run("demo")
    assert User.objects.count() == 12


def test_demo_runs_registered_steps_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def later(ctx: DemoContext) -> None:
        seen.append(f"later:{ctx.users['zhangwei'].display_name}")

    def earlier(ctx: DemoContext) -> None:
        seen.append(f"earlier:{len(ctx.users)}")

    # Only the organisation and these two: other apps' steps are tested by the test above.
    monkeypatch.setattr(demo, "autodiscover_modules", lambda *_a: None)
    monkeypatch.setattr(demo, "_steps", {})
    register_demo_step(900, later)
    register_demo_step(10, load_organisation)
    register_demo_step(50, earlier)
    run("demo")
    assert seen == ["earlier:12", "later:张伟"]
    listing = run("demo", "--list-steps")
    assert listing.index("load_organisation") < listing.index("earlier") < listing.index("later")


# --- worker and schedule ----------------------------------------------------------------


def test_worker_is_the_huey_consumer() -> None:
    from django.core.management import load_command_class

    command = load_command_class("guanxi.core", "worker")
    parser = command.create_parser("guanxi", "worker")
    options = parser.parse_args(["--workers", "3", "--worker-type", "thread"])
    assert options.workers == 3 and options.worker_type == "thread"


def test_schedule_is_registered_with_huey() -> None:
    from huey.contrib.djhuey import HUEY

    import guanxi.core.tasks  # noqa: F401  (what djhuey imports)

    names = {t.__name__ for t in HUEY._registry._periodic_tasks}
    assert {"housekeeping_purge_sessions", "housekeeping_flush_task_results"} <= names


def test_purge_sessions_task_deletes_only_expired_sessions() -> None:
    old = SessionStore()
    old["x"] = 1
    old.create()
    live = SessionStore()
    live["y"] = 2
    live.create()
    Session.objects.filter(session_key=old.session_key).update(
        expire_date=timezone.now() - timezone.timedelta(days=1)
    )
    # Through the queue (immediate mode in tests runs it at once; Huey keeps no result for
    # periodic tasks), then directly for the summary it returns.
    schedule.housekeeping_purge_sessions()
    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]
    assert schedule.housekeeping_purge_sessions.call_local() == 0


def test_flush_task_results_task() -> None:
    from huey.contrib.djhuey import HUEY

    HUEY.put("leftover", "a result nobody read")
    assert HUEY.result_count() >= 1
    schedule.housekeeping_flush_task_results()
    assert HUEY.result_count() == 0


@pytest.mark.django_db
def test_optimize_database_task_runs() -> None:
    from django.db import connection

    from guanxi.schedule import housekeeping_optimize_database

    assert housekeeping_optimize_database.call_local() == connection.vendor
