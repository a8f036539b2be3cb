"""Import figures of DESIGN §5: contacts from CSV against existing contacts, and XLSX.

``python -m bench import``. Rows: ``GUANXI_BENCH_IMPORT_ROWS`` (default 1,000,000 CSV
rows, and as many existing contacts unless ``GUANXI_BENCH_IMPORT_EXISTING`` says
otherwise); XLSX rows: ``GUANXI_BENCH_XLSX_ROWS`` (default 100,000, at most the CSV
rows). SQLite always, in a fresh ``GUANXI_DATA_DIR``; PostgreSQL too when
``DATABASE_URL`` is set (database ``GUANXI_BENCH_IMPORT_DB``, default
``guanxi_bench_import``, created and dropped here). ``GUANXI_BENCH_IMPORT_BACKENDS``
(``sqlite,postgresql``) picks the backends.

Each figure is reported as rows/s of wall time (the target) and of CPU time (user +
system of the importing process: what the code costs, independent of what else runs on
the machine), with the process's peak RSS.

The generated file is deterministic: Chinese names, mobiles written in several shapes,
e-mails, companies; about 10 % of the rows repeat an existing contact's mobile, 2 %
repeat an earlier row of the file, 1 % carry an invalid phone. The import runs end to
end through the real engine (``services.import_file``: read, normalise, validate, dedup
within the file and against the database, write, audit) in a process of its own, so
its peak RSS is the import's.
"""

from __future__ import annotations

import csv
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bench.bench_crm import Gen, _pg_admin

SEED = 20260202
BENCH_DB = os.environ.get("GUANXI_BENCH_IMPORT_DB", "guanxi_bench_import")
CSV_TARGET = 50_000.0  # rows/s
XLSX_TARGET = 20_000.0
RSS_TARGET_MB = 1536.0
HEADERS = ["姓名", "手机号码", "公司名称", "职位", "电子邮箱", "备注"]


def main() -> None:
    rows = int(os.environ.get("GUANXI_BENCH_IMPORT_ROWS", "1000000"))
    existing = int(os.environ.get("GUANXI_BENCH_IMPORT_EXISTING", str(rows)))
    xlsx_rows = min(int(os.environ.get("GUANXI_BENCH_XLSX_ROWS", "100000")), rows)
    print(
        f"nproc: {os.cpu_count()}  CSV rows: {rows:,}  existing contacts: {existing:,}  "
        f"XLSX rows: {xlsx_rows:,}"
    )
    failures = 0
    backends = ["sqlite"] + (["postgresql"] if os.environ.get("DATABASE_URL") else [])
    wanted = os.environ.get("GUANXI_BENCH_IMPORT_BACKENDS", "")
    if wanted:
        backends = [b for b in backends if b in wanted.split(",")]
    for backend in backends:
        data_dir = tempfile.mkdtemp(prefix="guanxi-bench-import-")
        env = {
            **os.environ,
            "GUANXI_DATA_DIR": data_dir,
            "DJANGO_SETTINGS_MODULE": "guanxi.settings",
        }
        env.setdefault("GUANXI_SECRET_KEY", "bench-only-secret-key-" + "x" * 40)
        if backend == "sqlite":
            env.pop("DATABASE_URL", None)
        else:
            parts = urlsplit(os.environ["DATABASE_URL"])
            env["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{BENCH_DB}"))
            _pg_admin(os.environ["DATABASE_URL"], f"DROP DATABASE IF EXISTS {BENCH_DB}")
            _pg_admin(os.environ["DATABASE_URL"], f"CREATE DATABASE {BENCH_DB}")
        try:
            me = [sys.executable, "-m", "bench.bench_import"]
            subprocess.check_call(
                [*me, "setup", str(rows), str(existing), str(xlsx_rows), data_dir], env=env
            )
            results = []
            for kind, target in (("csv", CSV_TARGET), ("xlsx", XLSX_TARGET)):
                out = subprocess.check_output([*me, "run", kind, data_dir], env=env, text=True)
                result = json.loads(out.strip().splitlines()[-1])
                ok = result["rows_per_s"] >= target and result["peak_rss_mb"] <= RSS_TARGET_MB
                failures += not ok
                results.append(result)
                print(
                    f"{backend:10s} {kind:4s} {result['rows']:>9,} rows in {result['seconds']:7.2f} s"
                    f" = {result['rows_per_s']:>9,.0f} rows/s (target ≥ {target:,.0f})  "
                    f"CPU {result['cpu_seconds']:.1f} s = {result['cpu_rows_per_s']:,.0f} rows/s  "
                    f"peak RSS {result['peak_rss_mb']:,.0f} MiB (≤ {RSS_TARGET_MB:,.0f})  "
                    f"created {result['created']:,} dup {result['duplicates']:,} "
                    f"invalid {result['invalid']:,}  {'ok' if ok else 'MISSED'}",
                    flush=True,
                )
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)
            if backend == "postgresql":
                _pg_admin(os.environ["DATABASE_URL"], f"DROP DATABASE IF EXISTS {BENCH_DB}")
    if failures:
        raise SystemExit(f"bench_import: {failures} figure(s) missed a target")


# --- data -------------------------------------------------------------------------------


def _shape(rnd: random.Random, mobile: str) -> str:
    """The same mobile the way people type it."""
    pick = rnd.random()
    if pick < 0.7:
        return mobile
    if pick < 0.8:
        return f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}"
    if pick < 0.9:
        return f"+86 {mobile}"
    return f"{mobile[:3]}-{mobile[3:7]}-{mobile[7:]}"


def _file_rows(n: int, existing_mobiles: list[str], seed: int, prefix: str) -> Any:
    gen = Gen(seed)
    rnd = gen.rnd
    companies = [gen.company()[0] for _ in range(2000)]
    titles = ["", "", "经理", "总监", "采购", "工程师", "总经理"]
    earlier: list[str] = []
    for i in range(n):
        name = gen.name()
        roll = rnd.random()
        if roll < 0.10 and existing_mobiles:
            mobile = rnd.choice(existing_mobiles)
        elif roll < 0.12 and earlier:
            mobile = rnd.choice(earlier)
        else:
            mobile = f"{prefix}{i:08d}"
            if len(earlier) < 100_000:
                earlier.append(mobile)
        phone = "1.38001E+10" if roll > 0.99 else _shape(rnd, mobile)
        email = f"u{prefix}{i}@example.cn" if rnd.random() < 0.5 else ""
        yield [name, phone, rnd.choice(companies), rnd.choice(titles), email, ""]


def setup(rows: int, existing: int, xlsx_rows: int, data_dir: str) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from bench.bench_crm import account_rows, build_org, contact_rows, load
    from guanxi.customers.models import Account, Contact
    from guanxi.identity import services
    from guanxi.identity.models import Role

    call_command("migrate", verbosity=0)
    org = build_org()
    admin_role = Role.objects.get(code="admin")
    services.user_create(
        actor=None,
        username="importer",
        password=None,
        display_name="导入员",
        department=services.department_root(),
        roles=[admin_role],
    )
    now = timezone.now()
    gen = Gen(SEED)
    started = time.perf_counter()
    n_accounts = max(existing // 10, 1)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Foreign keys are checked at once, so the indexes can be rebuilt right after.
            with connection.cursor() as cur:
                cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cols, it = account_rows(gen, org, n_accounts, now)
        load(Account._meta.db_table, cols, it)
        first = Account.objects.order_by("pk").values_list("pk", flat=True).first() or 1
        cols, it = contact_rows(gen, org, existing, range(first, first + n_accounts), now)
        load(Contact._meta.db_table, cols, it)
    mobiles = list(
        Contact.objects.order_by("pk").values_list("mobile", flat=True)[: min(existing, 200_000)]
    )
    print(
        f"existing data: {existing:,} contacts in {time.perf_counter() - started:.1f} s", flush=True
    )
    folder = Path(data_dir)
    with open(folder / "contacts.csv", "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(HEADERS)
        writer.writerows(_file_rows(rows, mobiles, SEED + 1, "166"))
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(folder / "contacts.xlsx"), {"constant_memory": True})
    ws = wb.add_worksheet("联系人")
    ws.write_row(0, 0, HEADERS)
    for r, row in enumerate(_file_rows(xlsx_rows, mobiles, SEED + 2, "167"), start=1):
        # Mobiles as numbers, as Excel stores them when typed in.
        cells: list[Any] = [int(row[1]) if row[1].isdigit() else row[1], *row[2:]]
        ws.write_row(r, 0, [row[0], *cells])
    wb.close()


def run(kind: str, data_dir: str) -> None:
    import django

    django.setup()
    from guanxi.identity.models import User
    from guanxi.importing import services
    from guanxi.importing.engine import Options

    actor = User.objects.get(username="importer")
    path = Path(data_dir) / f"contacts.{kind}"
    before = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = before.ru_utime + before.ru_stime
    started = time.perf_counter()
    _batch, result = services.import_file(
        actor=actor, path=path, file_name=path.name, options=Options(entity="contacts")
    )
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - cpu_before
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "rows": result.rows_total,
                "seconds": round(seconds, 3),
                "rows_per_s": result.rows_total / seconds if seconds else 0.0,
                "peak_rss_mb": round(peak, 1),
                "cpu_seconds": round(cpu, 3),
                "cpu_rows_per_s": result.rows_total / cpu if cpu else 0.0,
                "created": result.rows_imported,
                "duplicates": result.rows_duplicate,
                "invalid": result.rows_invalid,
            }
        )
    )


if __name__ == "__main__":
    if sys.argv[1] == "setup":
        setup(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    else:
        run(sys.argv[2], sys.argv[3])
