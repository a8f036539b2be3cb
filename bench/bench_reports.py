"""Dashboards and the funnel / channel reports over 1,000,000 leads and 200,000 deals.

``python -m bench reports``. Rows: ``GUANXI_BENCH_LEADS`` (default 1,000,000) and
``GUANXI_BENCH_DEALS`` (default 200,000, each with its stage history: created in the first
open stage, then moved through the open stages up to where it stands, ≈ 3 changes per
deal); runs: ``GUANXI_BENCH_RUNS`` (default 50). Data is generated deterministically and
bulk-inserted (bench_crm's loader). SQLite always, PostgreSQL too when ``DATABASE_URL`` is
set (database ``guanxi_bench``, created and dropped here), each in its own process.

Measured through the real pages and API (session login, templates, permission layer) for a
salesperson (own scope), the regional manager (subtree) and an administrator (all), over
the current quarter. Target (DESIGN §5): ≤ 300 ms each (p95).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any

from bench.bench_crm import (
    BENCH_DB,
    Gen,
    _analyze,
    _bench_url,
    _columns,
    _pg_admin,
    _stamp,
    account_rows,
    build_org,
    lead_rows,
)
from bench.bench_sales import Row, deal_rows, load_rows, measure

SEED = 20260303


def main() -> None:
    """Run on SQLite and, when DATABASE_URL is set, on PostgreSQL."""
    leads = int(os.environ.get("GUANXI_BENCH_LEADS", "1000000"))
    deals = int(os.environ.get("GUANXI_BENCH_DEALS", "200000"))
    print(f"nproc: {os.cpu_count()}  leads: {leads:,}  deals: {deals:,}")
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
            code = subprocess.call([sys.executable, "-m", "bench.bench_reports", backend], env=env)
            failures += code != 0
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)
            if backend == "postgresql":
                _pg_admin(os.environ["DATABASE_URL"], f"DROP DATABASE IF EXISTS {BENCH_DB}")
    if failures:
        raise SystemExit(f"bench_reports: {failures} backend(s) missed a target")


def history_rows(now: dt.datetime) -> tuple[list[str], Iterator[list[Any]]]:
    """Stage history of the loaded deals: the first open stage at creation, then each open
    stage up to the deal's own (its last open stage first for won / lost deals), then the
    final stage at ``stage_changed_at``; times spread evenly in between."""
    from django.db import connection

    from guanxi.sales.models import DealStageChange, Stage

    cols, default, at = _columns(DealStageChange)
    by_pipeline: dict[int, list[Any]] = {}
    for s in Stage.objects.order_by("position", "id"):
        by_pipeline.setdefault(s.pipeline_id, []).append(s)

    def parse(value: Any) -> dt.datetime:
        if isinstance(value, str):
            return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)

    def rows() -> Iterator[list[Any]]:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT id, pipeline_id, stage_id, created_at, stage_changed_at "
                "FROM sales_deal ORDER BY id"
            )
            fetched = cur.fetchall()
        for deal_id, pipeline_id, stage_id, created, changed in fetched:
            stages = by_pipeline[pipeline_id]
            open_stages = [s for s in stages if s.kind == "open"]
            target = next(s for s in stages if s.pk == stage_id)
            if target.kind == "open":
                path = open_stages[: open_stages.index(target) + 1]
            else:
                # Deterministic depth from the id: won deals went further on average.
                depth = deal_id % len(open_stages) + 1
                path = [*open_stages[:depth], target]
            start, end = parse(created), parse(changed or created)
            step = (end - start) / max(len(path) - 1, 1)
            previous = None
            for i, stage in enumerate(path):
                row = list(default)
                when = start + step * i
                row[at["deal_id"]] = deal_id
                row[at["to_stage_id"]] = stage.pk
                row[at["to_stage_name"]] = stage.name
                if previous is not None:
                    row[at["from_stage_id"]] = previous.pk
                    row[at["from_stage_name"]] = previous.name
                    span = step
                    row[at["time_in_from_stage"]] = (
                        int(span.total_seconds() * 1_000_000)
                        if connection.vendor == "sqlite"
                        else span
                    )
                row[at["changed_at"]] = _stamp(when)
                previous = stage
                yield row

    return cols, rows()


def run_backend(backend: str) -> int:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client

    from guanxi.identity.models import Role
    from guanxi.identity.services import token_create, user_create
    from guanxi.reports.periods import preset
    from guanxi.sales.models import DealStageChange

    assert connection.vendor == backend, (connection.vendor, backend)
    n_leads = int(os.environ.get("GUANXI_BENCH_LEADS", "1000000"))
    n_deals = int(os.environ.get("GUANXI_BENCH_DEALS", "200000"))
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
    load_rows("leads_lead", *lead_rows(gen, org, n_leads, now))
    with connection.cursor() as cur:
        cur.execute("UPDATE leads_lead SET converted_at = created_at WHERE status = 'converted'")
    load_rows("customers_account", *account_rows(gen, org, max(n_deals // 10, 1), now))
    with connection.cursor() as cur:
        cur.execute("SELECT MIN(id), MAX(id) FROM customers_account")
        lo, hi = cur.fetchone()
    load_rows("sales_deal", *deal_rows(gen, org, n_deals, range(lo, hi + 1), now))
    # Deals got a source too, for the channel report.
    with connection.cursor() as cur:
        ids = org.source_ids
        cur.execute(
            "UPDATE sales_deal SET source_id = CASE "
            + " ".join(f"WHEN id % {len(ids)} = {i} THEN {sid}" for i, sid in enumerate(ids))
            + " END"
        )
    load_rows("sales_dealstagechange", *history_rows(now))
    _analyze()
    changes = DealStageChange.objects.count()
    print(
        f"  data ready in {time.perf_counter() - started:.1f} s "
        f"({n_leads:,} leads, {n_deals:,} deals, {changes:,} stage changes)",
        flush=True,
    )

    settings.ALLOWED_HOSTS = ["*"]
    quarter = preset("quarter")

    def page(user: Any, url: str) -> Callable[[], Any]:
        client = Client()
        client.force_login(user)

        def run() -> Any:
            response = client.get(url)
            assert response.status_code == 200, response.content[:300]
            return response

        return run

    rows: list[Row] = []
    q = "period=quarter"
    users = (("sales, own", org.sales[0]), ("manager, subtree", org.manager), ("admin, all", admin))
    rows.append(measure("dashboard / (sales, own)", page(org.sales[0], "/")))
    rows.append(
        measure("dashboard /?view=manager (manager)", page(org.manager, f"/?view=manager&{q}"))
    )
    rows.append(measure("dashboard /?view=manager (admin)", page(admin, f"/?view=manager&{q}")))
    rows.append(measure("dashboard /?view=management (admin)", page(admin, f"/?{q}")))
    for who, user in users:
        rows.append(measure(f"funnel page ({who})", page(user, f"/reports/funnel/?{q}")))
        rows.append(measure(f"channels page ({who})", page(user, f"/reports/channels/?{q}")))
    rows.append(measure("performance page (admin)", page(admin, f"/reports/performance/?{q}")))
    _token, raw = token_create(actor=None, user=admin, name="bench")
    api = Client()

    def api_get(path: str) -> Callable[[], Any]:
        def run() -> Any:
            response = api.get(path, headers={"Authorization": f"Bearer {raw}"})
            assert response.status_code == 200, response.content[:300]
            return response

        return run

    span = f"date_from={quarter.start}&date_to={quarter.last_day}"
    rows.append(
        measure("GET /api/v1/reports/funnel (admin)", api_get(f"/api/v1/reports/funnel?{span}"))
    )
    rows.append(
        measure("GET /api/v1/reports/channels (admin)", api_get(f"/api/v1/reports/channels?{span}"))
    )

    failed = [r for r in rows if not r.passed()]
    print(f"\n  [{backend}] nproc {os.cpu_count()}, {n_leads:,} leads, {n_deals:,} deals")
    print(f"  {'measurement':<56}{'median':>9}{'p95':>9}{'q':>4}  result (p95≤300ms)")
    for r in rows:
        verdict = "PASS" if r.passed() else "FAIL"
        print(f"  {r.label:<56}{r.median:9.2f}{r.p95:9.2f}{r.queries:4}  {verdict}")
    print(f"  [{backend}] {'ALL PASS' if not failed else f'{len(failed)} FAIL'}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(run_backend(sys.argv[1]))
