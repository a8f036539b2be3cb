"""Backup and restore of the database (and uploaded files) for ``guanxi backup|restore``.

Formats, chosen by the file name when backing up and by the file's first bytes when
restoring:

- ``*.tar.gz`` / ``*.tgz``: an archive with ``manifest.json``, the database
  (``database.sqlite3`` or ``database.pgdump``) and ``media/`` (uploaded files).
- anything else: the database alone: a SQLite database file (SQLite) or a ``pg_dump``
  custom-format dump (PostgreSQL).

SQLite is copied online with SQLite's backup API: a consistent snapshot even while the
server writes (WAL). PostgreSQL uses ``pg_dump -Fc`` / ``pg_restore`` from PATH with the
connection of ``settings.DATABASES["default"]``.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
GZIP_MAGIC = b"\x1f\x8b"
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz")
MANIFEST_FORMAT = "guanxi-backup"


def engine() -> str:
    """``sqlite`` or ``postgresql`` (anything else is refused)."""
    vendor = connection.vendor
    if vendor not in {"sqlite", "postgresql"}:
        raise CommandError(f"Backups support SQLite and PostgreSQL, not {vendor}.")
    return vendor


def detect(path: Path) -> str:
    """What a backup file holds: ``sqlite``, ``pgdump`` or ``archive``."""
    try:
        with path.open("rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise CommandError(f"Cannot read {path}: {exc.strerror}") from exc
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "pgdump"
    if head.startswith(GZIP_MAGIC):
        return "archive"
    raise CommandError(
        f"{path} is not a Guanxi backup (expected a SQLite database, a pg_dump custom-format "
        "dump or a .tar.gz archive made by `guanxi backup`)."
    )


# --- SQLite -----------------------------------------------------------------------------


def _raw_sqlite() -> sqlite3.Connection:
    if connection.in_atomic_block:
        raise CommandError("Cannot back up or restore inside a transaction.")
    connection.ensure_connection()
    raw = connection.connection
    assert isinstance(raw, sqlite3.Connection)
    return raw


def sqlite_backup(target: Path) -> None:
    """A consistent copy of the live database, as one self-contained file."""
    dst = sqlite3.connect(target)
    try:
        _raw_sqlite().backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # no -wal file beside the copy
    finally:
        dst.close()


def sqlite_check(source: Path) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        ok = src.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        tables = {r[0] for r in src.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        raise CommandError(f"{source} is not a usable SQLite database: {exc}") from exc
    finally:
        src.close()
    if not ok:
        raise CommandError(f"{source} is damaged (PRAGMA quick_check failed).")
    if "django_migrations" not in tables:
        raise CommandError(f"{source} is a SQLite database but not a Guanxi one.")


def sqlite_restore(source: Path) -> None:
    """Replace the live database's content with ``source`` (page by page, atomically)."""
    sqlite_check(source)
    raw = _raw_sqlite()
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        src.backup(raw)
    finally:
        src.close()
    raw.execute("PRAGMA journal_mode=WAL") if not _in_memory() else None
    connection.close()


def _in_memory() -> bool:
    return bool(connection.is_in_memory_db()) if hasattr(connection, "is_in_memory_db") else False


# --- PostgreSQL -------------------------------------------------------------------------


def pg_env() -> dict[str, str]:
    """libpq environment for the default database (no password on the command line)."""
    sd = connection.settings_dict
    env = dict(os.environ)
    mapping = {
        "PGHOST": sd.get("HOST"),
        "PGPORT": sd.get("PORT"),
        "PGUSER": sd.get("USER"),
        "PGPASSWORD": sd.get("PASSWORD"),
        "PGDATABASE": sd.get("NAME"),
        "PGSSLMODE": (sd.get("OPTIONS") or {}).get("sslmode"),
    }
    for key, value in mapping.items():
        if value:
            env[key] = str(value)
    return env


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise CommandError(
            f"{name} was not found on PATH: install the PostgreSQL client tools "
            "(Debian: apt-get install postgresql-client) matching the server's version."
        )
    return path


def pg_dump_command(target: Path) -> list[str]:
    return [_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(target)]


def pg_restore_command(source: Path) -> list[str]:
    return [
        _pg_tool("pg_restore"),
        "--clean",
        "--if-exists",
        "--no-owner",
        "--no-privileges",
        "--single-transaction",
        "--exit-on-error",
        "--dbname",
        str(connection.settings_dict["NAME"]),
        str(source),
    ]


def _run(argv: list[str]) -> None:
    result = subprocess.run(argv, env=pg_env(), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise CommandError(
            f"{Path(argv[0]).name} failed (exit {result.returncode}):\n{result.stderr.strip()}"
        )


def pg_backup(target: Path) -> None:
    _run(pg_dump_command(target))


def pg_restore(source: Path) -> None:
    connection.close()  # our own session must not hold locks on the tables being replaced
    _run(pg_restore_command(source))


# --- Both -------------------------------------------------------------------------------


def _database_backup(target: Path) -> None:
    if engine() == "sqlite":
        sqlite_backup(target)
    else:
        pg_backup(target)


def _database_restore(source: Path, kind: str) -> None:
    current = engine()
    wanted = {"sqlite": "sqlite", "pgdump": "postgresql"}[kind]
    if wanted != current:
        raise CommandError(
            f"This backup is a {wanted} database but Guanxi runs on {current}: "
            "restore it into the same kind of database (or move the data with "
            "`guanxi dumpdata` / `guanxi loaddata`)."
        )
    if kind == "sqlite":
        sqlite_restore(source)
    else:
        pg_restore(source)


def is_archive_name(path: Path) -> bool:
    return path.name.lower().endswith(ARCHIVE_SUFFIXES)


def backup(target: Path, *, media: bool = True) -> dict[str, Any]:
    """Write a backup to ``target`` (atomically: a temporary file, then a rename)."""
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    kind = engine()
    fd, tmp_name = tempfile.mkstemp(prefix=".guanxi-backup-", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    summary: dict[str, Any] = {"engine": kind, "file": str(target), "media_files": 0}
    try:
        if is_archive_name(target):
            with tempfile.TemporaryDirectory() as work:
                db_name = "database.sqlite3" if kind == "sqlite" else "database.pgdump"
                db_file = Path(work) / db_name
                _database_backup(db_file)
                manifest = {
                    "format": MANIFEST_FORMAT,
                    "version": 1,
                    "engine": kind,
                    "database": db_name,
                    "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                }
                with tarfile.open(tmp, "w:gz") as tar:
                    data = json.dumps(manifest, indent=2).encode()
                    info = tarfile.TarInfo("manifest.json")
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
                    tar.add(db_file, arcname=db_name)
                    media_root = Path(settings.MEDIA_ROOT)
                    if media and media_root.is_dir():
                        for path in sorted(media_root.rglob("*")):
                            if path.is_file():
                                tar.add(path, arcname=f"media/{path.relative_to(media_root)}")
                                summary["media_files"] += 1
        else:
            _database_backup(tmp)
        tmp.chmod(0o600)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    summary["bytes"] = target.stat().st_size
    return summary


def restore(source: Path, *, media: bool = True) -> dict[str, Any]:
    source = source.resolve()
    kind = detect(source)
    summary: dict[str, Any] = {"engine": engine(), "file": str(source), "media_files": 0}
    if kind != "archive":
        _database_restore(source, kind)
        return summary
    with tempfile.TemporaryDirectory() as work, tarfile.open(source, "r:gz") as tar:
        try:
            manifest = json.load(tar.extractfile("manifest.json") or io.BytesIO(b"{}"))
        except (KeyError, json.JSONDecodeError) as exc:
            raise CommandError(f"{source} is a .tar.gz but not a Guanxi backup.") from exc
        if manifest.get("format") != MANIFEST_FORMAT:
            raise CommandError(f"{source} is a .tar.gz but not a Guanxi backup.")
        db_name = str(manifest.get("database", ""))
        tar.extract(db_name, work, filter="data")
        db_file = Path(work) / db_name
        _database_restore(db_file, detect(db_file))
        if media:
            media_root = Path(settings.MEDIA_ROOT)
            media_root.mkdir(parents=True, exist_ok=True)
            members = [m for m in tar.getmembers() if m.name.startswith("media/") and m.isfile()]
            for member in members:
                member.name = member.name[len("media/") :]
                tar.extract(member, media_root, filter="data")
            summary["media_files"] = len(members)
    return summary
