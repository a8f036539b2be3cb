"""Options on duplicates, scope, undo, audit, export round trip."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from guanxi.core.errors import Conflict, NotPermitted, OutOfScope
from guanxi.core.models import AuditEvent
from guanxi.customers.models import Account, Contact
from guanxi.importing import exporting, services
from guanxi.importing.engine import Options
from guanxi.importing.models import ImportBatch
from guanxi.importing.tests import files
from guanxi.leads.models import Lead
from guanxi.tests_support import crm_factories, factories
from guanxi.tests_support import org as org_support

pytestmark = pytest.mark.django_db


def _run(actor: Any, path: Path, **opts: Any) -> tuple[ImportBatch | None, Any]:
    return services.import_file(
        actor=actor, path=path, file_name=path.name, options=Options(**opts)
    )


def test_update_fills_empty_fields_and_undo_restores_exactly(tmp_path: Path) -> None:
    admin = factories.admin(username="boss")
    existing = crm_factories.lead(admin, name="张伟", mobile="13800138000", company="")
    before = Lead.objects.values().get(pk=existing.pk)
    rows = [
        ["姓名", "手机", "公司", "城市", "邮箱"],
        ["张伟", "138 0013 8000", "上海关系", "上海", "zw@example.cn"],
        ["新人", "13900139000", "", "", ""],
    ]
    path = files.write_csv(tmp_path / "u.csv", rows)
    batch, result = _run(admin, path, entity="leads", on_duplicate="update")
    assert batch is not None
    assert (result.rows_imported, result.rows_updated, result.rows_duplicate) == (1, 1, 1)
    assert result.duplicates[0] == {
        "row": 2,
        "existing_id": existing.pk,
        "existing_type": "lead",
        "match": "phone",
        "action": "updated",
    }
    existing.refresh_from_db()
    assert (existing.company, existing.city, existing.email_norm) == (
        "上海关系",
        "上海",
        "zw@example.cn",
    )
    assert existing.name == "张伟"
    # Audited: one import entry with file name and hash, and the field-by-field update.
    entry = AuditEvent.objects.get(action="import", object_id=str(batch.pk))
    assert entry.changes["file_hash"] == batch.file_hash and entry.changes["rows_imported"] == 1
    assert AuditEvent.objects.filter(action="update", object_id=str(existing.pk)).exists()

    undo = services.batch_undo(actor=admin, batch=batch)
    assert (undo.removed, undo.restored, undo.conflicts) == (1, 1, [])
    after = Lead.objects.values().get(pk=existing.pk)
    assert {k: v for k, v in after.items() if k != "updated_at"} == {
        k: v for k, v in before.items() if k != "updated_at"
    }
    assert not Lead.objects.filter(name="新人").exists()
    batch.refresh_from_db()
    assert batch.status == "undone"
    with pytest.raises(Conflict):
        services.batch_undo(actor=admin, batch=batch)


def test_overwrite_and_create_anyway(tmp_path: Path) -> None:
    admin = factories.admin(username="boss")
    existing = crm_factories.lead(admin, name="旧名", mobile="13800138000", city="北京")
    path = files.write_csv(
        tmp_path / "o.csv", [["姓名", "手机", "城市"], ["新名", "13800138000", "上海"]]
    )
    _run(admin, path, entity="leads", on_duplicate="overwrite")
    existing.refresh_from_db()
    assert (existing.name, existing.city, existing.name_pinyin) == ("新名", "上海", "xinming")
    _batch, result = _run(admin, path, entity="leads", on_duplicate="create")
    assert result.rows_imported == 1 and result.duplicates[0]["action"] == "created"
    assert Lead.objects.filter(mobile_e164="+8613800138000").count() == 2


def test_undo_leaves_records_changed_since(tmp_path: Path) -> None:
    admin = factories.admin(username="boss")
    path = files.write_csv(tmp_path / "c.csv", [files.HEADERS_ZH, *files.person_rows(3)])
    batch, _r = _run(admin, path, entity="contacts")
    assert batch is not None
    assert Account.objects.count() == 3  # 公司0..2 created for the contacts
    touched = Contact.objects.order_by("pk").first()
    assert touched is not None
    Contact.objects.filter(pk=touched.pk).update(
        title="改过", updated_at=timezone.now() + dt.timedelta(seconds=1)
    )
    result = services.batch_undo(actor=admin, batch=batch)
    assert result.removed == 2 + 2  # two contacts, two of the three accounts
    reasons = {(c["type"], c["id"]) for c in result.conflicts}
    assert ("contact", touched.pk) in reasons
    assert ("account", touched.account_id) in reasons  # the kept contact still uses it
    assert list(Contact.objects.values_list("pk", flat=True)) == [touched.pk]


def test_undo_window_for_the_importer(tmp_path: Path, settings: Any) -> None:
    o = org_support.build()
    manager = o.give(o.actor, factories.role("manager"))
    path = files.write_csv(tmp_path / "w.csv", [files.HEADERS_ZH, *files.person_rows(2)])
    batch, _r = _run(manager, path, entity="leads")
    assert batch is not None
    # As if the import had finished 25 hours ago.
    ImportBatch.objects.filter(pk=batch.pk).update(
        finished_at=timezone.now() - dt.timedelta(hours=25)
    )
    Lead.objects.update(updated_at=timezone.now() - dt.timedelta(hours=26))
    batch.refresh_from_db()
    with pytest.raises(NotPermitted):
        services.batch_undo(actor=manager, batch=batch)
    with pytest.raises(OutOfScope):
        services.batch_undo(actor=o.peer, batch=batch)
    settings.GUANXI_IMPORT_UNDO_HOURS = 48
    assert services.batch_undo(actor=manager, batch=batch).removed == 2
    assert not Lead.objects.exists()


def test_dedup_out_of_scope_never_leaks_never_duplicates(tmp_path: Path) -> None:
    o = org_support.build()
    manager = o.give(o.east, factories.role("manager"))  # 华东区 subtree only
    hidden = crm_factories.lead(o.peer, name="别人的", mobile="13800138000")  # 销售部
    mine = crm_factories.lead(manager, name="我的", email="me@example.cn")
    path = files.write_csv(
        tmp_path / "s.csv",
        [["姓名", "手机", "邮箱"], ["甲", "13800138000", ""], ["乙", "", "ME@example.cn"]],
    )
    _batch, result = _run(manager, path, entity="leads", on_duplicate="update")
    assert result.rows_imported == 0 and result.rows_duplicate == 2
    outside, inside = result.duplicates
    assert outside["existing_id"] is None and outside["existing_type"] is None
    assert "action" in outside and outside["action"] == "skipped"
    assert str(hidden.pk) not in str(outside)
    assert inside["existing_id"] == mine.pk and inside["match"] == "email"
    # "create anyway" never creates a duplicate of a record the importer cannot see.
    _batch, result = _run(manager, path, entity="leads", on_duplicate="create")
    assert Lead.objects.filter(mobile_e164="+8613800138000").count() == 1


def test_within_file_duplicates_and_dry_run(tmp_path: Path) -> None:
    admin = factories.admin(username="boss")
    rows = [
        ["姓名", "手机", "邮箱"],
        ["甲", "13800138000", "a@example.cn"],
        ["甲2", "+86 138 0013 8000", ""],
        ["甲3", "", "A@Example.cn"],
    ]
    path = files.write_csv(tmp_path / "d.csv", rows)
    batch, result = _run(admin, path, entity="leads", dry_run=True)
    assert batch is None and not Lead.objects.exists()
    assert result.rows_imported == 1 and result.rows_duplicate == 2
    assert [(d["row"], d["duplicate_of_row"], d["match"]) for d in result.duplicates] == [
        (3, 2, "phone"),
        (4, 2, "email"),
    ]


def test_sales_without_import_permission_is_refused(tmp_path: Path) -> None:
    sales = factories.user("sales")
    path = files.write_csv(tmp_path / "x.csv", [files.HEADERS_ZH, *files.person_rows(1)])
    with pytest.raises(NotPermitted):
        _run(sales, path, entity="leads")


def test_export_round_trip_gives_the_same_records(tmp_path: Path) -> None:
    admin = factories.admin(username="boss")
    crm_factories.lead(
        admin,
        name="=危险",
        company="+公司",
        mobile="+86 138 0013 8000",
        phone="0755 1234 5678 转 123",
        email="A@Example.cn",
        city="深圳",
        tags=["展会", "-重要"],
        notes="@备注",
        next_followup_at=timezone.now().replace(microsecond=0, second=0),
    )
    crm_factories.lead(admin, name="李四", mobile="13900139000")
    fields_ = ["name", "company", "mobile_e164", "phone_e164", "phone_ext", "email_norm",
               "city", "tags", "notes", "next_followup_at"]  # fmt: skip
    before = sorted(Lead.objects.values_list(*fields_), key=str)
    for fmt, encoding in (("csv", "utf-8"), ("csv", "gbk"), ("xlsx", "")):
        out = io.BytesIO()
        assert (
            exporting.export_records(
                actor=admin, entity="leads", out=out, fmt=fmt, encoding=encoding or "utf-8"
            )
            == 2
        )
        if fmt == "csv":
            text = out.getvalue().decode("utf-8-sig" if encoding == "utf-8" else "gb18030")
            cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
            assert "'=危险" in cells and "'+公司" in cells and "'@备注" in cells
        Lead.objects.all().delete()
        path = tmp_path / f"export.{fmt}"
        path.write_bytes(out.getvalue())
        _batch, result = _run(admin, path, entity="leads")
        assert result.rows_invalid == 0, result.errors
        assert sorted(Lead.objects.values_list(*fields_), key=str) == before


def test_export_scope_masking_and_audit() -> None:
    o = org_support.build()
    masked_role = org_support.role(
        o.admin,
        {
            "lead": {
                "actions": ["view", "create", "export"],
                "scope": "own",
                "masked_fields": ["mobile"],
            }
        },
    )
    actor = o.give(o.actor, masked_role)
    crm_factories.lead(actor, name="我的", mobile="13800138000")
    crm_factories.lead(o.peer, name="同事的", mobile="13900139000")
    out = io.BytesIO()
    assert exporting.export_records(actor=actor, entity="leads", out=out) == 1
    text = out.getvalue().decode("utf-8-sig")
    assert "我的" in text and "同事的" not in text
    assert "138****8000" in text and "13800138000" not in text
    entry = AuditEvent.objects.get(action="export")
    assert entry.changes["records"] == 1 and entry.changes["masked"] == ["mobile"]
    with pytest.raises(NotPermitted):
        exporting.export_records(actor=o.peer, entity="leads", out=io.BytesIO())


def test_likely_duplicates_are_listed_not_merged(tmp_path: Path) -> None:
    admin = factories.admin(username="boss")
    lead = crm_factories.lead(admin, name="张伟", company="上海关系", mobile="13800138000")
    account = crm_factories.account(admin, name="深圳公司")
    contact = crm_factories.contact(admin, name="李娜", account_id=account.pk, email="l@x.cn")
    leads_file = files.write_csv(
        tmp_path / "l.csv", [["姓名", "公司", "手机"], ["张伟", "上海关系", "13900139000"]]
    )
    _batch, result = _run(admin, leads_file, entity="leads")
    assert result.rows_imported == 1
    assert result.likely == [
        {"row": 2, "existing_id": lead.pk, "existing_type": "lead", "match": "name"}
    ]
    contacts_file = files.write_csv(
        tmp_path / "c.csv", [["姓名", "公司", "手机"], ["李娜", "深圳公司", "13700137000"]]
    )
    _batch, result = _run(admin, contacts_file, entity="contacts")
    assert result.likely == [
        {"row": 2, "existing_id": contact.pk, "existing_type": "contact", "match": "name"}
    ]
    assert Lead.objects.filter(name="张伟").count() == 2


def test_accounts_dedup_on_name_and_long_names(tmp_path: Path) -> None:
    admin = factories.admin(username="boss")
    existing = crm_factories.account(admin, name="上海关系科技有限公司")
    long_name = "很" * 150  # accounts allow 200 characters
    rows = [
        ["客户名称", "客户级别", "城市"],
        ["上海关系科技有限公司", "A（重点客户）", "上海"],
        [long_name, "B（普通客户）", "北京"],
        [long_name, "C", "北京"],
        ["太" * 201, "", ""],
    ]
    path = files.write_csv(tmp_path / "a.csv", rows)
    _batch, result = _run(admin, path, entity="accounts", on_duplicate="update")
    assert (result.rows_imported, result.rows_updated, result.rows_duplicate) == (1, 1, 2)
    assert [(e["row"], e["field"]) for e in result.errors] == [(5, "name")]
    existing.refresh_from_db()
    assert (existing.tier, existing.city) == ("A", "上海")
    assert Account.objects.get(name=long_name).tier == "B"
