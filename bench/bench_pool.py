"""Public-pool figures: the hourly reclaim pass and the pool pages over many records.

``python -m bench pool``. Rows: ``GUANXI_BENCH_POOL_ROWS`` (default 100,000 accounts and
as many leads, one deal per ten accounts). SQLite always, in a fresh file under a
temporary ``GUANXI_DATA_DIR``; PostgreSQL too when ``DATABASE_URL`` is set (database
``guanxi_bench_pool``, created and dropped here). Each backend runs in its own process.

Measured: the "reclaimed tomorrow" preview, the first reclaim pass (warnings and
reclaims of every due record, routed to department pools), the second pass (idempotent:
nothing to do, i.e. the cost of scanning every owned record against every rule) and a
salesperson's pool page (50 rows of the pools they see). ``GUANXI_BENCH_EXPLAIN=1``
prints each rule's query plan and time; ``GUANXI_BENCH_PROFILE=1`` profiles pass 1.
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
from collections.abc import Callable
from typing import Any

from bench.bench_crm import Gen, _bench_url, _pg_admin

SEED = 20260202
RUNS = int(os.environ.get("GUANXI_BENCH_RUNS", "30"))
BENCH_DB = "guanxi_bench_pool"
# The hourly scan of 100k owned records of each kind against the rules: seconds.
SCAN_TARGET_S = 10.0
PAGE_TARGET_MS = 30.0


def main() -> None:
    rows = int(os.environ.get("GUANXI_BENCH_POOL_ROWS", "100000"))
    print(f"nproc: {os.cpu_count()}  rows: {rows:,} accounts + {rows:,} leads, {RUNS} runs")
    failures = 0
    backends = ["sqlite"] + (["postgresql"] if os.environ.get("DATABASE_URL") else [])
    for backend in backends:
        data_dir = tempfile.mkdtemp(prefix="guanxi-bench-pool-")
        env = {
            **os.environ,
            "GUANXI_DATA_DIR": data_dir,
            "DJANGO_SETTINGS_MODULE": "guanxi.settings",
        }
        env.setdefault("GUANXI_SECRET_KEY", "bench-only-secret-key-" + "x" * 40)
        if backend == "sqlite":
            env.pop("DATABASE_URL", None)
        else:
            url = os.environ["DATABASE_URL"]
            env["DATABASE_URL"] = _bench_url(url).replace("/guanxi_bench", f"/{BENCH_DB}")
            _pg_admin(url, f"DROP DATABASE IF EXISTS {BENCH_DB}")
            _pg_admin(url, f"CREATE DATABASE {BENCH_DB}")
        try:
            code = subprocess.call([sys.executable, "-m", "bench.bench_pool", backend], env=env)
            failures += code != 0
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)
            if backend == "postgresql":
                _pg_admin(os.environ["DATABASE_URL"], f"DROP DATABASE IF EXISTS {BENCH_DB}")
    if failures:
        raise SystemExit(f"bench_pool: {failures} backend(s) missed a target")


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def _page_ms(fn: Callable[[], Any]) -> tuple[float, float]:
    for _ in range(3):
        fn()
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, round(0.95 * len(times)) - 1)]


def run_backend(backend: str) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from guanxi.customers.models import Account
    from guanxi.identity import services as identity
    from guanxi.identity.models import Role
    from guanxi.leads import pool
    from guanxi.leads.models import Lead, PoolEvent, PoolRule
    from guanxi.leads.pool import selectors as pool_selectors
    from guanxi.sales.models import Deal, Pipeline, Stage

    assert connection.vendor == backend, (connection.vendor, backend)
    n = int(os.environ.get("GUANXI_BENCH_POOL_ROWS", "100000"))
    print(f"\n[{backend}] {connection.settings_dict['NAME']}", flush=True)
    call_command("migrate", verbosity=0)
    identity.roles_ensure_builtin()
    sales_role = Role.objects.get(code="sales")
    admin_role = Role.objects.get(code="admin")
    root = identity.department_root()
    sales_dept = identity.department_create(actor=None, name="销售部", parent=root)
    regions = [
        identity.department_create(actor=None, name=f"{c}区", parent=sales_dept)
        for c in ("华东", "华北", "华南", "西南")
    ]
    admin = identity.user_create(
        actor=None, username="admin", password=None, department=root, roles=[admin_role]
    )
    reps = [
        identity.user_create(
            actor=None,
            username=f"sales{i}",
            password=None,
            department=regions[i % len(regions)],
            roles=[sales_role],
        )
        for i in range(40)
    ]
    pool.pool_create(actor=admin, department=regions[0])
    pool.pool_create(actor=admin, department=sales_dept)

    gen = Gen(SEED)
    rnd = random.Random(SEED)
    now = timezone.now()

    def stamps() -> tuple[dt.datetime, dt.datetime | None, bool]:
        """Created within two years; most followed up within the last three weeks, some
        stale, a few never: a working CRM where a few percent fall due at a time."""
        created = now - dt.timedelta(seconds=rnd.randrange(2 * 365 * 86400))
        roll = rnd.random()
        if roll < 0.90:
            back = dt.timedelta(seconds=rnd.randrange(21 * 86400))
        elif roll < 0.97:
            back = dt.timedelta(seconds=rnd.randrange(365 * 86400))
        else:
            return created, None, False
        return created, max(created, now - back), rnd.random() < 0.03

    # Backdated rows: the load sets created_at itself instead of "now".
    for model in (Account, Lead, Deal):
        model._meta.get_field("created_at").auto_now_add = False  # type: ignore[attr-defined]
    started = time.perf_counter()
    with transaction.atomic():
        batch: list[Any] = []
        for i in range(n):
            name, city = gen.company()
            created, contacted, locked = stamps()
            in_pool = i % 10 == 0
            batch.append(
                Account(
                    name=f"{name}{i}",
                    city=city,
                    tier="ABC"[i % 3],
                    owner=None if in_pool else reps[i % len(reps)],
                    pool_department=regions[0] if in_pool and i % 20 == 0 else None,
                    created_at=created,
                    last_contacted_at=contacted,
                    pool_locked=locked and not in_pool,
                )
            )
            if len(batch) == 5000:
                Account.objects.bulk_create(batch)
                batch = []
        Account.objects.bulk_create(batch)
        batch = []
        for i in range(n):
            created, contacted, locked = stamps()
            batch.append(
                Lead(
                    name=gen.name(),
                    company=gen.company()[0],
                    mobile=gen.mobile(),
                    owner=None if i % 10 == 0 else reps[i % len(reps)],
                    created_at=created,
                    last_contacted_at=contacted,
                    pool_locked=locked and i % 10 != 0,
                    status="converted" if i % 17 == 0 else "contacted",
                )
            )
            if len(batch) == 5000:
                Lead.objects.bulk_create(batch)
                batch = []
        Lead.objects.bulk_create(batch)
        pipeline = Pipeline.objects.order_by("pk").first()
        assert pipeline is not None
        open_stage = Stage.objects.filter(pipeline=pipeline, kind="open").order_by("pk").first()
        won_stage = Stage.objects.filter(pipeline=pipeline, kind="won").first()
        assert open_stage is not None and won_stage is not None
        account_ids = list(Account.objects.values_list("pk", "owner_id"))
        lead_ids = list(Lead.objects.values_list("pk", flat=True))
        deals = []
        for pk, owner_id in rnd.sample(account_ids, n // 10):
            created = now - dt.timedelta(seconds=rnd.randrange(365 * 86400))
            won = rnd.random() < 0.3
            deals.append(
                Deal(
                    name=f"商机{pk}",
                    account_id=pk,
                    owner_id=owner_id,
                    pipeline=pipeline,
                    stage=won_stage if won else open_stage,
                    status="won" if won else "open",
                    won_at=created + dt.timedelta(days=20) if won else None,
                    created_at=created,
                    # Some deals come from converted leads.
                    lead_id=lead_ids[pk % len(lead_ids)] if pk % 3 == 0 else None,
                )
            )
        Deal.objects.bulk_create(deals, batch_size=5000)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    print(f"  loaded in {time.perf_counter() - started:.1f} s", flush=True)

    south, north = regions[2], regions[1]
    rules = [
        PoolRule(
            name="客户 30 天未跟进", entity="account", no_followup_days=30, warn_days_before=3
        ),
        PoolRule(
            name="华南 A 类 365 天未成交",
            entity="account",
            tiers=["A"],
            department=south,
            not_won_days=365,
            warn_days_before=7,
        ),
        PoolRule(
            name="华南 B/C 类 180 天无新商机",
            entity="account",
            tiers=["B", "C"],
            department=south,
            no_deal_days=180,
        ),
        PoolRule(name="线索 60 天未跟进", entity="lead", no_followup_days=60, warn_days_before=7),
        PoolRule(name="华北线索 90 天无商机", entity="lead", no_deal_days=90, department=north),
    ]
    for rule in rules:
        pool.rule_save(actor=admin, rule=rule)

    from django.urls import reverse

    reverse("leads:pool")  # load the URL configuration before timing
    failed = 0
    owned = (
        Account.objects.filter(owner__isnull=False).count()
        + Lead.objects.filter(owner__isnull=False).exclude(status="converted").count()
    )
    for entity in ("account", "lead"):
        secs, preview = _timed(lambda e=entity: pool.reclaim_preview(entity=e, limit=0))
        print(f"  preview {entity:<8} {preview.count:>8,} due tomorrow   {secs * 1000:8.0f} ms")
    if os.environ.get("GUANXI_BENCH_PROFILE"):
        import cProfile
        import pstats

        from django.test.utils import CaptureQueriesContext

        prof = cProfile.Profile()
        prof.enable()
        with CaptureQueriesContext(connection) as captured:
            secs, moved = _timed(lambda: pool.reclaim_due(now))
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(15)
        slowest = sorted(captured.captured_queries, key=lambda q: -float(q["time"]))[:8]
        for q in slowest:
            print(f"   {q['time']} s  {q['sql'][:300]}")
    else:
        secs, moved = _timed(lambda: pool.reclaim_due(now))
    warned = PoolEvent.objects.filter(kind="warn").count()
    print(
        f"  reclaim pass 1 (first run of new rules): reclaimed {moved:,}, warned {warned:,} "
        f"in {secs:.2f} s = {moved / max(secs, 1e-9):,.0f} reclaims/s (each: pool move, "
        "pool event, audit entry, domain event)",
        flush=True,
    )
    owned = (
        Account.objects.filter(owner__isnull=False).count()
        + Lead.objects.filter(owner__isnull=False).exclude(status="converted").count()
    )
    secs2, again = _timed(lambda: pool.reclaim_due(now))
    warned2 = PoolEvent.objects.filter(kind="warn").count() - warned
    ok = again == 0 and warned2 == 0 and secs2 <= SCAN_TARGET_S * max(n / 100_000, 1)
    failed += not ok
    print(
        f"  reclaim pass 2 (the hourly scan): {owned:,} owned records against "
        f"{len(rules)} rules, reclaimed {again}, warned {warned2} in {secs2:.2f} s  "
        f"{'PASS' if ok else 'FAIL'} (idempotent; ≤ {SCAN_TARGET_S:g} s per 100k of each kind)",
        flush=True,
    )
    rep = reps[0]  # 华东区: sees the 华东, 销售部 and company pools
    if os.environ.get("GUANXI_BENCH_EXPLAIN"):
        for rule in pool.active_rules(None):
            rq = pool.rule_queryset(rule, now)
            assert rq is not None
            sql, params = rq.values("pk").query.sql_with_params()
            t0 = time.perf_counter()
            count = rq.count()
            print(f"   rule {rule.name}: {count} in {(time.perf_counter() - t0) * 1000:.0f} ms")
            with connection.cursor() as cur:
                prefix = "EXPLAIN QUERY PLAN " if backend == "sqlite" else "EXPLAIN "
                cur.execute(prefix + sql, params)
                for row in cur.fetchall():
                    print("      ", row)
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            pool_selectors.pool_list(actor=rep, entity="account", page_size=50)
        for q in ctx.captured_queries:
            print("   ", q["time"], q["sql"][:400])
            with connection.cursor() as cur:
                cur.execute(
                    ("EXPLAIN QUERY PLAN " if backend == "sqlite" else "EXPLAIN ANALYZE ")
                    + q["sql"]
                )
                for row in cur.fetchall():
                    print("      ", row)
    for entity in ("account", "lead"):
        median, p95 = _page_ms(
            lambda e=entity: list(pool_selectors.pool_list(actor=rep, entity=e, page_size=50).items)
        )
        ok = p95 <= PAGE_TARGET_MS
        failed += not ok
        print(
            f"  pool page {entity:<8} median {median:6.2f} ms  p95 {p95:6.2f} ms  "
            f"{'PASS' if ok else 'FAIL'} (p95 ≤ {PAGE_TARGET_MS:g} ms)",
            flush=True,
        )
    print(f"  [{backend}] nproc {os.cpu_count()}, {'ALL PASS' if not failed else f'{failed} FAIL'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(run_backend(sys.argv[1]))
