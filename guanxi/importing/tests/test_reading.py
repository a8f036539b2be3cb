"""Sniffing and reading: encodings, delimiters, line ends, sheets, header rows, cells."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from guanxi.customers.models import Contact
from guanxi.importing import fields, reader
from guanxi.importing import values as parse
from guanxi.importing.tests import files
from guanxi.leads.models import Lead
from guanxi.tests_support import factories

pytestmark = pytest.mark.django_db

ROWS = [
    files.HEADERS_ZH,
    ["张伟", "13800138000", "上海关系科技", "zw@example.cn", "2026/1/5", "老客户"],
    ["李娜", "+86 139 0013 9000", "深圳某公司", "", "2026年1月5日", ""],
]


def _sniff(path: Path) -> reader.FileInfo:
    return reader.sniff(path, header_score=fields.header_score)


@pytest.mark.parametrize(
    ("encoding", "delimiter", "newline", "expected_encoding"),
    [
        ("utf-8", ",", "\n", "utf-8"),
        ("utf-8-sig", ",", "\r\n", "utf-8-sig"),
        ("gbk", ",", "\r\n", "gbk"),
        ("gb18030", ";", "\n", "gbk"),
        ("utf-16", "\t", "\r\n", "utf-16"),
    ],
)
def test_csv_shapes_are_detected(
    tmp_path: Path, encoding: str, delimiter: str, newline: str, expected_encoding: str
) -> None:
    path = files.write_csv(
        tmp_path / "f.csv", ROWS, encoding=encoding, delimiter=delimiter, newline=newline
    )
    info = _sniff(path)
    assert info.kind == "csv"
    assert info.encoding == expected_encoding
    assert info.delimiter == delimiter
    assert info.header_row == 1
    assert info.headers == files.HEADERS_ZH
    rows = list(reader.data_rows(path, info))
    assert [n for n, _c in rows] == [2, 3]
    assert rows[0][1][0] == "张伟"
    assert rows[1][1][1] == "+86 139 0013 9000"


def test_gb18030_only_characters(tmp_path: Path) -> None:
    # 㐀 (CJK extension A) is not in GBK: the file must be read as GB18030.
    rows = [files.HEADERS_ZH, ["㐀先生", "13800138000", "某公司", "", "", ""]]
    path = files.write_csv(tmp_path / "f.csv", rows, encoding="gb18030")
    info = _sniff(path)
    assert info.encoding == "gb18030"
    assert next(reader.data_rows(path, info))[1][0] == "㐀先生"


def test_xlsx_title_rows_merged_cells_numbers_and_formulas(tmp_path: Path) -> None:
    header = ["客户姓名", "联系电话", "Email", "单位", "登记时间", "意向"]
    rows = [
        header,
        ["王五", 13800138000, "w@example.cn", "甲公司", dt.datetime(2026, 1, 5, 9, 30), "高"],
        ["赵六", 13900139000.0, "", "乙公司", 46027, "中"],
        ["科学", "1.38001E+10", "", "丙公司", "2026-01-05", "低"],
        ["公式", 13700137000, "", '=HYPERLINK("x")', "01/05/2026 09:30 PM", "+cmd"],
    ]
    path = files.write_xlsx(
        tmp_path / "expo.xlsx",
        rows,
        title_rows=[["2026 博览会登记"], ["展位 A-12"]],
        merge_title=True,
        extra_sheets={"说明": [["备注"], ["只是说明"]]},
    )
    info = _sniff(path)
    assert info.kind == "xlsx"
    assert info.sheets == ["名单", "说明"]
    assert info.header_row == 3
    assert info.needs_cell_details  # merged cells and a formula: openpyxl reads it
    data = list(reader.data_rows(path, info))
    assert [n for n, _c in data] == [4, 5, 6, 7]
    assert data[3][1][3] == '=HYPERLINK("x")'  # the formula's text, never its result


def test_import_xlsx_rows_keep_spreadsheet_numbers(tmp_path: Path) -> None:
    factories.admin(username="boss")
    header = ["客户姓名", "联系电话", "Email", "单位", "登记时间", "意向"]
    rows = [
        header,
        ["王五", 13800138000, "w@example.cn", "甲公司", dt.datetime(2026, 1, 5, 9, 30), "高"],
        ["赵六", 13900139000.0, "", "乙公司", 46027, "中"],
        ["科学", "1.38001E+10", "", "丙公司", "2026-01-05", "低"],
        ["公式", 13700137000, "", "=1+1", "2026-01-05", "@SUM(A1)"],
        [None, None, None, None, None, None],
        ["没有联系方式", None, None, "丁公司", None, None],
    ]
    path = files.write_xlsx(
        tmp_path / "expo.xlsx", rows, title_rows=[["博览会"], [""]], merge_title=True
    )
    out = StringIO()
    call_command("import", str(path), "--entity", "leads", "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert result["rows_imported"] == 3
    assert result["rows_invalid"] == 2
    assert result["rows_empty"] == 1
    assert {(e["row"], e["field"]) for e in result["errors"]} == {(6, "mobile"), (9, "mobile")}
    assert Lead.objects.get(name="王五").mobile == "13800138000"
    assert Lead.objects.get(name="赵六").mobile == "13900139000"
    formula = Lead.objects.get(name="公式")
    assert (formula.company, formula.notes) == ("=1+1", "@SUM(A1)")


@pytest.mark.parametrize(
    ("text", "e164"),
    [
        ("13800138000", "+8613800138000"),
        ("+86 138 0013 8000", "+8613800138000"),
        ("+86-13800138000", "+8613800138000"),
        ("008613800138000", "+8613800138000"),
        ("86 13800138000", "+8613800138000"),
        ("138-0013-8000", "+8613800138000"),
        ("(138) 0013 8000", "+8613800138000"),
        ("13800138000.0", "+8613800138000"),
        ("010-12345678", "+861012345678"),
        ("0755 1234 5678 转 123", "+8675512345678"),
        ("+1 650 253 0000", "+16502530000"),
    ],
)
def test_phone_shapes(tmp_path: Path, text: str, e164: str) -> None:
    factories.admin(username="boss")
    path = files.write_csv(tmp_path / "p.csv", [["姓名", "电话"], ["某人", text]])
    out = StringIO()
    call_command("import", str(path), "--entity", "contacts", "--json", stdout=out)
    assert json.loads(out.getvalue())["rows_imported"] == 1
    assert Contact.objects.get().phone_e164 == e164


@pytest.mark.parametrize(
    ("value", "order", "expected"),
    [
        ("2026/1/5", "MDY", dt.datetime(2026, 1, 5)),
        ("2026-01-05", "MDY", dt.datetime(2026, 1, 5)),
        ("2026年1月5日", "MDY", dt.datetime(2026, 1, 5)),
        ("01/05/2026 09:30 PM", "MDY", dt.datetime(2026, 1, 5, 21, 30)),
        ("01/05/2026 09:30 PM", "DMY", dt.datetime(2026, 5, 1, 21, 30)),
        ("25/12/2026", "MDY", dt.datetime(2026, 12, 25)),
        (46027, "MDY", dt.datetime(2026, 1, 5)),
        (46027.5, "MDY", dt.datetime(2026, 1, 5, 12)),
        (dt.date(2026, 1, 5), "MDY", dt.datetime(2026, 1, 5)),
    ],
)
def test_date_shapes(value: object, order: str, expected: dt.datetime) -> None:
    assert parse.parse_datetime(value, order=order) == expected  # type: ignore[arg-type]


def test_bad_date_is_an_error() -> None:
    with pytest.raises(ValueError):
        parse.parse_datetime("下周二")


def test_header_dictionary_other_crms() -> None:
    sf = ["Contact ID", "First Name", "Last Name", "Account Name", "Email", "Mobile Phone"]
    assert fields.suggest_mapping("contacts", sf) == {
        1: "first_name",
        2: "last_name",
        3: "company",
        4: "email",
        5: "mobile",
    }
    wk = ["客户名称", "联系人", "手机", "电话", "邮箱", "客户级别", "省份", "城市"]
    assert fields.suggest_mapping("leads", wk) == {
        0: "company",
        1: "name",
        2: "mobile",
        3: "phone",
        4: "email",
        6: "province",
        7: "city",
    }
    assert fields.suggest_mapping("accounts", wk)[0] == "name"
    assert fields.suggest_mapping("accounts", wk)[5] == "tier"


def test_first_and_last_name_make_the_name(tmp_path: Path) -> None:
    factories.admin(username="boss")
    rows = [
        ["First Name", "Last Name", "Email"],
        ["Noah", "Hall", "n@example.cn"],
        ["思远", "陈", "c@example.cn"],
    ]
    path = files.write_csv(tmp_path / "sf.csv", rows, encoding="utf-8-sig")
    call_command("import", str(path), "--entity", "contacts", "--json", stdout=StringIO())
    assert set(Contact.objects.values_list("name", flat=True)) == {"Noah Hall", "陈思远"}


def test_too_long_value_is_a_row_error_never_cut(tmp_path: Path) -> None:
    factories.admin(username="boss")
    rows = [["姓名", "手机"], ["长" * 101, "13800138000"], ["短", "13800138001"]]
    path = files.write_csv(tmp_path / "l.csv", rows)
    out = StringIO()
    call_command("import", str(path), "--entity", "leads", "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert result["rows_imported"] == 1
    assert result["errors"][0]["row"] == 2 and result["errors"][0]["field"] == "name"
    assert not Lead.objects.filter(name__startswith="长").exists()


@pytest.mark.parametrize(
    "content",
    [b"PK\x03\x04not really a zip", b"\x00\x01\x02\x03binary\x00\xff" * 10, b""],
)
def test_unreadable_file_exit_code_2_and_nothing_written(tmp_path: Path, content: bytes) -> None:
    factories.admin(username="boss")
    path = tmp_path / "bad.xlsx"
    path.write_bytes(content)
    out = StringIO()
    with pytest.raises(CommandError) as err:
        call_command("import", str(path), "--entity", "leads", "--json", stdout=out)
    assert err.value.returncode == 2
    assert "error" in json.loads(out.getvalue())
    from guanxi.importing.models import ImportBatch

    assert not ImportBatch.objects.exists() and not Lead.objects.exists()


def test_upload_size_limit(tmp_path: Path, settings: object) -> None:
    settings.GUANXI_IMPORT_MAX_BYTES = 100  # type: ignore[attr-defined]
    path = files.write_csv(tmp_path / "big.csv", files.person_rows(20))
    with pytest.raises(reader.UnreadableFile, match="MB"):
        _sniff(path)


def _ods(path: Path, rows: list[list[str]]) -> Path:
    """A minimal OpenDocument spreadsheet, written by hand."""
    import zipfile

    cells = "".join(
        "<table:table-row>"
        + "".join(
            f'<table:table-cell office:value-type="string"><text:p>{c}</text:p></table:table-cell>'
            for c in row
        )
        + "</table:table-row>"
        for row in rows
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f'<office:body><office:spreadsheet><table:table table:name="客户">{cells}'
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
        ' manifest:version="1.2"><manifest:file-entry manifest:full-path="/"'
        ' manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(
            "mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED
        )
        zf.writestr("content.xml", content)
        zf.writestr("META-INF/manifest.xml", manifest)
    return path


def test_ods_is_read(tmp_path: Path) -> None:
    path = _ods(tmp_path / "k.ods", [["姓名", "手机"], ["张伟", "13800138000"]])
    info = _sniff(path)
    assert (info.kind, info.sheets, info.headers) == ("ods", ["客户"], ["姓名", "手机"])
    assert list(reader.data_rows(path, info)) == [(2, ["张伟", "13800138000"])]


def test_sheet_choice(tmp_path: Path) -> None:
    path = files.write_xlsx(
        tmp_path / "two.xlsx",
        [["说明"], ["第一张表只是说明"]],
        extra_sheets={"客户": [["姓名", "手机"], ["李娜", 13900139000]]},
    )
    info = reader.sniff(path, sheet="客户", header_score=fields.header_score)
    assert info.headers == ["姓名", "手机"]
    assert list(reader.data_rows(path, info)) == [(2, ["李娜", 13900139000.0])]
    with pytest.raises(reader.UnreadableFile):
        reader.sniff(path, sheet="没有")


def test_zip_bomb_is_refused(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"\0" * (20 * 1024 * 1024))
    with pytest.raises(reader.UnreadableFile):
        _sniff(path)


def test_owner_option_and_unknown_owner_column(tmp_path: Path) -> None:
    factories.admin(username="boss")
    colleague = factories.user("sales", username="lina")
    rows = [
        ["姓名", "手机", "负责人"],
        ["甲", "13800138000", "没这个人"],
        ["乙", "13900139000", "boss"],
    ]
    path = files.write_csv(tmp_path / "o.csv", rows)
    out = StringIO()
    call_command("import", str(path), "--entity", "leads", "--owner", "lina", "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert result["warnings"][0]["row"] == 2 and result["warnings"][0]["field"] == "owner"
    assert Lead.objects.get(name="甲").owner_id == colleague.pk
    assert Lead.objects.get(name="乙").owner.username == "boss"
