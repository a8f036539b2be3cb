"""Required-field rules (数据治理) on every entry path: services (UI), API and import."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from guanxi.core import required_fields
from guanxi.core.errors import NotPermitted, ValidationFailed
from guanxi.core.models import CustomField
from guanxi.customers.models import Account
from guanxi.importing import services
from guanxi.importing.engine import Options
from guanxi.importing.tests import files
from guanxi.leads.models import Lead
from guanxi.tests_support import crm_factories, factories
from guanxi.tests_support.api import ApiClient

pytestmark = pytest.mark.django_db


def test_rules_enforced_on_ui_api_and_import(tmp_path: Path) -> None:
    admin = factories.admin()
    sales = factories.user("sales")
    old = crm_factories.lead(sales, name="老线索")  # made before the rule: stays editable
    api = ApiClient().login(admin)
    r = api.put("required-fields/lead", {"fields": ["city", "email"]})
    assert r.status_code == 200, r.content
    assert r.json()["fields"] == ["city", "email"]
    assert api.put("required-fields/lead", {"fields": ["nope"]}).status_code == 422
    assert ApiClient().login(sales).put("required-fields/lead", {"fields": []}).status_code == 403

    # API
    sales_api = ApiClient().login(sales)
    r = sales_api.post("leads", {"name": "甲", "mobile": "13800138000"})
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert fields == {"city", "email"}
    r = sales_api.post(
        "leads", {"name": "甲", "mobile": "13800138000", "city": "上海", "email": "a@b.cn"}
    )
    assert r.status_code == 201, r.content
    # A change may not empty a required field; untouched ones on old records are fine.
    r = sales_api.patch(f"leads/{r.json()['id']}", {"city": ""})
    assert r.status_code == 422 and "city" in r.content.decode()
    assert sales_api.patch(f"leads/{old.pk}", {"title": "经理"}).status_code == 200

    # UI form
    client = Client()
    client.force_login(sales)
    r = client.post("/leads/new/", {"name": "乙", "mobile": "13900139000"})
    assert r.status_code == 200 and Lead.objects.filter(name="乙").count() == 0
    assert "This field is required" in r.content.decode() or "必填" in r.content.decode()

    # Import: the row error names the field; other rows come in.
    rows = [
        ["姓名", "手机", "城市", "邮箱"],
        ["丙", "13700137000", "", "c@x.cn"],
        ["丁", "13600136000", "北京", "d@x.cn"],
    ]
    path = files.write_csv(tmp_path / "r.csv", rows)
    _batch, result = services.import_file(
        actor=admin, path=path, file_name=path.name, options=Options(entity="leads")
    )
    assert result.rows_imported == 1
    assert [(e["row"], e["field"]) for e in result.errors] == [(2, "city")]


def test_custom_and_account_rules_and_settings_page() -> None:
    admin = factories.admin()
    CustomField.objects.create(entity="account", key="region", label_zh="大区", kind="text")
    required_fields.rule_set(
        actor=admin, entity_key="account", fields=["industry", "custom.region"]
    )
    with pytest.raises(ValidationFailed) as exc:
        crm_factories.account(admin, name="甲")
    assert {e.field for e in exc.value.errors} == {"industry", "custom.region"}
    account = crm_factories.account(admin, name="甲", industry="制造", custom={"region": "华东"})
    assert Account.objects.filter(pk=account.pk).exists()
    with pytest.raises(NotPermitted):
        required_fields.rule_set(actor=factories.user("sales"), entity_key="account", fields=[])

    client = Client()
    client.force_login(admin)
    page = client.get("/data-quality/required-fields/").content.decode()
    assert "required-account" in page and "大区" in page
    r = client.post("/data-quality/required-fields/", {"entity": "account", "fields": ["city"]})
    assert r.status_code == 302
    assert required_fields.required("account") == ["city"]
    sales = factories.user("sales")
    client.force_login(sales)
    assert client.get("/data-quality/required-fields/").status_code == 403
