"""``guanxi serve``: migrate, then run the web server (gunicorn) and the task worker.

Both run as child processes of this command. SIGINT/SIGTERM are forwarded to both (each
gets its graceful-shutdown signal); when either child stops, the other is stopped too and
``serve`` exits with the first non-zero exit code (0 after a clean shutdown).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from guanxi.core.demo import DEMO_PASSWORD

# What each child does on which signal: gunicorn finishes requests on TERM; Huey finishes
# running tasks on INT (TERM stops it at once).
GRACEFUL = {"web": signal.SIGTERM, "worker": signal.SIGINT}
STOP_TIMEOUT = 30.0


@dataclass
class ServePlan:
    """What ``serve`` will do, decided from its options (tested without starting anything)."""

    host: str
    port: int
    url: str
    migrate: bool
    collectstatic: bool
    demo_if_empty: bool
    commands: dict[str, list[str]] = field(default_factory=dict)


def build_plan(options: dict[str, Any]) -> ServePlan:
    host = options.get("host") or "127.0.0.1"
    port = int(options["port"] if options.get("port") is not None else 8000)
    if not 0 < port < 65536:
        raise CommandError(f"--port must be between 1 and 65535, not {port}")
    workers = int(options["workers"] if options.get("workers") is not None else 2)
    threads = int(options["threads"] if options.get("threads") is not None else 8)
    if workers < 1 or threads < 1:
        raise CommandError("--workers and --threads must be at least 1")
    bind_host = f"[{host}]" if ":" in host and not host.startswith("[") else host
    url_host = "127.0.0.1" if host in {"0.0.0.0", "::", "[::]"} else bind_host
    web = [
        sys.executable,
        "-m",
        "gunicorn",
        "guanxi.wsgi:application",
        "--bind",
        f"{bind_host}:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        "--timeout",
        str(int(options.get("timeout") or 60)),
        "--graceful-timeout",
        "20",
        "--access-logfile",
        "-" if options.get("access_log") else "/dev/null",
        "--error-logfile",
        "-",
        # One shared default path would make two servers on one machine collide.
        "--no-control-socket",
        "--forwarded-allow-ips",
        options.get("forwarded_allow_ips") or "127.0.0.1",
    ]
    commands = {"web": web}
    if not options.get("no_worker"):
        commands["worker"] = [sys.executable, "-m", "guanxi", "worker"]
    return ServePlan(
        host=host,
        port=port,
        url=f"http://{url_host}:{port}/",
        migrate=not options.get("no_migrate"),
        collectstatic=not options.get("no_collectstatic"),
        demo_if_empty=bool(options.get("demo_if_empty")),
        commands=commands,
    )


class Command(BaseCommand):
    help = "Migrate, then run the web server (gunicorn) and the background worker together."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--host", default="127.0.0.1", help="0.0.0.0 to listen on all")
        parser.add_argument(
            "--workers", type=int, default=2, help="web server processes (default 2)"
        )
        parser.add_argument("--threads", type=int, default=8, help="threads per process")
        parser.add_argument("--timeout", type=int, default=60, help="request timeout (s)")
        parser.add_argument(
            "--demo-if-empty",
            action="store_true",
            help="load the demo company when the database has no users",
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="web server only (run `guanxi worker` elsewhere)",
        )
        parser.add_argument("--no-migrate", action="store_true", help="skip `migrate`")
        parser.add_argument("--no-collectstatic", action="store_true", help="skip `collectstatic`")
        parser.add_argument("--access-log", action="store_true", help="log every request")
        parser.add_argument(
            "--forwarded-allow-ips",
            default="127.0.0.1",
            help="proxies whose X-Forwarded-* headers gunicorn trusts",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        plan = build_plan(options)
        self.prepare(plan)
        self.announce(plan)
        code = run_children(plan.commands, log=self.stderr.write)
        if code:
            raise CommandError(f"stopped (exit code {code})", returncode=code)

    def prepare(self, plan: ServePlan) -> None:
        from guanxi.identity.models import User

        if plan.migrate:
            self.stdout.write("Applying database migrations …")
            call_command("migrate", interactive=False, verbosity=0)
        if plan.collectstatic:
            call_command("collectstatic", interactive=False, verbosity=0)
        if plan.demo_if_empty and not User.objects.exists():
            self.stdout.write("The database is empty: loading the demo company …")
            try:
                call_command("demo", stdout=self.stdout)
            except Exception as exc:  # a broken demo step must not keep the server down
                self.stderr.write(
                    f"Loading the demo failed ({type(exc).__name__}: {exc}); the steps "
                    "before the failing one are kept. Serving anyway; see `guanxi demo`."
                )
        connections.close_all()  # the children open their own

    def announce(self, plan: ServePlan) -> None:
        from guanxi.identity.models import User

        line = "=" * 64
        self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(f"  Guanxi is starting at {plan.url}"))
        admin = User.objects.filter(username="admin").first()
        if admin is not None and admin.check_password(DEMO_PASSWORD):
            self.stdout.write(f"  Demo login: admin / {DEMO_PASSWORD}  (other users: see README)")
        elif not User.objects.exists():
            self.stdout.write(
                "  No users yet: `guanxi createuser NAME --password P --role admin` "
                "or `guanxi demo`."
            )
        if "worker" not in plan.commands:
            self.stdout.write("  Background worker not started (--no-worker).")
        self.stdout.write("  Press Ctrl+C to stop.")
        self.stdout.write(line)
        self.stdout.flush()


def run_children(commands: dict[str, list[str]], log: Any = print) -> int:
    """Start every command; forward SIGINT/SIGTERM; stop all when one ends.

    Returns the first non-zero exit code of a child that ended on its own, else 0.
    """
    procs: dict[str, subprocess.Popen[bytes]] = {}
    stopping = False

    def stop_all(*_args: Any) -> None:
        nonlocal stopping
        stopping = True
        for name, proc in procs.items():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(GRACEFUL.get(name, signal.SIGTERM))

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop_all()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    code = 0
    try:
        for name, argv in commands.items():
            # A session of their own: Ctrl+C reaches only us, and we forward it once.
            procs[name] = subprocess.Popen(argv, start_new_session=True)
        while True:
            ended = {n: p.returncode for n, p in procs.items() if p.poll() is not None}
            if ended:
                if not stopping:
                    name, rc = next(iter(ended.items()))
                    log(f"{name} exited with code {rc}; stopping the rest")
                    code = rc or 0
                    if code < 0:  # killed by a signal
                        code = 1
                stop_all()
                break
            if stopping:
                break
            time.sleep(0.2)
        deadline = time.monotonic() + STOP_TIMEOUT
        for proc in procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return code
