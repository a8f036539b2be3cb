"""Bulk actions on lists: per-record permission skips, set-based work, audit per record,
undo, the all-matching filter, the API and the two-step UI."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from guanxi.core import bulk
from guanxi.core.errors import Conflict, ValidationFailed
from guanxi.core.models import AuditEvent, BulkOperation, CustomField
from guanxi.core.services import customfield_save
from guanxi.customers.models import Account, Contact
from guanxi.identity.models import User
from guanxi.leads import services as lead_services
from guanxi.leads.models import Lead, LeadSource
from guanxi.tests_support import crm_factories, factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def dept() -> Any:
    return factories.department("销售一部")


@pytest.fixture
def sales(dept: Any) -> User:
    return factories.user("sales", department=dept, username="sales1")


@pytest.fixture
def colleague(dept: Any) -> User:
    return factories.user("sales", department=dept, username="sales2")


@pytest.fixture
def manager(dept: Any) -> User:
    return factories.user("manager", department=dept, username="boss1")


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _ids(*objs: Any) -> bulk.Selection:
    return bulk.Selection(ids=[o.pk for o in objs])


def test_edit_skips_records_out_of_scope_and_audits_each(sales: User, colleague: User) -> None:
    mine = [crm_factories.lead(sales) for _ in range(3)]
    theirs = crm_factories.lead(colleague)
    result = bulk.bulk_apply(
        actor=sales,
        entity="lead",
        selection=_ids(*mine, theirs),
        data={"action": "edit", "field": "status", "value": "qualified"},
    )
    assert (result.updated, result.skipped) == (3, {"not_found": 1})
    with translation.override("en"):
        assert result.message() == "3 updated, 1 skipped: not found"
    assert set(Lead.objects.filter(status="qualified").values_list("pk", flat=True)) == {
        m.pk for m in mine
    }
    theirs.refresh_from_db()
    assert theirs.status == "new"
    events = AuditEvent.objects.filter(entity="lead", action="update", changes__has_key="status")
    assert sorted(int(e.object_id) for e in events) == sorted(m.pk for m in mine)
    assert events.first().changes == {"status": ["new", "qualified"]}  # type: ignore[union-attr]


def test_without_the_permission_everything_is_skipped(sales: User) -> None:
    leads = [crm_factories.lead(sales) for _ in range(2)]
    viewer = factories.user("service", username="kefu")  # views every lead, edits none
    result = bulk.bulk_apply(
        actor=viewer,
        entity="lead",
        selection=_ids(*leads),
        data={"action": "add_tags", "tags": ["重点"]},
    )
    assert (result.updated, result.skipped) == (0, {"no_permission": 2})
    with translation.override("en"):
        assert result.message() == "0 updated, 2 skipped: no permission"
    # Salespeople may edit but not delete.
    result = bulk.bulk_apply(
        actor=sales, entity="lead", selection=_ids(*leads), data={"action": "delete"}
    )
    assert result.skipped == {"no_permission": 2}
    assert Lead.objects.count() == 2


def test_work_is_set_based(sales: User) -> None:
    def queries(n: int) -> int:
        leads = [crm_factories.lead(sales) for _ in range(n)]
        with CaptureQueriesContext(connection) as ctx:
            bulk.bulk_apply(
                actor=sales,
                entity="lead",
                selection=_ids(*leads),
                data={"action": "add_tags", "tags": [f"批{n}"]},
            )
        return len(ctx.captured_queries)

    assert queries(3) == queries(40)


def test_tags_and_undo(sales: User) -> None:
    a = crm_factories.lead(sales, tags=["老客户"])
    b = crm_factories.lead(sales, tags=["重点"])
    result = bulk.bulk_apply(
        actor=sales,
        entity="lead",
        selection=_ids(a, b),
        data={"action": "add_tags", "tags": "重点，华东"},
    )
    assert (result.updated, result.unchanged) == (2, 0)
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.tags == ["老客户", "重点", "华东"] and b.tags == ["重点", "华东"]
    assert result.undoable
    undone = bulk.bulk_undo(actor=sales, operation_id=result.operation_id)
    assert undone.updated == 2
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.tags == ["老客户"] and b.tags == ["重点"]  # b had 重点 before: kept
    with pytest.raises(Conflict):
        bulk.bulk_undo(actor=sales, operation_id=result.operation_id)
    result = bulk.bulk_apply(
        actor=sales,
        entity="lead",
        selection=_ids(a, b),
        data={"action": "remove_tags", "tags": ["重点"]},
    )
    assert (result.updated, result.unchanged) == (1, 1)


def test_undo_edit_keeps_later_changes(sales: User) -> None:
    a = crm_factories.lead(sales, city="上海")
    b = crm_factories.lead(sales, city="北京")
    result = bulk.bulk_apply(
        actor=sales,
        entity="lead",
        selection=_ids(a, b),
        data={"action": "edit", "field": "city", "value": "杭州"},
    )
    lead_services.lead_update(actor=sales, lead=b, data={"city": "苏州"})
    undone = bulk.bulk_undo(actor=sales, operation_id=result.operation_id)
    assert (undone.updated, undone.skipped) == (1, {"changed": 1})
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.city, b.city) == ("上海", "苏州")
    other = factories.user("sales", username="other")
    with pytest.raises(Exception):  # noqa: B017  (OutOfScope: not their operation)
        bulk.bulk_undo(actor=other, operation_id=result.operation_id)


def test_edit_source_and_custom_field_with_undo(sales: User) -> None:
    LeadSource.objects.create(code="expo", name_zh="展会")
    customfield_save(
        actor=factories.admin(),
        field=None,
        data={
            "entity": "lead",
            "key": "level",
            "label_zh": "级别",
            "kind": CustomField.Kind.SELECT,
            "options": [{"value": "gold"}, {"value": "silver"}],
        },
    )
    lead = crm_factories.lead(sales, custom={"level": "silver"})
    result = bulk.bulk_apply(
        actor=sales,
        entity="lead",
        selection=_ids(lead),
        data={"action": "edit", "field": "source", "value": "展会"},
    )
    lead.refresh_from_db()
    assert lead.source is not None and lead.source.code == "expo" and result.updated == 1
    result = bulk.bulk_apply(
        actor=sales,
        entity="lead",
        selection=_ids(lead),
        data={"action": "edit", "field": "custom.level", "value": "gold"},
    )
    lead.refresh_from_db()
    assert lead.custom == {"level": "gold"}
    bulk.bulk_undo(actor=sales, operation_id=result.operation_id)
    lead.refresh_from_db()
    assert lead.custom == {"level": "silver"}
    for data, field in (
        ({"action": "edit", "field": "custom.level", "value": "bronze"}, "value"),
        ({"action": "edit", "field": "owner", "value": "1"}, "field"),
        ({"action": "edit", "field": "status", "value": "converted"}, "value"),
        ({"action": "explode"}, "action"),
        ({"action": "add_tags", "tags": ""}, "tags"),
    ):
        with pytest.raises(ValidationFailed) as exc:
            bulk.bulk_apply(actor=sales, entity="lead", selection=_ids(lead), data=data)
        assert exc.value.errors[0].field == field


def test_converted_leads_keep_their_fields(sales: User) -> None:
    open_lead = crm_factories.lead(sales)
    done = crm_factories.lead(sales, company="转化公司")
    lead_services.lead_convert(actor=sales, lead=done)
    result = bulk.bulk_apply(
        actor=sales,
        entity="lead",
        selection=_ids(open_lead, done),
        data={"action": "edit", "field": "status", "value": "unqualified"},
    )
    assert (result.updated, result.skipped) == (1, {"locked": 1})


def test_transfer_and_delete(manager: User, sales: User, colleague: User) -> None:
    leads = [crm_factories.lead(sales) for _ in range(2)]
    result = bulk.bulk_apply(
        actor=manager,
        entity="lead",
        selection=_ids(*leads),
        data={"action": "transfer", "to_user_id": colleague.pk},
    )
    assert result.updated == 2 and not result.undoable
    assert set(Lead.objects.values_list("owner_id", flat=True)) == {colleague.pk}
    result = bulk.bulk_apply(
        actor=manager,
        entity="lead",
        selection=_ids(*leads),
        data={"action": "transfer", "to_user_id": None},
    )
    assert result.updated == 2
    assert set(Lead.objects.values_list("owner_id", flat=True)) == {None}
    busy = crm_factories.account(manager, name="有联系人")
    crm_factories.contact(manager, account_id=busy.pk)
    free = crm_factories.account(manager, name="空客户")
    result = bulk.bulk_apply(
        actor=manager, entity="account", selection=_ids(busy, free), data={"action": "delete"}
    )
    assert (result.updated, result.skipped) == (1, {"in_use": 1})
    assert list(Account.objects.values_list("name", flat=True)) == ["有联系人"]
    assert AuditEvent.objects.filter(
        entity="account", action="delete", object_id=str(free.pk), object_repr="空客户"
    ).exists()
    with pytest.raises(Conflict):
        bulk.bulk_undo(
            actor=manager,
            operation_id=BulkOperation.objects.filter(action="delete").values_list("pk", flat=True)[
                0
            ],
        )


def test_all_matching_the_filter_stays_in_scope(manager: User, sales: User) -> None:
    outsider = factories.user("sales", username="outsider")  # another department
    for _ in range(3):
        crm_factories.lead(sales, city="上海")
    crm_factories.lead(sales, city="北京")
    crm_factories.lead(outsider, city="上海")
    selection = bulk.Selection(filter={"city": "上海"})
    assert bulk.selection_count(actor=manager, entity="lead", selection=selection) == 3
    dry = bulk.bulk_apply(
        actor=manager,
        entity="lead",
        selection=selection,
        data={"action": "add_tags", "tags": ["沪"]},
        dry_run=True,
    )
    assert dry.updated == 3 and all(not lead.tags for lead in Lead.objects.all())
    result = bulk.bulk_apply(
        actor=manager,
        entity="lead",
        selection=selection,
        data={"action": "add_tags", "tags": ["沪"]},
    )
    assert result.matched == 3 and result.updated == 3
    assert Lead.objects.filter(owner=outsider, tags=[]).exists()


def test_contacts_bulk_edit(sales: User) -> None:
    contacts = [crm_factories.contact(sales) for _ in range(2)]
    result = bulk.bulk_apply(
        actor=sales,
        entity="contact",
        selection=_ids(*contacts),
        data={"action": "edit", "field": "preferred_channel", "value": "wechat"},
    )
    assert result.updated == 2
    assert set(Contact.objects.values_list("preferred_channel", flat=True)) == {"wechat"}


def test_bulk_api(api_client: Any, sales: User, colleague: User) -> None:
    mine = crm_factories.lead(sales)
    theirs = crm_factories.lead(colleague)
    client = api_client.login(sales)
    response = client.post(
        "leads/bulk",
        {"ids": [mine.pk, theirs.pk], "action": "edit", "field": "city", "value": "深圳"},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["updated"] == 1
    assert body["skipped"] == [{"reason": "not_found", "count": 1}]
    assert body["undoable"] is True
    response = client.post(f"bulk/{body['operation_id']}/undo")
    assert response.status_code == 200 and response.json()["updated"] == 1
    assert client.post(f"bulk/{body['operation_id']}/undo").status_code == 409
    response = client.post("leads/bulk", {"action": "delete"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "ids"
    response = client.post("leads/bulk", {"ids": [mine.pk], "action": "edit", "field": "x"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "field"
    response = client.post(
        "contacts/bulk", {"filter": {}, "action": "add_tags", "tags": ["a"], "dry_run": True}
    )
    assert response.status_code == 200 and response.json()["dry_run"] is True
    response = client.post("accounts/bulk", {"ids": [1], "action": "transfer"})
    assert response.status_code == 422


def test_bulk_ui_two_steps_and_undo(sales: User) -> None:
    a = crm_factories.lead(sales, name="甲线索")
    b = crm_factories.lead(sales, name="乙线索")
    client = _client(sales)
    back = reverse("leads:list") + "?view=mine"
    step1 = client.post(
        reverse("web:bulk", args=["lead"]),
        {"ids": [a.pk, b.pk], "action": "add_tags", "next": back},
    )
    assert step1.status_code == 200
    assert "2" in step1.content.decode() and not Lead.objects.exclude(tags=[]).exists()
    done = client.post(
        reverse("web:bulk", args=["lead"]),
        {"ids": [a.pk, b.pk], "action": "add_tags", "tags": "展会", "confirmed": "1", "next": back},
    )
    assert done.status_code == 302 and done["Location"] == back
    assert Lead.objects.filter(tags=["展会"]).count() == 2
    page = client.get(back)
    operation = page.context["undo"]["id"]
    assert operation == BulkOperation.objects.get(action="add_tags").pk
    assert reverse("web:bulk_undo", args=[operation]) in page.content.decode()
    assert client.get(back).context["undo"] is None  # offered once
    response = client.post(reverse("web:bulk_undo", args=[operation]), {"next": back})
    assert response.status_code == 302
    assert Lead.objects.filter(tags=[]).count() == 2


def test_bulk_ui_delete_asks_first_with_the_count(manager: User) -> None:
    leads = [crm_factories.lead(manager, city="厦门") for _ in range(3)]
    client = _client(manager)
    step1 = client.post(
        reverse("web:bulk", args=["lead"]),
        {"all_matching": "1", "query": "city=厦门", "action": "delete"},
    )
    assert step1.status_code == 200 and Lead.objects.count() == 3
    assert step1.context["count"] == 3 and step1.context["all_matching"]
    done = client.post(
        reverse("web:bulk", args=["lead"]),
        {"all_matching": "1", "query": "city=厦门", "action": "delete", "confirmed": "1"},
    )
    assert (
        done.status_code == 302 and not Lead.objects.filter(pk__in=[x.pk for x in leads]).exists()
    )


def test_many_distinct_results_fall_back_to_one_bulk_update(sales: User) -> None:
    leads = [crm_factories.lead(sales, tags=[f"t{i}"]) for i in range(60)]
    result = bulk.bulk_apply(
        actor=sales,
        entity="lead",
        selection=_ids(*leads),
        data={"action": "add_tags", "tags": ["x"]},
    )
    assert result.updated == 60
    for i, lead in enumerate(leads):
        lead.refresh_from_db()
        assert lead.tags == [f"t{i}", "x"]
