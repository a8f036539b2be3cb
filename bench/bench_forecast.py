"""Forecast and attainment over many deals (DESIGN §5: dashboards ≤ 300 ms).

``python -m bench forecast``. Deals: ``GUANXI_BENCH_DEALS`` (default 200,000; one account
per five deals), generated deterministically; SQLite always, in a fresh file under a
temporary ``GUANXI_DATA_DIR``; PostgreSQL too when ``DATABASE_URL`` is set (database
``guanxi_bench_forecast``, created and dropped here). Each backend runs in its own
process. Measures the forecast page (HTML), ``GET /api/v1/forecast`` grouped by owner,
department and pipeline, and ``GET /api/v1/attainment``, as a manager (subtree scope)
and as an administrator: median and p95 over ``GUANXI_BENCH_RUNS`` runs (default 30).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from bench.bench_crm import _analyze, _bench_url, _columns, _pg_admin, _stamp, build_org, load

SEED = 20261201
RUNS = int(os.environ.get("GUANXI_BENCH_RUNS", "30"))
BENCH_DB = "guanxi_bench_forecast"
TARGET_MS = 300.0
NOW = dt.datetime(2026, 11, 15, 4, 0, tzinfo=dt.UTC)
PERIOD = "2026-Q4"


def main() -> None:
    """Run on SQLite and, when DATABASE_URL is set, on PostgreSQL."""
    n = int(os.environ.get("GUANXI_BENCH_DEALS", "200000"))
    print(f"nproc: {os.cpu_count()}  deals: {n:,}, {RUNS} runs each")
    failures = 0
    backends = ["sqlite"] + (["postgresql"] if os.environ.get("DATABASE_URL") else [])
    for backend in backends:
        data_dir = tempfile.mkdtemp(prefix="guanxi-bench-forecast-")
        env = {
            **os.environ,
            "GUANXI_DATA_DIR": data_dir,
            "DJANGO_SETTINGS_MODULE": "guanxi.settings",
        }
        if backend == "sqlite":
            env.pop("DATABASE_URL", None)
        else:
            url = os.environ["DATABASE_URL"]
            env["DATABASE_URL"] = _bench_url(url).replace("/guanxi_bench", f"/{BENCH_DB}")
            _pg_admin(url, f"DROP DATABASE IF EXISTS {BENCH_DB}")
            _pg_admin(url, f"CREATE DATABASE {BENCH_DB}")
        try:
            code = subprocess.call([sys.executable, "-m", "bench.bench_forecast", backend], env=env)
            failures += code != 0
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)
            if backend == "postgresql":
                _pg_admin(os.environ["DATABASE_URL"], f"DROP DATABASE IF EXISTS {BENCH_DB}")
    if failures:
        raise SystemExit(f"bench_forecast: {failures} backend(s) missed the target")


def account_rows(owners: list[int], n: int) -> tuple[list[str], Iterator[list[Any]]]:
    from guanxi.customers.models import Account

    cols, default, at = _columns(Account)

    def rows() -> Iterator[list[Any]]:
        created = _stamp(NOW - dt.timedelta(days=800))
        for i in range(n):
            row = list(default)
            row[at["name"]] = f"基准客户{i}有限公司"
            row[at["name_pinyin"]] = f"jizhunkehu{i}"
            row[at["name_initials"]] = "jzkh"
            row[at["owner_id"]] = owners[i % len(owners)]
            row[at["created_at"]] = created
            row[at["updated_at"]] = created
            yield row

    return cols, rows()


def deal_rows(owners: list[int], accounts: range, n: int) -> tuple[list[str], Iterator[list[Any]]]:
    """Half open, three in ten won, two in ten lost; close dates a year either side of now;
    one deal in twenty in USD; probabilities from the stage, a quarter overridden."""
    from guanxi.sales.models import Deal, Pipeline, Stage

    cols, default, at = _columns(Deal)
    stages: dict[int, dict[str, list[Stage]]] = {}
    for stage in Stage.objects.all():
        stages.setdefault(stage.pipeline_id, {}).setdefault(stage.kind, []).append(stage)
    pipelines = list(Pipeline.objects.values_list("id", flat=True))
    rnd = random.Random(SEED)

    def rows() -> Iterator[list[Any]]:
        for i in range(n):
            row = list(default)
            pipeline = pipelines[0] if rnd.random() < 0.8 else pipelines[-1]
            roll = rnd.random()
            kind = "open" if roll < 0.5 else "won" if roll < 0.8 else "lost"
            stage = rnd.choice(stages[pipeline][kind])
            created = NOW - dt.timedelta(seconds=rnd.randrange(730 * 86400))
            close = (NOW + dt.timedelta(days=rnd.randrange(-365, 365))).date()
            probability = stage.probability
            if kind == "open" and rnd.random() < 0.25:
                probability = rnd.randrange(5, 95)
            row[at["name"]] = f"商机{i}"
            row[at["account_id"]] = rnd.choice(accounts)
            row[at["pipeline_id"]] = pipeline
            row[at["stage_id"]] = stage.pk
            row[at["status"]] = kind
            row[at["amount"]] = str(Decimal(rnd.randrange(100_000, 200_000_000)) / 100)
            row[at["currency"]] = "USD" if rnd.random() < 0.05 else "CNY"
            row[at["expected_close_date"]] = close.isoformat()
            row[at["probability"]] = probability
            row[at["owner_id"]] = rnd.choice(owners)
            row[at["position"]] = i
            row[at["stage_changed_at"]] = _stamp(created)
            if kind == "won":
                won = NOW - dt.timedelta(seconds=rnd.randrange(540 * 86400))
                row[at["won_at"]] = _stamp(won)
            elif kind == "lost":
                row[at["lost_at"]] = _stamp(created + dt.timedelta(days=30))
            row[at["created_at"]] = _stamp(created)
            row[at["updated_at"]] = _stamp(created)
            yield row

    return cols, rows()


def measure(label: str, fn: Callable[[], Any]) -> tuple[str, float, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(2):
        fn()
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as ctx:
        fn()
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * len(times)) - 1)]
    median = statistics.median(times)
    verdict = "PASS" if p95 <= TARGET_MS else "FAIL"
    print(
        f"  {label:<58} median {median:7.1f} ms  p95 {p95:7.1f} ms  "
        f"{len(ctx.captured_queries):>2} q  {verdict}",
        flush=True,
    )
    return label, median, p95, len(ctx.captured_queries)


def run_backend(backend: str) -> int:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client

    from guanxi.identity.models import User
    from guanxi.identity.services import token_create
    from guanxi.sales import targets

    assert connection.vendor == backend, (connection.vendor, backend)
    n = int(os.environ.get("GUANXI_BENCH_DEALS", "200000"))
    print(f"\n[{backend}] {connection.settings_dict['NAME']}", flush=True)
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    with transaction.atomic():
        org = build_org()
        admin = User.objects.create_superuser("benchadmin", "admin@example.com", None)
    owners = [u.pk for u in org.sales]
    load("customers_account", *account_rows(owners, max(n // 5, 1)))
    with connection.cursor() as cur:
        cur.execute("SELECT MIN(id), MAX(id) FROM customers_account")
        lo, hi = cur.fetchone()
    load("sales_deal", *deal_rows(owners, range(lo, hi + 1), n))
    with transaction.atomic():
        for year in (2026, 2027):
            rows = [
                targets.GridRow("user", pk, "CNY", dict.fromkeys(range(1, 13), "500000"))
                for pk in owners
            ]
            targets.target_grid_save(actor=admin, measure="won_amount", year=year, rows=rows)
    _analyze()
    print(f"  data ready in {time.perf_counter() - started:.1f} s", flush=True)

    settings.ALLOWED_HOSTS = ["*"]
    results = []
    for who, user in (("manager", org.manager), ("admin", admin)):
        _token, raw = token_create(actor=None, user=user, name="bench")
        api = Client(headers={"Authorization": f"Bearer {raw}"})
        page = Client()
        page.force_login(user)

        def get(client: Client, url: str) -> Callable[[], Any]:
            def run() -> Any:
                response = client.get(url)
                assert response.status_code == 200, response.content[:300]
                return response

            return run

        results.append(
            measure(f"forecast page {PERIOD} by owner ({who})",
                    get(page, f"/sales/forecast/?period={PERIOD}&group_by=owner"))
        )  # fmt: skip
        for group in ("owner", "department", "pipeline"):
            results.append(
                measure(f"GET /api/v1/forecast?period={PERIOD}&group_by={group} ({who})",
                        get(api, f"/api/v1/forecast?period={PERIOD}&group_by={group}"))
            )  # fmt: skip
        results.append(
            measure(f"GET /api/v1/forecast?period=2026-11 ({who})",
                    get(api, "/api/v1/forecast?period=2026-11"))
        )  # fmt: skip
        results.append(
            measure(f"GET /api/v1/attainment?period={PERIOD} ({who})",
                    get(api, f"/api/v1/attainment?period={PERIOD}"))
        )  # fmt: skip
        results.append(
            measure(f"GET /api/v1/attainment?period={PERIOD}&measure=new_customers ({who})",
                    get(api, f"/api/v1/attainment?period={PERIOD}&measure=new_customers"))
        )  # fmt: skip
    failed = [r for r in results if r[2] > TARGET_MS]
    print(
        f"  [{backend}] nproc {os.cpu_count()}, {n:,} deals: "
        f"{'ALL PASS' if not failed else f'{len(failed)} FAIL'} (p95 ≤ {TARGET_MS:g} ms)",
        flush=True,
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(run_backend(sys.argv[1]))
