"""History panels and the timeline show names instead of ids and choice labels instead of
raw values, in one query per kind of record, within the viewer's scope and masking."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from guanxi.core.audit_labels import label_changes
from guanxi.core.models import CustomField
from guanxi.core.services import customfield_save
from guanxi.customers import services as customer_services
from guanxi.identity.models import User
from guanxi.identity.selectors import record_history
from guanxi.leads import services as lead_services
from guanxi.leads.models import LeadSource
from guanxi.tests_support import crm_factories, factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager() -> User:
    dept = factories.department("销售二部")
    return factories.user("manager", department=dept, username="boss", display_name="王经理")


def test_lead_history_names_owner_source_status_and_custom_values(manager: User) -> None:
    admin = factories.admin()
    customfield_save(
        actor=admin,
        field=None,
        data={
            "entity": "lead",
            "key": "grade",
            "label_zh": "等级",
            "kind": CustomField.Kind.SELECT,
            "options": [{"value": "a", "label_zh": "甲等"}, {"value": "b", "label_zh": "乙等"}],
        },
    )
    LeadSource.objects.create(code="expo", name_zh="展会")
    LeadSource.objects.create(code="web", name_zh="官网")
    colleague = factories.user(
        "sales", department=manager.department, username="li", display_name="李娜"
    )
    lead = crm_factories.lead(manager, source="expo", custom={"grade": "a"})
    lead_services.lead_update(
        actor=manager,
        lead=lead,
        data={"source": "web", "status": "qualified", "custom": {"grade": "b"}},
    )
    lead_services.lead_transfer(actor=manager, records=[lead], to_user=colleague)
    with translation.override("zh-hans"):
        events = record_history(actor=manager, entity="lead", object_id=lead.pk)
        transfer, update = events[0].changes, events[1].changes
        assert transfer["owner"] == ["王经理", "李娜"]
        assert update["source"] == ["展会", "官网"]
        assert update["status"] == ["新线索", "有效线索"]
        assert update["custom.grade"] == ["甲等", "乙等"]
        body = _client(manager).get(reverse("leads:detail", args=[lead.pk])).content.decode()
        assert "王经理 → 李娜" in body and "展会 → 官网" in body and "等级" in body
        timeline = _client(manager).get(
            reverse("activities:timeline"), {"entity": "lead", "id": lead.pk}
        )
        text = timeline.content.decode()
        assert "李娜" in text and "甲等" in text


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_accounts_out_of_scope_stay_ids_and_masking_holds() -> None:
    owner = factories.user("sales", username="owner1")
    stranger = factories.user("sales", username="owner2")
    viewer = factories.user("readonly", username="viewer")
    hidden = crm_factories.account(stranger, name="别人的客户")
    contact = crm_factories.contact(stranger, mobile="13812345678")
    customer_services.contact_update(
        actor=stranger, contact=contact, data={"account_id": hidden.pk, "mobile": "13987654321"}
    )
    # A salesperson who only sees their own accounts: the name is not revealed.
    labelled = label_changes(
        actor=owner, entity_key="contact", changes_list=[{"account": [None, hidden.pk]}]
    )
    assert labelled == [{"account": [None, f"#{hidden.pk}"]}]
    # Read-only staff see every account, phones masked.
    events = record_history(actor=viewer, entity="contact", object_id=contact.pk)
    update = events[0].changes
    assert update["account"] == [None, "别人的客户"]
    assert update["mobile"] == ["138****5678", "139****4321"]


def test_one_query_per_kind_of_record(manager: User) -> None:
    accounts = [crm_factories.account(manager, name=f"客户{i}") for i in range(6)]
    users = [factories.user("sales", department=manager.department) for _ in range(6)]
    changes: list[dict[str, Any]] = [
        {"parent": [accounts[i].pk, accounts[i + 1].pk], "owner": [users[i].pk, users[i + 1].pk]}
        for i in range(5)
    ]
    with CaptureQueriesContext(connection) as few:
        label_changes(actor=manager, entity_key="account", changes_list=changes[:1])
    with CaptureQueriesContext(connection) as many:
        labelled = label_changes(actor=manager, entity_key="account", changes_list=changes)
    assert len(many.captured_queries) == len(few.captured_queries) <= 3
    assert labelled[4]["parent"] == ["客户4", "客户5"]
    assert labelled[0]["owner"] == [users[0].label, users[1].label]
