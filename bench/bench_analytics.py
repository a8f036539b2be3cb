"""Customer analytics over 200,000 deals: RFM/churn refresh, cohorts, builder, pages.

``python -m bench analytics``. Deals: ``GUANXI_BENCH_DEALS`` (default 200,000; the deal mix
of ``bench_sales``: about 35% won over two years, one account per ten deals). Runs of each
page: ``GUANXI_BENCH_RUNS`` (default 50); refresh runs: ``GUANXI_BENCH_REFRESH_RUNS``
(default 5). SQLite always, PostgreSQL too when ``DATABASE_URL`` is set (database
``guanxi_bench``, created and dropped here), each in its own process.

Targets: a full RFM + churn refresh p95 ≤ 10 s; the builder (deals by won month × owner,
sum of amount), the RFM / churn pages p95 ≤ 1,000 ms; the cohort page (every won deal
of the scope, grouped per account and month in SQL) p95 ≤ 3,000 ms.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from bench.bench_crm import (
    BENCH_DB,
    RUNS,
    Gen,
    _analyze,
    _bench_url,
    _pg_admin,
    account_rows,
    build_org,
    load,
)
from bench.bench_sales import SEED, deal_rows

REFRESH_RUNS = int(os.environ.get("GUANXI_BENCH_REFRESH_RUNS", "5"))


def main() -> None:
    deals = int(os.environ.get("GUANXI_BENCH_DEALS", "200000"))
    print(f"nproc: {os.cpu_count()}  deals: {deals:,}")
    failures = 0
    backends = ["sqlite"] + (["postgresql"] if os.environ.get("DATABASE_URL") else [])
    for backend in backends:
        data_dir = tempfile.mkdtemp(prefix="guanxi-bench-")
        env = {
            **os.environ,
            "GUANXI_DATA_DIR": data_dir,
            "DJANGO_SETTINGS_MODULE": "guanxi.settings",
        }
        env.setdefault("GUANXI_SECRET_KEY", "bench-only-secret-key-" + "x" * 40)
        if backend == "sqlite":
            env.pop("DATABASE_URL", None)
        else:
            env["DATABASE_URL"] = _bench_url(os.environ["DATABASE_URL"])
            _pg_admin(os.environ["DATABASE_URL"], f"DROP DATABASE IF EXISTS {BENCH_DB}")
            _pg_admin(os.environ["DATABASE_URL"], f"CREATE DATABASE {BENCH_DB}")
        try:
            code = subprocess.call(
                [sys.executable, "-m", "bench.bench_analytics", backend], env=env
            )
            failures += code != 0
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)
            if backend == "postgresql":
                _pg_admin(os.environ["DATABASE_URL"], f"DROP DATABASE IF EXISTS {BENCH_DB}")
    if failures:
        raise SystemExit(f"bench_analytics: {failures} backend(s) missed a target")


def measure(label: str, fn: Callable[[], Any], runs: int, target_ms: float) -> bool:
    fn()  # warm
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, max(round(0.95 * len(times)) - 1, 0))]
    ok = p95 <= target_ms
    print(
        f"  {label:<56} median {statistics.median(times):9.1f} ms  p95 {p95:9.1f} ms  "
        f"(≤{target_ms:g}) {'PASS' if ok else 'FAIL'}",
        flush=True,
    )
    return ok


def run_backend(backend: str) -> int:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client

    from guanxi.identity.models import Role
    from guanxi.identity.services import user_create
    from guanxi.reports.analytics import scores
    from guanxi.reports.models import CustomerScore
    from guanxi.sales.models import Deal

    assert connection.vendor == backend, (connection.vendor, backend)
    n = int(os.environ.get("GUANXI_BENCH_DEALS", "200000"))
    print(f"\n[{backend}] {connection.settings_dict['NAME']}", flush=True)
    call_command("migrate", verbosity=0)
    gen = Gen(SEED)
    now = dt.datetime.now(dt.UTC)
    with transaction.atomic():
        org = build_org()
        admin = user_create(
            actor=None,
            username="boss",
            password=None,
            display_name="老板",
            department=None,
            roles=[Role.objects.get(code="admin")],
        )
    load("customers_account", *account_rows(gen, org, max(n // 10, 1), now))
    with connection.cursor() as cur:
        cur.execute("SELECT MIN(id), MAX(id) FROM customers_account")
        lo, hi = cur.fetchone()
    load("sales_deal", *deal_rows(gen, org, n, range(lo, hi + 1), now))
    _analyze()
    won = Deal.objects.filter(status="won").count()
    customers = Deal.objects.filter(status="won").values("account_id").distinct().count()
    print(f"  {n:,} deals, {won:,} won, {customers:,} customers", flush=True)
    settings.ALLOWED_HOSTS = ["*"]

    results = [
        measure(
            "RFM + churn refresh (all customers)", lambda: scores.refresh(), REFRESH_RUNS, 10_000
        )
    ]
    stored = CustomerScore.objects.count()
    assert stored == customers, (stored, customers)
    print(f"    scores stored: {stored:,} (= customers with a won deal)")

    def page(user: Any, url: str) -> Callable[[], Any]:
        client = Client()
        client.force_login(user)

        def run() -> Any:
            response = client.get(url)
            assert response.status_code == 200, response.content[:300]

        return run

    builder = "/reports/builder/?entity=deal&f1=status&o1=eq&v1=won&d1=won_at&b1=month&d2=owner&m=count&m=sum:amount"
    for who, user in (("admin", admin), ("manager", org.manager), ("sales", org.sales[0])):
        results.append(
            measure(f"builder won month × owner ({who})", page(user, builder), RUNS, 1000)
        )
    results.append(measure("RFM page (admin)", page(admin, "/reports/analytics/rfm/"), RUNS, 1000))
    results.append(
        measure("churn page (admin)", page(admin, "/reports/analytics/churn/"), RUNS, 1000)
    )
    results.append(
        measure(
            "cohorts page (admin)",
            page(admin, "/reports/analytics/cohorts/"),
            max(RUNS // 5, 3),
            3000,
        )
    )
    failed = results.count(False)
    print(f"  [{backend}] nproc {os.cpu_count()}: {'ALL PASS' if not failed else f'{failed} FAIL'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(run_backend(sys.argv[1]))
