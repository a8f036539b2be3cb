"""Background work of imports (Huey; immediate in tests)."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from guanxi.importing import services


@db_task()
def run_import(batch_id: int) -> None:
    """Run one pending batch; a batch that is not pending any more is left alone."""
    services.batch_run(batch_id=batch_id)


@db_task()
def run_duplicate_scan(scan_id: int) -> None:
    """Find duplicates in existing data for one pending scan."""
    from guanxi.importing.duplicates import scan_run

    scan_run(scan_id)
