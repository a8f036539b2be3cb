"""Receivables aging on many installments: the aggregate queries behind /receivables.

``python -m bench receivables``. Rows: ``GUANXI_BENCH_INSTALLMENTS`` (default 200,000
installments: 50,000 contracts of four, two contracts per account — the scale of the
"200,000 deals" dashboards). Installments already due are mostly paid (88% in full, 5% in
part), later ones mostly open, as in a live ledger. SQLite always, PostgreSQL too
when ``DATABASE_URL`` is set (database ``<its name>_receivables``, created and dropped
here). Target:
the aging summary and one page of aging rows in ≤ 300 ms each (the dashboard figure of
DESIGN §5), in a fixed number of queries.
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
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bench.bench_crm import (
    SEED,
    Gen,
    _analyze,
    _columns,
    _pg_admin,
    _stamp,
    account_rows,
    build_org,
    load,
)

RUNS = int(os.environ.get("GUANXI_BENCH_RUNS", "20"))


def _bench_db(url: str) -> str:
    """``<database of DATABASE_URL>_receivables``: never another run's database."""
    return (urlsplit(url).path.lstrip("/") or "guanxi") + "_receivables"


def _bench_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{_bench_db(url)}"))


TARGET_MS = 300.0
PER_CONTRACT = 4


def main() -> None:
    n = int(os.environ.get("GUANXI_BENCH_INSTALLMENTS", "200000"))
    print(f"nproc: {os.cpu_count()}  installments: {n:,}, {RUNS} runs each")
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
            db = _bench_db(os.environ["DATABASE_URL"])
            _pg_admin(os.environ["DATABASE_URL"], f"DROP DATABASE IF EXISTS {db}")
            _pg_admin(os.environ["DATABASE_URL"], f"CREATE DATABASE {db}")
        try:
            code = subprocess.call(
                [sys.executable, "-m", "bench.bench_receivables", backend], env=env
            )
            failures += code != 0
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)
            if backend == "postgresql":
                _pg_admin(
                    os.environ["DATABASE_URL"],
                    f"DROP DATABASE IF EXISTS {_bench_db(os.environ['DATABASE_URL'])}",
                )
    if failures:
        raise SystemExit(f"bench_receivables: {failures} backend(s) missed the target")


def _date(value: dt.date) -> str:
    return value.isoformat()


def contract_rows(
    gen: Gen, owners: dict[int, int], n: int, now: dt.datetime
) -> tuple[list[str], Iterator[list[Any]]]:
    from guanxi.finance.models import Contract

    cols, default, at = _columns(Contract)
    account_ids = sorted(owners)

    def rows() -> Iterator[list[Any]]:
        r = gen.rnd
        for i in range(n):
            row = list(default)
            account = account_ids[i % len(account_ids)]
            start = (now - dt.timedelta(days=r.randrange(30, 700))).date()
            created = _stamp(now)
            row[at["number"]] = f"HT-B-{i + 1:07d}"
            row[at["account_id"]] = account
            row[at["owner_id"]] = owners[account]
            row[at["title"]] = "基准合同"
            row[at["amount"]] = str(Decimal(PER_CONTRACT * 10000))
            row[at["currency"]] = "CNY"
            row[at["starts_on"]] = _date(start)
            row[at["ends_on"]] = _date(start + dt.timedelta(days=365))
            row[at["status"]] = "active" if r.random() < 0.9 else "expired"
            row[at["created_at"]] = created
            row[at["updated_at"]] = created
            row[at["custom"]] = "{}"
            row[at["scan"]] = ""
            yield row

    return cols, rows()


def installment_rows(
    gen: Gen, contract_ids: range, now: dt.datetime
) -> tuple[list[str], Iterator[list[Any]]]:
    from guanxi.finance.models import Installment

    cols, default, at = _columns(Installment)

    def rows() -> Iterator[list[Any]]:
        r = gen.rnd
        stamp = _stamp(now)
        for cid in contract_ids:
            base = now.date() - dt.timedelta(days=r.randrange(-120, 400))
            for k in range(PER_CONTRACT):
                row = list(default)
                due = base + dt.timedelta(days=90 * k)
                paid = r.random()
                if due < now.date():
                    received = (
                        10000 if paid < 0.88 else (r.randrange(1, 10000) if paid < 0.93 else 0)
                    )
                else:
                    received = r.randrange(1, 10000) if paid < 0.05 else 0
                row[at["contract_id"]] = cid
                row[at["position"]] = k + 1
                row[at["due_on"]] = _date(due)
                row[at["amount"]] = "10000.00"
                row[at["received"]] = f"{received}.00"
                row[at["created_at"]] = stamp
                row[at["updated_at"]] = stamp
                yield row

    return cols, rows()


def _load(table: str, cols: list[str], rows: Iterator[list[Any]]) -> None:
    """bench_crm.load, with foreign keys checked as rows arrive: PostgreSQL refuses to
    build an index on a table with deferred constraint checks still pending."""
    from django.db import connection, transaction

    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        load(table, cols, rows)


def measure(label: str, fn: Callable[[], Any]) -> bool:
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
    ok = p95 <= TARGET_MS
    print(
        f"  {label:<52} median {statistics.median(times):8.2f} ms  p95 {p95:8.2f} ms  "
        f"{len(ctx.captured_queries):>2} q  {'PASS' if ok else 'FAIL'}",
        flush=True,
    )
    return ok


def run_backend(backend: str) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from guanxi.core import permissions
    from guanxi.customers.models import Account
    from guanxi.finance import receivables
    from guanxi.identity.models import User

    assert connection.vendor == backend, (connection.vendor, backend)
    n = int(os.environ.get("GUANXI_BENCH_INSTALLMENTS", "200000"))
    contracts = max(n // PER_CONTRACT, 1)
    print(f"\n[{backend}] {connection.settings_dict['NAME']}", flush=True)
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    gen = Gen(SEED)
    now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    with transaction.atomic():
        org = build_org()
    _load("customers_account", *account_rows(gen, org, max(contracts // 2, 1), now))
    owners = dict(Account.objects.values_list("pk", "owner_id"))
    _load("finance_contract", *contract_rows(gen, owners, contracts, now))
    with connection.cursor() as cur:
        cur.execute("SELECT MIN(id), MAX(id) FROM finance_contract")
        lo, hi = cur.fetchone()
    _load("finance_installment", *installment_rows(gen, range(lo, hi + 1), now))
    _analyze()
    print(f"  data ready in {time.perf_counter() - started:.1f} s", flush=True)

    admin = User.objects.create(username="bench-admin", is_superuser=True)
    today = now.date()

    def as_user(user: Any, fn: Callable[[Any], Any]) -> Callable[[], Any]:
        fresh = User.objects.select_related("department").get(pk=user.pk)

        def run() -> Any:
            permissions.forget(fresh)
            return fn(fresh)

        return run

    ok = True
    for label, user in (
        ("all (admin)", admin),
        ("subtree (manager)", org.manager),
        ("own (sales)", org.sales[0]),
    ):
        ok &= measure(
            f"aging_summary {label}",
            as_user(user, lambda u: receivables.aging_summary(actor=u, today=today)),
        )
        ok &= measure(
            f"aging_by account, page 1 {label}",
            as_user(
                user, lambda u: receivables.aging_by(actor=u, group="account", today=today).items
            ),
        )
    ok &= measure(
        "drill-down d90_plus page 1 (admin)",
        as_user(
            admin,
            lambda u: (
                receivables.installments_in_bucket(actor=u, bucket="d90_plus", today=today).items
            ),
        ),
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(run_backend(sys.argv[1]))
