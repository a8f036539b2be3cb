"""Sales targets: validation, who may set them (scope), grid save, audit, events, API."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from guanxi.core import events
from guanxi.core.errors import Conflict, NotPermitted, OutOfScope, ValidationFailed
from guanxi.core.models import AuditEvent
from guanxi.identity.models import User
from guanxi.sales import targets
from guanxi.sales.models import SalesTarget
from guanxi.sales.periods import parse
from guanxi.tests_support import factories, org

pytestmark = pytest.mark.django_db

WON = SalesTarget.Measure.WON_AMOUNT.value
NEW = SalesTarget.Measure.NEW_CUSTOMERS.value


@pytest.fixture
def o() -> org.Org:
    return org.build()


def manager_of(o: org.Org, dept: Any) -> User:
    return factories.user("manager", department=dept, username=f"mgr{dept.pk}")


def test_create_rounds_half_up_and_audits(
    o: org.Org, django_capture_on_commit_callbacks: Any
) -> None:
    seen: list[events.Event] = []
    events.subscribe("target.created", seen.append)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            target = targets.target_create(
                actor=o.admin,
                data={
                    "measure": WON,
                    "user_id": o.peer.pk,
                    "year": 2026,
                    "month": 11,
                    "value": "1000.005",
                },
            )
    finally:
        events.unsubscribe("target.created", seen.append)
    assert target.value == Decimal("1000.01")
    assert target.currency == "CNY"
    entry = AuditEvent.objects.get(entity="target", object_id=str(target.pk))
    assert entry.action == "create" and entry.changes["value"] == [None, "1000.01"]
    assert [e.payload["value"] for e in seen] == ["1000.01"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"value": "-1"}, "value"),
        ({"value": "abc"}, "value"),
        ({"month": 13}, "month"),
        ({"year": 1999}, "year"),
        ({"currency": "RMB1"}, "currency"),
        ({"measure": "profit"}, "measure"),
        ({"user_id": None}, "user_id"),
    ],
)
def test_create_rejects_bad_input_naming_the_field(
    o: org.Org, data: dict[str, Any], field: str
) -> None:
    base = {"measure": WON, "user_id": o.peer.pk, "year": 2026, "month": 1, "value": "10"}
    with pytest.raises(ValidationFailed) as exc:
        targets.target_create(actor=o.admin, data={**base, **data})
    assert field in {e.field for e in exc.value.errors}
    assert not SalesTarget.objects.exists()


def test_new_customers_are_whole_numbers_without_currency(o: org.Org) -> None:
    base = {"measure": NEW, "user_id": o.peer.pk, "year": 2026, "month": 1}
    with pytest.raises(ValidationFailed) as exc:
        targets.target_create(actor=o.admin, data={**base, "value": "2.5"})
    assert exc.value.errors[0].field == "value"
    with pytest.raises(ValidationFailed):
        targets.target_create(actor=o.admin, data={**base, "value": "2", "currency": "CNY"})
    target = targets.target_create(actor=o.admin, data={**base, "value": "2"})
    assert target.currency == "" and target.value == 2


def test_duplicate_month_conflicts_and_one_currency_per_year(o: org.Org) -> None:
    base = {"measure": WON, "user_id": o.peer.pk, "year": 2026, "month": 1, "value": "10"}
    targets.target_create(actor=o.admin, data=base)
    with pytest.raises(Conflict):
        targets.target_create(actor=o.admin, data=base)
    with pytest.raises(ValidationFailed) as exc:
        targets.target_create(actor=o.admin, data={**base, "month": 2, "currency": "USD"})
    assert exc.value.errors[0].field == "currency"


def test_manager_sets_targets_of_own_subtree_only(o: org.Org) -> None:
    east_manager = manager_of(o, o.east_dept)
    base = {"measure": WON, "year": 2026, "month": 3, "value": "100"}
    targets.target_create(actor=east_manager, data={**base, "user_id": o.east.pk})
    targets.target_create(actor=east_manager, data={**base, "department_id": o.east_dept.pk})
    for data in ({"user_id": o.peer.pk}, {"department_id": o.sales_dept.pk}):
        with pytest.raises(ValidationFailed):
            targets.target_create(actor=east_manager, data={**base, **data})
    # The head of 销售部 covers 华东区 below it.
    sales_manager = manager_of(o, o.sales_dept)
    targets.target_create(actor=sales_manager, data={**base, "user_id": o.peer.pk})
    targets.target_create(
        actor=sales_manager, data={**base, "department_id": o.east_dept.pk, "month": 4}
    )


def test_salesperson_cannot_set_targets_and_sees_only_own(o: org.Org) -> None:
    base = {"measure": WON, "year": 2026, "month": 3, "value": "100"}
    with pytest.raises(NotPermitted):
        targets.target_create(actor=o.peer, data={**base, "user_id": o.peer.pk})
    mine = targets.target_create(actor=o.admin, data={**base, "user_id": o.peer.pk})
    theirs = targets.target_create(actor=o.admin, data={**base, "user_id": o.east.pk})
    dept = targets.target_create(actor=o.admin, data={**base, "department_id": o.sales_dept.pk})
    page = targets.target_list(actor=o.peer)
    assert [t.pk for t in page.items] == [mine.pk]
    for other in (theirs, dept):
        with pytest.raises(OutOfScope):
            targets.target_get_for_user(actor=o.peer, pk=other.pk)
    with pytest.raises(NotPermitted):
        targets.target_update(actor=o.peer, target=mine, data={"value": "1"})


def test_update_and_delete(o: org.Org) -> None:
    target = targets.target_create(
        actor=o.admin,
        data={"measure": WON, "user_id": o.peer.pk, "year": 2026, "month": 5, "value": "10"},
    )
    with pytest.raises(ValidationFailed) as exc:
        targets.target_update(actor=o.admin, target=target, data={"month": 6})
    assert exc.value.errors[0].field == "month"
    targets.target_update(actor=o.admin, target=target, data={"value": "20", "currency": "usd"})
    target.refresh_from_db()
    assert (target.value, target.currency) == (Decimal("20.00"), "USD")
    entry = AuditEvent.objects.filter(entity="target", action="update").get()
    assert entry.changes == {"currency": ["CNY", "USD"], "value": ["10.00", "20.00"]}
    targets.target_delete(actor=o.admin, target=target)
    assert not SalesTarget.objects.exists()
    assert AuditEvent.objects.filter(entity="target", action="delete").count() == 1


def test_grid_save_creates_changes_removes_and_is_all_or_nothing(o: org.Org) -> None:
    manager = manager_of(o, o.sales_dept)
    row = targets.GridRow("user", o.peer.pk, "CNY", {1: "100", 2: "200", 3: ""})
    result = targets.target_grid_save(actor=manager, measure=WON, year=2026, rows=[row])
    assert (result.created, result.updated, result.deleted) == (2, 0, 0)
    row = targets.GridRow("user", o.peer.pk, "CNY", {1: "150", 2: "", 3: "300"})
    dept_row = targets.GridRow("department", o.east_dept.pk, "CNY", {12: "1,000"})
    result = targets.target_grid_save(actor=manager, measure=WON, year=2026, rows=[row, dept_row])
    assert (result.created, result.updated, result.deleted) == (2, 1, 1)
    assert dict(SalesTarget.objects.filter(user=o.peer).values_list("month", "value")) == {
        1: Decimal("150.00"),
        3: Decimal("300.00"),
    }
    assert SalesTarget.objects.get(department=o.east_dept).value == Decimal("1000.00")

    bad = targets.GridRow("user", o.peer.pk, "CNY", {1: "999", 4: "x", 5: "-3"})
    with pytest.raises(ValidationFailed) as exc:
        targets.target_grid_save(actor=manager, measure=WON, year=2026, rows=[bad])
    assert {e.field for e in exc.value.errors} == {f"user-{o.peer.pk}-4", f"user-{o.peer.pk}-5"}
    assert SalesTarget.objects.get(user=o.peer, month=1).value == Decimal("150.00")

    east_manager = manager_of(o, o.east_dept)
    outside = targets.GridRow("user", o.peer.pk, "CNY", {1: "1"})
    with pytest.raises(ValidationFailed) as exc:
        targets.target_grid_save(actor=east_manager, measure=WON, year=2026, rows=[outside])
    assert exc.value.errors[0].field == f"user-{o.peer.pk}"


def test_target_sums_add_the_months_of_a_quarter(o: org.Org) -> None:
    row = targets.GridRow("user", o.peer.pk, "CNY", {m: str(m * 100) for m in range(1, 13)})
    targets.target_grid_save(actor=o.admin, measure=WON, year=2026, rows=[row])
    sums = targets.target_sums(measure=WON, period=parse("2026-Q2"))
    assert sums[("user", o.peer.pk)] == {"CNY": Decimal("1500.00")}  # 400 + 500 + 600
    assert targets.target_sums(measure=WON, period=parse("2026"))[("user", o.peer.pk)] == {
        "CNY": Decimal("7800.00")
    }
    assert targets.target_sums(measure=WON, period=parse("2026-07"))[("user", o.peer.pk)] == {
        "CNY": Decimal("700.00")
    }


def test_grid_marks_editable_rows(o: org.Org) -> None:
    east_manager = manager_of(o, o.east_dept)
    lines = targets.target_grid(actor=east_manager, measure=WON, year=2026, kind="user")
    assert {line.subject.username for line in lines} == {"east", east_manager.username}
    assert all(line.editable for line in lines)
    lines = targets.target_grid(actor=o.peer, measure=WON, year=2026, kind="user")
    assert [(line.subject.username, line.editable) for line in lines] == [("peer", False)]


# --- API ---------------------------------------------------------------------------------


def test_api_crud(api_client: Any, o: org.Org) -> None:
    manager = manager_of(o, o.sales_dept)
    api = api_client.login(manager)
    body = {"measure": WON, "user_id": o.peer.pk, "year": 2026, "month": 10, "value": "50000"}
    created = api.post("targets", body)
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["value"] == "50000.00" and data["currency"] == "CNY"
    assert data["user"]["username"] == "peer" and data["department"] is None
    assert api.post("targets", body).status_code == 409
    bad = api.post("targets", {**body, "month": 0})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "month"
    listed = api.get("targets", year=2026, measure=WON).json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == data["id"]
    patched = api.patch(f"targets/{data['id']}", {"value": "60000"})
    assert patched.status_code == 200 and patched.json()["value"] == "60000.00"
    assert api.delete(f"targets/{data['id']}").status_code == 204
    assert api.get(f"targets/{data['id']}").status_code == 404


def test_api_scope(api_client: Any, o: org.Org) -> None:
    theirs = targets.target_create(
        actor=o.admin,
        data={"measure": WON, "user_id": o.east.pk, "year": 2026, "month": 1, "value": "1"},
    )
    mine = targets.target_create(
        actor=o.admin,
        data={"measure": WON, "user_id": o.peer.pk, "year": 2026, "month": 1, "value": "2"},
    )
    api = api_client.login(o.peer)
    assert [i["id"] for i in api.get("targets").json()["items"]] == [mine.pk]
    assert api.get(f"targets/{theirs.pk}").status_code == 404
    assert api.get(f"targets/{mine.pk}").status_code == 200
    assert api.patch(f"targets/{mine.pk}", {"value": "3"}).status_code == 403
    assert api.delete(f"targets/{theirs.pk}").status_code in (403, 404)
    denied = api.post(
        "targets", {"measure": WON, "user_id": o.peer.pk, "year": 2026, "month": 2, "value": "1"}
    )
    assert denied.status_code == 403
    assert SalesTarget.objects.count() == 2
