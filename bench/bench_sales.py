"""The deal board (kanban) and deal list with 200,000 deals.

``python -m bench sales``. Deals: ``GUANXI_BENCH_DEALS`` (default 200,000; about 30% open,
the rest won or lost over two years), one account per ten deals, 40 salespeople in four
regions and a regional manager. Runs: ``GUANXI_BENCH_RUNS`` (default 50). SQLite always,
PostgreSQL too when ``DATABASE_URL`` is set (database ``guanxi_bench``, created and
dropped here), each in its own process.

Measured through the real views (session login, templates, permission layer): the board
page of the default pipeline for a salesperson (own scope), the manager (subtree) and an
administrator (everything), with and without a close-month filter, one "load more" of a
column, and the deal list API. Target (DESIGN §5 style): board p95 ≤ 300 ms.
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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from bench.bench_crm import (
    BENCH_DB,
    RUNS,
    Gen,
    Org,
    _analyze,
    _bench_url,
    _columns,
    _pg_admin,
    _stamp,
    account_rows,
    build_org,
    load,
)

SEED = 20260202
TARGET_MS = 300.0


def main() -> None:
    """Run on SQLite and, when DATABASE_URL is set, on PostgreSQL."""
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
            code = subprocess.call([sys.executable, "-m", "bench.bench_sales", backend], env=env)
            failures += code != 0
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)
            if backend == "postgresql":
                _pg_admin(os.environ["DATABASE_URL"], f"DROP DATABASE IF EXISTS {BENCH_DB}")
    if failures:
        raise SystemExit(f"bench_sales: {failures} backend(s) missed a target")


def deal_rows(
    gen: Gen, org: Org, n: int, account_ids: range, now: dt.datetime
) -> tuple[list[str], Iterator[list[Any]]]:
    """Deterministic deals: 30% open over the open stages, the rest won or lost."""
    from guanxi.sales.models import Deal, LossReason, Pipeline

    cols, default, at = _columns(Deal)
    owners = [u.pk for u in org.sales]
    pipelines = [
        (p.pk, sorted(p.stages.all(), key=lambda s: (s.position, s.pk)))
        for p in Pipeline.objects.prefetch_related("stages").order_by("position", "id")
    ]
    reasons = list(LossReason.objects.values_list("pk", flat=True))
    products = ["ERP", "CRM 订阅", "数据中台", "维保", "培训", "私有化部署"]

    def rows() -> Iterator[list[Any]]:
        r = gen.rnd
        for i in range(n):
            row = list(default)
            pipeline_id, stages = pipelines[0] if r.random() < 0.75 else pipelines[-1]
            roll = r.random()
            if roll < 0.3:
                stage = r.choice([s for s in stages if s.kind == "open"])
            elif roll < 0.65:
                stage = next(s for s in stages if s.kind == "won")
            else:
                stage = next(s for s in stages if s.kind == "lost")
            created = gen.when(now)
            changed = created + (now - created) * r.random()
            row[at["name"]] = f"{r.choice(products)} 项目 {i}"
            row[at["account_id"]] = r.choice(account_ids)
            row[at["pipeline_id"]] = pipeline_id
            row[at["stage_id"]] = stage.pk
            row[at["status"]] = stage.kind
            row[at["amount"]] = str(r.randrange(10, 5000) * 1000)
            row[at["currency"]] = "CNY"
            row[at["expected_close_date"]] = (now + dt.timedelta(days=r.randint(-60, 180))).date()
            row[at["probability"]] = stage.probability
            row[at["owner_id"]] = r.choice(owners)
            row[at["stage_changed_at"]] = _stamp(changed)
            row[at["position"]] = -i
            if stage.kind == "won":
                row[at["won_at"]] = _stamp(changed)
            elif stage.kind == "lost":
                row[at["lost_at"]] = _stamp(changed)
                row[at["loss_reason_id"]] = r.choice(reasons)
                row[at["loss_note"]] = "预算不足"
            row[at["created_at"]] = _stamp(created)
            row[at["updated_at"]] = _stamp(changed)
            yield row

    return cols, rows()


@dataclass
class Row:
    label: str
    median: float
    p95: float
    queries: int

    def passed(self) -> bool:
        return self.p95 <= TARGET_MS


def measure(label: str, fn: Callable[[], Any]) -> Row:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):  # warm caches
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
    row = Row(label, statistics.median(times), p95, len(ctx.captured_queries))
    print(
        f"  {label:<52} median {row.median:7.2f} ms  p95 {row.p95:7.2f} ms  "
        f"{row.queries:>2} q  {'PASS' if row.passed() else 'FAIL'}",
        flush=True,
    )
    return row


def load_rows(table: str, cols: list[str], rows: Iterator[list[Any]]) -> float:
    """bench_crm's loader (it checks PostgreSQL's foreign keys as rows arrive)."""
    return load(table, cols, rows)


def run_backend(backend: str) -> int:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client

    from guanxi.identity.models import Role
    from guanxi.identity.services import token_create, user_create
    from guanxi.sales.models import Deal, Pipeline

    assert connection.vendor == backend, (connection.vendor, backend)
    n = int(os.environ.get("GUANXI_BENCH_DEALS", "200000"))
    print(f"\n[{backend}] {connection.settings_dict['NAME']}", flush=True)
    started = time.perf_counter()
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
    load_rows("customers_account", *account_rows(gen, org, max(n // 10, 1), now))
    with connection.cursor() as cur:
        cur.execute("SELECT MIN(id), MAX(id) FROM customers_account")
        lo, hi = cur.fetchone()
    load_rows("sales_deal", *deal_rows(gen, org, n, range(lo, hi + 1), now))
    _analyze()
    open_deals = Deal.objects.filter(status="open").count()
    print(
        f"  data ready in {time.perf_counter() - started:.1f} s ({open_deals:,} open)", flush=True
    )

    settings.ALLOWED_HOSTS = ["*"]
    pipeline = Pipeline.objects.get(is_default=True)
    first_stage = pipeline.stages.order_by("position").first()
    assert first_stage is not None
    month = (now + dt.timedelta(days=30)).strftime("%Y-%m")

    def page(user: Any, url: str) -> Callable[[], Any]:
        client = Client()
        client.force_login(user)

        def run() -> Any:
            response = client.get(url)
            assert response.status_code == 200, response.content[:300]
            return response

        return run

    rows: list[Row] = []
    users = (("sales, own", org.sales[0]), ("manager, subtree", org.manager), ("admin, all", admin))
    for who, user in users:
        rows.append(measure(f"board /board/ ({who})", page(user, "/board/")))
    print(
        "    open deals on the admin's board: "
        f"{Deal.objects.filter(status='open', pipeline=pipeline).count():,}"
    )
    rows.append(
        measure(f"board ?close_month={month} (admin)", page(admin, f"/board/?close_month={month}"))
    )
    rows.append(
        measure(
            "board column load more, offset=50 (admin)",
            page(admin, f"/board/{pipeline.pk}/stages/{first_stage.pk}/?offset=50"),
        )
    )
    _token, raw = token_create(actor=None, user=org.manager, name="bench")
    api = Client()

    def api_list() -> Any:
        response = api.get(
            "/api/v1/deals?status=open&page_size=50", headers={"Authorization": f"Bearer {raw}"}
        )
        assert response.status_code == 200, response.content[:300]
        return response

    rows.append(measure("GET /api/v1/deals?status=open (manager)", api_list))

    failed = [r for r in rows if not r.passed()]
    print(f"\n  [{backend}] nproc {os.cpu_count()}, {n:,} deals ({open_deals:,} open)")
    print(f"  {'measurement':<56}{'median':>9}{'p95':>9}{'q':>4}  result (p95≤{TARGET_MS:g}ms)")
    for r in rows:
        verdict = "PASS" if r.passed() else "FAIL"
        print(f"  {r.label:<56}{r.median:9.2f}{r.p95:9.2f}{r.queries:4}  {verdict}")
    print(f"  [{backend}] {'ALL PASS' if not failed else f'{len(failed)} FAIL'}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(run_backend(sys.argv[1]))
