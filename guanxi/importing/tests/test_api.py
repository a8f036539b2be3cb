"""/api/v1/imports: upload, poll, report, undo, cancel; scope of batches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from guanxi.importing import engine, services
from guanxi.importing.engine import Options
from guanxi.importing.models import ImportBatch
from guanxi.importing.tests import files
from guanxi.leads.models import Lead
from guanxi.tests_support import crm_factories, factories

pytestmark = pytest.mark.django_db


def _gbk_upload() -> SimpleUploadedFile:
    rows = [files.HEADERS_ZH, *files.person_rows(3), ["重复", "13900000001", "", "", "", ""]]
    data = ("\r\n".join(",".join(r) for r in rows) + "\r\n").encode("gbk")
    return SimpleUploadedFile("客户.csv", data, content_type="text/csv")


def _post(api: Any, **form: Any) -> Any:
    return api.client.post("/api/v1/imports", data=form, headers=api.headers)


def test_upload_runs_in_background_then_report_and_undo(
    api_client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    admin = factories.admin(username="boss")
    api = api_client.login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        resp = _post(api, file=_gbk_upload(), entity="leads", tags="展会,2026")
    assert resp.status_code == 202, resp.content
    body = resp.json()
    assert body["file"]["encoding"] == "gbk" and body["file"]["header_row"] == 1
    status = api.get(f"imports/{body['id']}").json()
    assert status["status"] == "done" and status["progress"] == 100
    assert (status["rows_total"], status["rows_imported"], status["rows_duplicate"]) == (4, 3, 1)
    assert set(Lead.objects.get(name="客户0").tags) == {"展会", "2026"}
    report = api.get(f"imports/{body['id']}/report").json()
    assert report["duplicates"] == [
        {
            "row": 5,
            "existing_id": None,
            "existing_type": "lead",
            "duplicate_of_row": 3,
            "match": "phone",
            "action": "skipped",
        }
    ]
    undo = api.post(f"imports/{body['id']}/undo")
    assert undo.status_code == 200 and undo.json()["removed"] == 3
    assert not Lead.objects.exists()
    assert api.post(f"imports/{body['id']}/undo").status_code == 409


def test_bad_input_and_scope(api_client: Any) -> None:
    manager = factories.user("manager")
    other = factories.user("manager")
    api = api_client.login(manager)
    bad = _post(
        api,
        file=SimpleUploadedFile("x.xlsx", b"PK\x03\x04broken"),
        entity="leads",
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "file"
    wrong = _post(api, file=_gbk_upload(), entity="deals")
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "entity"
    assert not ImportBatch.objects.exists()
    sales = api_client.__class__().login(factories.user("sales"))
    assert _post(sales, file=_gbk_upload(), entity="leads").status_code == 403
    ok = _post(api, file=_gbk_upload(), entity="leads")
    assert ok.status_code == 202
    batch_id = ok.json()["id"]
    # Another user's batch is not there at all for the colleague.
    peer = api_client.__class__().login(other)
    assert peer.get(f"imports/{batch_id}").status_code == 404
    assert peer.get(f"imports/{batch_id}/report").status_code == 404
    assert peer.post(f"imports/{batch_id}/undo").status_code == 404
    assert peer.get("imports").json()["count"] == 0
    assert api.get("imports").json()["count"] == 1
    # Pending (the worker has not run it here): cancel stops it before it starts.
    assert api.post(f"imports/{batch_id}/cancel").json()["status"] == "cancelled"
    assert api.post(f"imports/{batch_id}/cancel").status_code == 409


def test_cancel_while_running_keeps_finished_chunks(tmp_path: Path, monkeypatch: Any) -> None:
    admin = factories.admin(username="boss")
    monkeypatch.setattr(engine, "CHUNK_ROWS", 2)
    path = files.write_csv(tmp_path / "c.csv", [files.HEADERS_ZH, *files.person_rows(10)])
    stored = services.store_upload(source=path, file_name="c.csv")
    batch = services.batch_create(
        actor=admin, path=stored, file_name="c.csv", options=Options(entity="leads")
    )
    real_flush = engine.Importer._flush

    def flush_then_cancel(self: engine.Importer, rows: list[engine.Row]) -> None:
        real_flush(self, rows)
        ImportBatch.objects.filter(pk=batch.pk).update(status="cancelling")

    monkeypatch.setattr(engine.Importer, "_flush", flush_then_cancel)
    batch = services.batch_run(batch_id=batch.pk)
    assert batch.status == "cancelled"
    assert Lead.objects.count() == 2 == batch.rows_imported
    assert services.batch_undo(actor=admin, batch=batch).removed == 2


def test_saved_mapping_is_reused_for_the_same_headers(tmp_path: Path) -> None:
    admin = factories.admin(username="boss")
    crm_factories.lead(admin, name="x", mobile="13700000000")
    headers = ["甲列", "乙列"]
    services.mapping_save(
        actor=admin, entity="leads", headers=headers, mapping={"0": "name", "1": "mobile"}
    )
    path = files.write_csv(tmp_path / "m.csv", [headers, ["王", "13800138000"]])
    stored = services.store_upload(source=path, file_name="m.csv")
    batch = services.batch_create(
        actor=admin, path=stored, file_name="m.csv", options=Options(entity="leads")
    )
    assert batch.options["mapping"] == {"0": "name", "1": "mobile"}
    batch = services.batch_run(batch_id=batch.pk)
    assert Lead.objects.filter(name="王", mobile_e164="+8613800138000").exists()
