"""``guanxi serve``: the plan from its options, the child supervisor, and a real start."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.core.management.base import CommandError

from guanxi.core.management.commands.serve import build_plan, run_children


def test_plan_defaults() -> None:
    plan = build_plan({})
    assert plan.url == "http://127.0.0.1:8000/"
    assert plan.migrate and plan.collectstatic and not plan.demo_if_empty
    web = plan.commands["web"]
    assert web[1:4] == ["-m", "gunicorn", "guanxi.wsgi:application"]
    assert web[web.index("--bind") + 1] == "127.0.0.1:8000"
    assert web[web.index("--worker-class") + 1] == "gthread"
    assert plan.commands["worker"][1:] == ["-m", "guanxi", "worker"]


def test_plan_options() -> None:
    plan = build_plan(
        {"port": 9001, "host": "0.0.0.0", "workers": 4, "demo_if_empty": True, "no_worker": True}
    )
    web = plan.commands["web"]
    assert web[web.index("--bind") + 1] == "0.0.0.0:9001"
    assert web[web.index("--workers") + 1] == "4"
    assert plan.url == "http://127.0.0.1:9001/"
    assert plan.demo_if_empty and "worker" not in plan.commands
    ipv6 = build_plan({"host": "::1", "port": 8080})
    assert ipv6.commands["web"][ipv6.commands["web"].index("--bind") + 1] == "[::1]:8080"


@pytest.mark.parametrize("options", [{"port": 0}, {"port": 70000}, {"workers": -1}])
def test_plan_rejects_bad_options(options: dict[str, int]) -> None:
    with pytest.raises(CommandError):
        build_plan(options)


def test_serve_arguments_parse() -> None:
    from django.core.management import load_command_class

    parser = load_command_class("guanxi.core", "serve").create_parser("guanxi", "serve")
    options = parser.parse_args(["--port", "8123", "--demo-if-empty", "--workers", "3"])
    assert (options.port, options.demo_if_empty, options.workers) == (8123, True, 3)


def test_run_children_stops_the_other_when_one_dies() -> None:
    started = time.monotonic()
    code = run_children(
        {
            "web": [sys.executable, "-c", "import sys, time; time.sleep(0.3); sys.exit(3)"],
            "worker": [sys.executable, "-c", "import time; time.sleep(60)"],
        },
        log=lambda _line: None,
    )
    assert code == 3
    assert time.monotonic() - started < 15


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_smoke(tmp_path: Path) -> None:
    """A real `guanxi serve --demo-if-empty` on a fresh data dir answers /healthz, then
    stops both children on SIGTERM."""
    port = _free_port()
    env = {
        **os.environ,
        "GUANXI_DATA_DIR": str(tmp_path),
        "GUANXI_TESTING": "0",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DATABASE_URL", None)  # a fresh embedded database, whatever the suite runs on
    env.pop("REDIS_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "guanxi", "serve", "--port", str(port), "--demo-if-empty"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        body = None
        # Migrating and loading the whole demo company on a fresh database takes about a
        # minute on a quiet 2-core machine; a busy CI box needs more.
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    body = json.loads(r.read())
                    break
            except OSError:
                time.sleep(0.3)
        assert body == {"status": "ok", "database": "ok"}, "serve did not answer /healthz"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=5) as r:
            assert r.status == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            output, _ = proc.communicate(timeout=40)
        except subprocess.TimeoutExpired:
            proc.kill()
            output, _ = proc.communicate()
    assert proc.returncode == 0, output
    assert f"http://127.0.0.1:{port}/" in output
    assert "admin / guanxi-demo" in output
    assert "Huey consumer started" in output
    assert (tmp_path / "guanxi.sqlite3").exists()
