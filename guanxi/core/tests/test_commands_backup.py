"""``guanxi backup`` / ``guanxi restore``: real round trips (SQLite always, PostgreSQL
when the suite runs on it and pg_dump is installed)."""

from __future__ import annotations

import shutil
import tarfile
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from guanxi.core.management import backup
from guanxi.identity.models import Department, User

pytestmark = pytest.mark.django_db(transaction=True)


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def _make_user(username: str) -> None:
    run("createuser", username, "--password", "a-strong-pass-42", "--department", "市场部")


def _roundtrip(path: Path) -> None:
    _make_user("before")
    assert "Backed up" in run("backup", str(path))
    assert path.exists()

    _make_user("after")
    User.objects.filter(username="before").update(display_name="changed")
    Department.objects.filter(name="市场部").update(name="改名")

    assert "Restored" in run("restore", str(path), "--yes")
    assert set(User.objects.values_list("username", flat=True)) == {"before"}
    assert User.objects.get(username="before").display_name == ""
    assert Department.objects.filter(name="市场部").exists()
    # the restored database is fully usable: write to it
    _make_user("again")
    assert User.objects.count() == 2


sqlite_only = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="the suite runs on PostgreSQL"
)
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql" or shutil.which("pg_dump") is None,
    reason="needs the suite on PostgreSQL (make test-pg) and pg_dump on PATH",
)


@sqlite_only
def test_sqlite_backup_file_roundtrip(tmp_path: Path) -> None:
    path = tmp_path / "nightly.sqlite3"
    _roundtrip(path)
    assert backup.detect(path) == "sqlite"
    assert not (tmp_path / "nightly.sqlite3-wal").exists()


@sqlite_only
def test_sqlite_archive_roundtrip_with_media(tmp_path: Path, settings: object) -> None:
    media = tmp_path / "media"
    settings.MEDIA_ROOT = str(media)  # type: ignore[attr-defined]
    saved = default_storage.save("attachments/合同.txt", ContentFile(b"signed"))
    path = tmp_path / "full.tar.gz"
    _roundtrip(path)
    with tarfile.open(path) as tar:
        names = tar.getnames()
    assert {"manifest.json", "database.sqlite3", f"media/{saved}"} <= set(names)
    (media / saved).unlink()
    run("restore", str(path), "--yes")
    assert (media / saved).read_bytes() == b"signed"


@postgres_only
def test_postgresql_backup_roundtrip(tmp_path: Path) -> None:
    path = tmp_path / "nightly.pgdump"
    _roundtrip(path)
    assert backup.detect(path) == "pgdump"


@postgres_only
def test_postgresql_archive_roundtrip(tmp_path: Path) -> None:
    _roundtrip(tmp_path / "full.tgz")


def test_restore_needs_yes_without_a_terminal(tmp_path: Path) -> None:
    path = tmp_path / "b.tar.gz"
    run("backup", str(path))
    with pytest.raises(CommandError, match="--yes"):
        run("restore", str(path))


def test_restore_refuses_other_files(tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("hello")
    with pytest.raises(CommandError, match="not a Guanxi backup"):
        run("restore", str(junk), "--yes")
    with pytest.raises(CommandError, match="does not exist"):
        run("restore", str(tmp_path / "missing.sqlite3"), "--yes")
    other = tmp_path / "other.tar.gz"
    with tarfile.open(other, "w:gz") as tar:
        tar.add(junk, arcname="notes.txt")
    with pytest.raises(CommandError, match="not a Guanxi backup"):
        run("restore", str(other), "--yes")


def test_restore_refuses_a_backup_of_the_other_engine(tmp_path: Path) -> None:
    path = tmp_path / "x.backup"
    if connection.vendor == "sqlite":
        path.write_bytes(b"PGDMP\x01\x0e\x00" + b"\x00" * 64)
        expected = "postgresql database but Guanxi runs on sqlite"
    else:
        import sqlite3

        db = sqlite3.connect(path)
        db.execute("CREATE TABLE django_migrations (id integer)")
        db.commit()
        db.close()
        expected = "sqlite database but Guanxi runs on postgresql"
    with pytest.raises(CommandError, match=expected):
        run("restore", str(path), "--yes")


def test_pg_commands_use_the_django_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setitem(connection.settings_dict, "PASSWORD", "s3cret")
    dump = backup.pg_dump_command(Path("/tmp/x.pgdump"))
    assert dump[0] == "/usr/bin/pg_dump" and "--format=custom" in dump
    assert "s3cret" not in " ".join(dump)
    assert backup.pg_env()["PGPASSWORD"] == "s3cret"
    restore = backup.pg_restore_command(Path("/tmp/x.pgdump"))
    assert "--single-transaction" in restore and "--clean" in restore
