"""The import wizard and the export buttons, through the Django test client."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from guanxi.core.models import AuditEvent
from guanxi.customers.models import Contact
from guanxi.importing.models import ImportBatch, SavedMapping
from guanxi.importing.tests import files
from guanxi.leads.models import Lead
from guanxi.tests_support import crm_factories, factories

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _xlsx_upload(tmp_path: Path) -> SimpleUploadedFile:
    rows = [
        ["客户姓名", "联系电话", "Email", "单位", "登记时间"],
        ["王五", 13800138000, "w@example.cn", "甲公司", dt.datetime(2026, 1, 5, 9, 30)],
        ["坏的", "1.38001E+10", "", "乙公司", "2026-01-05"],
    ]
    path = files.write_xlsx(
        tmp_path / "expo.xlsx", rows, title_rows=[["博览会登记"]], merge_title=True
    )
    return SimpleUploadedFile("expo.xlsx", path.read_bytes())


def test_wizard_upload_setup_preview_start_result_undo(
    tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    admin = factories.admin(username="boss")
    client = _client(admin)
    resp = client.post("/imports/new/", {"file": _xlsx_upload(tmp_path), "entity": "leads"})
    assert resp.status_code == 302, resp.content
    batch = ImportBatch.objects.get()
    assert batch.status == "draft"
    page = client.get(f"/imports/{batch.pk}/setup/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "+8613800138000" in html  # preview shows the normalised phone
    assert "科学计数" in html or "scientific" in html  # and the problem of row 4
    assert batch.file_info["header_row"] == 2
    form = {
        "header_row": "2",
        "sheet": "名单",
        "map_0": "name",
        "map_1": "mobile",
        "map_2": "email",
        "map_3": "company",
        "map_4": "",
        "on_duplicate": "skip",
        "owner": "",
        "tags": "展会",
        "source": "",
        "date_order": "MDY",
        "require_contact": "on",
    }
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(f"/imports/{batch.pk}/setup/", {**form, "action": "start"})
    assert resp.status_code == 302
    batch.refresh_from_db()
    assert batch.status == "done" and batch.rows_imported == 1 and batch.rows_invalid == 1
    assert Lead.objects.get().tags == ["展会"]
    assert SavedMapping.objects.filter(user=admin).count() == 1
    detail = client.get(f"/imports/{batch.pk}/").content.decode()
    assert "import-errors" in detail and "undo-import" in detail
    report = client.get(f"/imports/{batch.pk}/errors.csv")
    text = report.content.decode("utf-8-sig")
    assert "\r\n4," in text and "1.38001E+10" in text  # row number as the sheet shows it
    client.post(f"/imports/{batch.pk}/undo/")
    assert not Lead.objects.exists()


def test_wizard_refuses_other_users_batches_and_sales(tmp_path: Path) -> None:
    manager = factories.user("manager")
    other = factories.user("manager")
    client = _client(manager)
    client.post("/imports/new/", {"file": _xlsx_upload(tmp_path), "entity": "leads"})
    batch = ImportBatch.objects.get()
    peer = _client(other)
    assert peer.get(f"/imports/{batch.pk}/setup/").status_code == 404
    assert peer.get(f"/imports/{batch.pk}/").status_code == 404
    assert peer.post(f"/imports/{batch.pk}/undo/").status_code == 404
    sales = _client(factories.user("sales"))
    assert sales.get("/imports/new/").status_code == 403
    listing = sales.get("/imports/")
    assert listing.status_code == 200 and "/imports/new/" not in listing.content.decode()
    bad = client.post(
        "/imports/new/", {"file": SimpleUploadedFile("x.csv", b""), "entity": "leads"}
    )
    assert bad.status_code == 200 and ImportBatch.objects.count() == 1


def test_export_buttons_keep_filters_scope_and_are_audited() -> None:
    manager = factories.user("manager")
    crm_factories.lead(manager, name="上海的", mobile="13800138000", city="上海")
    crm_factories.lead(manager, name="北京的", mobile="13900139000", city="北京")
    crm_factories.lead(factories.user("manager"), name="别人的", mobile="13700137000")
    client = _client(manager)
    page = client.get("/leads/?city=上海").content.decode()
    assert "/export/leads/?city=" in page
    resp = client.get("/export/leads/?city=上海&format=csv")
    text = resp.content.decode("utf-8-sig")
    assert "上海的" in text and "北京的" not in text and "别人的" not in text
    assert AuditEvent.objects.filter(action="export", entity="lead").count() == 1
    xlsx = client.get("/export/contacts/?format=xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert _client(factories.user("sales")).get("/export/leads/").status_code == 403
    assert not Contact.objects.exists()
