"""The engine's fast paths give exactly what the general normalisers give."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from guanxi.core import normalize
from guanxi.importing import services
from guanxi.importing.bulk import _to_json
from guanxi.importing.engine import Importer, Options, RowErrors
from guanxi.importing.tests import files
from guanxi.tests_support import factories

pytestmark = pytest.mark.django_db

PHONES: list[Any] = [
    "13800138000",
    "138 0013 8000",
    "+86 13800138000",
    "138-0013-8000",
    13800138000,
    13800138000.0,
    "13800138000.0",
    "010-12345678",
    "0755 1234 5678 转 123",
    "１３８００１３８０００",
]


def _importer(tmp_path: Path, headers: list[str]) -> Importer:
    admin = factories.admin(username="boss")
    path = files.write_csv(tmp_path / "f.csv", [headers, ["x"] * len(headers)])
    options = Options(entity="contacts")
    info = services.inspect_file(path=path, options=options)
    return Importer(actor=admin, path=path, info=info, options=options)


@pytest.mark.parametrize("value", PHONES)
def test_phone_fast_path_matches_the_normaliser(tmp_path: Path, value: Any) -> None:
    importer = _importer(tmp_path, ["姓名", "手机", "电话"])
    row = importer.prepare(2, ["张伟", value, value])
    assert row is not None
    parsed = normalize.phone(value)
    assert parsed is not None
    assert row.values["mobile_e164"] == parsed.e164
    assert row.values["phone_e164"] == parsed.e164
    assert row.values["phone_ext"] == parsed.extension
    assert row.values["mobile"] == parsed.raw
    assert ("phone", parsed.e164) in row.keys


@pytest.mark.parametrize("value", ["1.38001E+10", "12345", "abc"])
def test_phone_fast_path_leaves_invalid_numbers_to_the_normaliser(
    tmp_path: Path, value: str
) -> None:
    importer = _importer(tmp_path, ["姓名", "手机"])
    with pytest.raises(RowErrors) as exc:
        importer.prepare(2, ["张伟", value])
    assert [field for field, _m in exc.value.errors] == ["mobile"]


def test_text_fast_path_keeps_neutralised_formulas_and_limits(tmp_path: Path) -> None:
    importer = _importer(tmp_path, ["姓名", "手机", "职位", "备注"])
    row = importer.prepare(2, ["  张伟 ", "13800138000", "'=SUM(A1)", "'+note"])
    assert row is not None
    assert row.values["name"] == "张伟"
    assert row.values["title"] == "=SUM(A1)"
    assert row.values["notes"] == "+note"
    with pytest.raises(RowErrors) as exc:
        importer.prepare(3, ["张" * 101, "13800138000", "", ""])
    assert exc.value.errors[0][0] == "name"


def test_json_shortcut_is_json() -> None:
    import json

    for value in ([], {}, None, 0, "", ["a"], {"k": "v"}, ["中文"]):
        assert _to_json(value) == json.dumps(value)


def test_pinyin_fast_and_slow_paths() -> None:
    from pypinyin import Style, lazy_pinyin

    for name in ("张伟", "欧阳娜娜", "重庆", "李长江"):
        syllables = lazy_pinyin(name, style=Style.NORMAL)
        assert normalize.pinyin_keys(name) == ("".join(syllables), "".join(s[0] for s in syllables))
