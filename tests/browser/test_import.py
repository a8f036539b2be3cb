"""The import wizard in a real browser: a GBK CSV and an XLSX with a title row, each
through upload → detected settings → mapping → preview → start → result, then undo."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from guanxi.customers.models import Contact
from guanxi.importing.models import ImportBatch
from guanxi.importing.tests import files
from guanxi.leads.models import Lead
from guanxi.tests_support import factories
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _run_wizard(page: Any, base: str, path: Path, entity: str) -> ImportBatch:
    page.goto(f"{base}/imports/new/")
    page.set_input_files("input[name=file]", str(path))
    page.select_option("select[name=entity]", entity)
    page.click("form.record-form button.primary")
    page.wait_for_url(f"{base}/imports/*/setup/")
    return ImportBatch.objects.order_by("-pk").first()  # type: ignore[return-value]


def test_import_wizard_gbk_csv_and_xlsx_then_undo(
    page: Any, live_server: Any, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    factories.user("manager", username="wangjl", display_name="王经理", password="Mgr-pass-123")
    base = live_server.url
    login(page, base, "wangjl", "Mgr-pass-123")
    page.on("dialog", lambda dialog: dialog.accept())

    # A GBK CSV as Chinese Excel saves it, CRLF line ends.
    csv_path = files.write_csv(
        tmp_path / "客户名单.csv",
        [
            ["姓名", "手机号码", "单位", "电子邮箱", "备注"],
            ["张伟", "138 0013 8000", "上海关系科技", "zw@example.cn", "展会"],
            ["李娜", "+86-139-0013-9000", "深圳星辰", "", ""],
            ["王芳", "1.38001E+10", "杭州某公司", "", ""],
            ["张伟同事", "13800138000", "上海关系科技", "", ""],
        ],
        encoding="gbk",
        newline="\r\n",
    )
    batch = _run_wizard(page, base, csv_path, "contacts")
    detected = page.inner_text("#detected")
    assert "gbk" in detected.lower()
    # The mapping was suggested from the Chinese headers.
    assert page.input_value("select[name=map_1]") == "mobile"
    preview = page.inner_text("#preview")
    assert "+8613800138000" in preview and "+8613900139000" in preview
    assert "科学计数" in preview  # the problem of row 4 shown before importing
    page.fill("input[name=tags]", "导入测试")
    page.click("button[name=action][value=start]")
    page.wait_for_url(f"{base}/imports/{batch.pk}/")
    page.locator("#undo-import").wait_for()
    counts = page.inner_text("#import-counts")
    assert "2" in counts
    batch.refresh_from_db()
    assert (batch.rows_imported, batch.rows_invalid, batch.rows_duplicate) == (2, 1, 1)
    assert "5" in page.inner_text("#import-duplicates")  # row 5 repeats row 2's phone
    assert Contact.objects.get(name="张伟").tags == ["导入测试"]
    page.click("#undo-import")
    page.locator("#undo-result").wait_for()
    assert not Contact.objects.exists()

    # An XLSX with a merged title row above the header and phones stored as numbers.
    xlsx_path = files.write_xlsx(
        tmp_path / "展会.xlsx",
        [
            ["客户姓名", "联系电话", "Email", "单位", "登记时间"],
            ["赵六", 13700137000, "z@example.cn", "甲公司", dt.datetime(2026, 1, 5, 9, 30)],
            ["钱七", 13600136000.0, "", "乙公司", "2026年1月5日"],
        ],
        title_rows=[["2026 春季博览会 — 客户登记"]],
        merge_title=True,
    )
    batch = _run_wizard(page, base, xlsx_path, "leads")
    assert page.input_value("input[name=header_row]") == "2"
    assert "+8613600136000" in page.inner_text("#preview")
    page.click("button[name=action][value=start]")
    page.wait_for_url(f"{base}/imports/{batch.pk}/")
    page.locator("#undo-import").wait_for()
    assert set(Lead.objects.values_list("mobile", flat=True)) == {"13700137000", "13600136000"}
    page.click("#undo-import")
    page.locator("#undo-result").wait_for()
    assert not Lead.objects.exists()
