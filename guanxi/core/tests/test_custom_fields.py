"""The custom fields engine: validation of every kind, partial updates, deactivation."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from guanxi.core import custom_fields
from guanxi.core.errors import ValidationFailed
from guanxi.core.models import CustomField
from guanxi.core.services import customfield_delete, customfield_save
from guanxi.tests_support import factories

pytestmark = pytest.mark.django_db

ENTITY = "note"


def _save(key: str, kind: str, **extra) -> CustomField:
    admin = factories.admin()
    data = {"entity": ENTITY, "key": key, "label_zh": key, "kind": kind, **extra}
    return customfield_save(actor=admin, field=None, data=data)


def _ok(key: str, value):
    return custom_fields.validate(ENTITY, {key: value})[key]


def _error(key: str, value) -> str:
    with pytest.raises(ValidationFailed) as exc:
        custom_fields.validate(ENTITY, {key: value})
    fields = [e.field for e in exc.value.errors]
    assert fields == [f"custom.{key}"]
    return exc.value.errors[0].message


def test_text_is_trimmed_and_limited_to_500():
    _save("t", "text")
    assert _ok("t", "  你好 ") == "你好"
    assert _ok("t", "x" * 500) == "x" * 500
    assert "500" in _error("t", "x" * 501)


def test_long_text_has_no_500_limit():
    _save("lt", "long_text")
    assert _ok("lt", "x" * 5000) == "x" * 5000


@pytest.mark.parametrize(("value", "expected"), [(3, 3), ("42", 42), ("1,000", 1000), ("7.0", 7)])
def test_number_accepts_whole_numbers(value, expected):
    _save("n", "number")
    assert _ok("n", value) == expected


@pytest.mark.parametrize("value", ["1.5", "abc", True, "Infinity", "NaN", [1]])
def test_number_rejects_others(value):
    _save("n", "number")
    _error("n", value)


@pytest.mark.parametrize(
    ("value", "expected"), [("12.50", "12.50"), (3, "3"), ("1,234.5", "1234.5"), (0.25, "0.25")]
)
def test_decimal_is_stored_as_a_string(value, expected):
    _save("d", "decimal")
    assert _ok("d", value) == expected


@pytest.mark.parametrize("value", ["abc", "Infinity", "NaN"])
def test_decimal_rejects_non_numbers(value):
    _save("d", "decimal")
    _error("d", value)


def test_date():
    _save("day", "date")
    assert _ok("day", "2024-02-29") == "2024-02-29"
    assert _ok("day", dt.date(2024, 3, 1)) == "2024-03-01"
    _error("day", "29/02/2024")
    _error("day", "2023-02-29")


def test_datetime_is_stored_as_utc_iso():
    _save("at", "datetime")
    assert _ok("at", "2024-05-01T10:00:00+08:00") == "2024-05-01T02:00:00+00:00"
    shanghai = zoneinfo.ZoneInfo("Asia/Shanghai")
    assert _ok("at", dt.datetime(2024, 5, 1, 10, tzinfo=shanghai)) == "2024-05-01T02:00:00+00:00"
    _error("at", "tomorrow")


def test_naive_datetime_is_read_in_the_current_time_zone():
    _save("at", "datetime")
    # settings.TIME_ZONE is Asia/Shanghai (UTC+8)
    assert _ok("at", "2024-05-01T10:00:00") == "2024-05-01T02:00:00+00:00"


def test_select():
    _save("region", "select", options=[{"value": "east"}, {"value": "north"}])
    assert _ok("region", "east") == "east"
    message = _error("region", "mars")
    assert "east" in message and "north" in message


def test_multi_select_is_sorted_and_deduplicated():
    _save("tags", "multi_select", options=[{"value": "a"}, {"value": "b"}, {"value": "c"}])
    assert _ok("tags", ["c", "a", "c"]) == ["a", "c"]
    assert _ok("tags", "b, a") == ["a", "b"]
    assert "z" in _error("tags", ["a", "z"])


def test_user():
    user = factories.user("sales")
    _save("rep", "user")
    assert _ok("rep", user.pk) == user.pk
    assert _ok("rep", str(user.pk)) == user.pk
    _error("rep", 999_999)
    _error("rep", "someone")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        ("是", True),
        ("否", False),
        ("yes", True),
        ("no", False),
        ("1", True),
        ("0", False),
        ("TRUE", True),
    ],
)
def test_boolean(value, expected):
    _save("flag", "boolean")
    assert _ok("flag", value) is expected


def test_boolean_rejects_others():
    _save("flag", "boolean")
    _error("flag", "maybe")


def test_url():
    _save("site", "url")
    assert _ok("site", " https://example.cn/a ") == "https://example.cn/a"
    _error("site", "not a url")


def test_phone():
    _save("tel", "phone")
    assert _ok("tel", "010-8888 6666 转 123") == "010-8888 6666 转 123"
    assert _ok("tel", "+86 138 0013 8000") == "+86 138 0013 8000"
    _error("tel", "call me")
    _error("tel", "12")


def test_email():
    _save("mail", "email")
    assert _ok("mail", "li@example.com") == "li@example.com"
    _error("mail", "li@")


def test_required_field_must_have_a_value():
    _save("region", "text", required=True)
    with pytest.raises(ValidationFailed) as exc:
        custom_fields.validate(ENTITY, {})
    assert [e.field for e in exc.value.errors] == ["custom.region"]
    with pytest.raises(ValidationFailed):
        custom_fields.validate(ENTITY, {"region": ""})
    assert custom_fields.validate(ENTITY, {"region": "east"}) == {"region": "east"}


def test_unknown_key_is_an_error_not_dropped():
    _save("region", "text")
    with pytest.raises(ValidationFailed) as exc:
        custom_fields.validate(ENTITY, {"region": "east", "colour": "red"})
    assert [e.field for e in exc.value.errors] == ["custom.colour"]


def test_all_errors_are_reported_together():
    _save("n", "number")
    _save("mail", "email")
    with pytest.raises(ValidationFailed) as exc:
        custom_fields.validate(ENTITY, {"n": "x", "mail": "y", "what": 1})
    assert sorted(e.field for e in exc.value.errors) == ["custom.mail", "custom.n", "custom.what"]


def test_partial_update_keeps_the_other_values():
    _save("region", "text")
    _save("n", "number")
    current = {"region": "east", "n": 1}
    assert custom_fields.validate(ENTITY, {"n": "2"}, current=current, partial=True) == {
        "region": "east",
        "n": 2,
    }
    # an empty value removes only that key
    assert custom_fields.validate(ENTITY, {"n": None}, current=current, partial=True) == {
        "region": "east"
    }


def test_full_update_replaces_active_values():
    _save("region", "text")
    _save("n", "number")
    assert custom_fields.validate(ENTITY, {"n": 2}, current={"region": "east", "n": 1}) == {"n": 2}


def test_values_of_deactivated_fields_are_kept():
    field = _save("legacy", "text")
    _save("region", "text")
    customfield_delete(actor=factories.admin(), field=field)
    current = {"legacy": "old value", "region": "east"}
    # full and partial updates both keep the hidden value
    assert custom_fields.validate(ENTITY, {"region": "north"}, current=current) == {
        "legacy": "old value",
        "region": "north",
    }
    assert custom_fields.validate(ENTITY, {}, current=current, partial=True) == current
    # but it can no longer be written
    with pytest.raises(ValidationFailed):
        custom_fields.validate(ENTITY, {"legacy": "new"}, current=current)


def test_definitions_cache_is_cleared_on_change():
    assert custom_fields.definitions(ENTITY) == []
    _save("region", "text")
    assert [f.key for f in custom_fields.definitions(ENTITY)] == ["region"]


def test_customfield_save_refuses_kind_and_key_changes():
    admin = factories.admin()
    field = _save("region", "text")
    with pytest.raises(ValidationFailed) as exc:
        customfield_save(actor=admin, field=field, data={"kind": "number"})
    assert [e.field for e in exc.value.errors] == ["kind"]
    with pytest.raises(ValidationFailed) as exc:
        customfield_save(actor=admin, field=field, data={"key": "area"})
    assert [e.field for e in exc.value.errors] == ["key"]
    field.refresh_from_db()
    assert (field.key, field.kind) == ("region", "text")


def test_display_renders_labels():
    _save(
        "region",
        "select",
        options=[{"value": "east", "label_zh": "华东", "label_en": "East"}],
        position=1,
    )
    _save("flag", "boolean", position=2)
    _save("tags", "multi_select", options=[{"value": "a", "label_zh": "甲"}], position=3)
    shown = custom_fields.display(ENTITY, {"region": "east", "flag": True, "tags": ["a"]})
    assert (shown[0][0].key, shown[0][1]) == ("region", "华东")
    assert [f.key for f, _text in shown] == ["region", "flag", "tags"]
    assert shown[2][1] == "甲"
