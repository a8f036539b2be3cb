"""Department pools: where released / reclaimed / transferred records go, and who sees
and claims from which pool (a salesperson never sees another department's pool)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from guanxi.core.errors import OutOfScope, ValidationFailed
from guanxi.core.models import AuditEvent
from guanxi.customers import services as customer_services
from guanxi.customers.models import Account
from guanxi.identity.models import Department, User
from guanxi.leads import pool
from guanxi.leads.models import Lead, Pool, PoolRule
from guanxi.leads.pool import selectors as pool_selectors
from guanxi.tests_support import crm_factories, factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@dataclass
class Org:
    sales_dept: Department
    east: Department
    south: Department
    service: Department
    east_rep: User
    south_rep: User
    service_rep: User
    manager: User
    admin: User


@pytest.fixture
def org() -> Org:
    sales_dept = factories.department("销售部")
    east = factories.department("华东区", parent=sales_dept)
    south = factories.department("华南区", parent=sales_dept)
    service = factories.department("客服部")
    admin = factories.admin()
    pool.pool_create(actor=admin, department=sales_dept)
    pool.pool_create(actor=admin, department=east, name="华东公海")
    return Org(
        sales_dept=sales_dept,
        east=east,
        south=south,
        service=service,
        east_rep=factories.user("sales", department=east),
        south_rep=factories.user("sales", department=south),
        service_rep=factories.user("sales", department=service),
        manager=factories.user("manager", department=sales_dept),
        admin=admin,
    )


def _released(owner: User) -> Account:
    account = crm_factories.account(owner)
    return pool.account_release(actor=owner, account=account, reason="无需求")


def test_release_goes_to_the_nearest_pool_up_the_tree(org: Org) -> None:
    east = _released(org.east_rep)
    south = _released(org.south_rep)
    service = _released(org.service_rep)
    assert Account.objects.get(pk=east.pk).pool_department_id == org.east.pk
    assert Account.objects.get(pk=south.pk).pool_department_id == org.sales_dept.pk
    assert Account.objects.get(pk=service.pk).pool_department_id is None
    event = AuditEvent.objects.get(entity="account", object_id=str(east.pk), action="release")
    assert event.changes["pool"] == "华东公海"
    lead = crm_factories.lead(org.east_rep)
    pool.lead_release(actor=org.east_rep, lead=lead, reason="空号")
    assert Lead.objects.get(pk=lead.pk).pool_department_id == org.east.pk


def test_users_see_their_own_and_ancestor_pools_only(org: Org, api_client: Any) -> None:
    east = _released(org.east_rep)  # 华东公海
    upper = _released(org.south_rep)  # 销售部 pool
    company = _released(org.service_rep)  # company pool

    def visible(user: User) -> set[int]:
        page = pool_selectors.pool_list(actor=user, entity="account", page_size=200)
        return {a.pk for a in page.items}

    assert visible(org.east_rep) == {east.pk, upper.pk, company.pk}
    assert visible(org.south_rep) == {upper.pk, company.pk}
    assert visible(org.service_rep) == {company.pk}
    assert visible(org.manager) == {east.pk, upper.pk, company.pk}  # subtree scope
    assert visible(org.admin) == {east.pk, upper.pk, company.pk}
    names = [name for _d, name in pool.visible_pools(org.south_rep, "account")]
    assert names == ["Company pool", "销售部 pool"]

    # 华南 cannot see, open or claim the 华东 pool's account: list, page, API all say no.
    web = Client()
    web.force_login(org.south_rep)
    assert "华东公海" not in web.get(reverse("pool:accounts")).content.decode()
    assert web.get(reverse("customers:account_detail", args=[east.pk])).status_code == 404
    assert web.get(reverse("customers:account_detail", args=[upper.pk])).status_code == 200
    assert web.post(reverse("pool:account_claim", args=[east.pk])).status_code == 404
    api = api_client.login(org.south_rep)
    assert api.get(f"accounts/{east.pk}").status_code == 404
    assert api.post(f"accounts/{east.pk}/claim").status_code == 404
    ids = {a["id"] for a in api.get("accounts/pool", page_size=200).json()["items"]}
    assert ids == {upper.pk, company.pk}
    bad = api.get("accounts/pool", pool=str(org.east.pk))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "pool"
    only = api.get("accounts/pool", pool="company").json()["items"]
    assert [a["id"] for a in only] == [company.pk]
    pools = api.get("pools").json()
    assert [p["department_id"] for p in pools] == [None, org.sales_dept.pk]
    with pytest.raises(OutOfScope):
        pool.account_claim(actor=org.south_rep, account=east)
    # The east rep and the manager above may claim it.
    assert pool.account_claim(actor=org.manager, account=east).owner_id == org.manager.pk


def test_lead_pool_is_scoped_the_same_way(org: Org) -> None:
    lead = crm_factories.lead(org.east_rep)
    pool.lead_release(actor=org.east_rep, lead=lead, reason="重复")
    south = Client()
    south.force_login(org.south_rep)
    assert lead.name not in south.get(reverse("leads:pool")).content.decode()
    assert south.get(reverse("leads:detail", args=[lead.pk])).status_code == 404
    assert south.post(reverse("leads:claim", args=[lead.pk])).status_code == 404
    east = Client()
    east.force_login(factories.user("sales", department=org.east))
    assert lead.name in east.get(reverse("leads:pool")).content.decode()
    assert east.get(reverse("leads:detail", args=[lead.pk])).status_code == 200


def test_reclaim_and_transfer_route_by_the_owners_department(org: Org) -> None:
    import datetime as dt

    PoolRule.objects.create(
        name="销售部 10 天", entity="account", no_followup_days=10, department=org.sales_dept
    )
    east = crm_factories.account(org.east_rep)
    south = crm_factories.account(org.south_rep)
    service = crm_factories.account(org.service_rep)
    old = timezone.now() - dt.timedelta(days=20)
    Account.objects.filter(pk__in=[east.pk, south.pk, service.pk]).update(created_at=old)
    # The rule of 销售部 covers its sub-departments; 客服部 is outside it.
    assert pool.accounts_reclaim_due() == 2
    assert Account.objects.get(pk=east.pk).pool_department_id == org.east.pk
    assert Account.objects.get(pk=south.pk).pool_department_id == org.sales_dept.pk
    assert Account.objects.get(pk=service.pk).owner_id == org.service_rep.pk
    reclaim = AuditEvent.objects.get(entity="account", object_id=str(south.pk), action="reclaim")
    assert reclaim.changes["pool"] == "销售部 pool"
    # A transfer to the pool routes too, and an edit that clears the owner.
    moved = crm_factories.account(org.east_rep)
    customer_services.account_transfer(actor=org.east_rep, records=[moved], to_user=None)
    assert Account.objects.get(pk=moved.pk).pool_department_id == org.east.pk
    edited = crm_factories.account(org.south_rep)
    customer_services.account_update(actor=org.south_rep, account=edited, data={"owner_id": None})
    assert Account.objects.get(pk=edited.pk).pool_department_id == org.sales_dept.pk
    # Handing it to a user restarts the ownership clock and clears the pool.
    customer_services.account_transfer(actor=org.admin, records=[edited], to_user=org.east_rep)
    stored = Account.objects.get(pk=edited.pk)
    assert stored.pool_department_id is None and stored.owned_since is not None


def test_removing_a_pool_moves_its_records_up(org: Org, api_client: Any) -> None:
    east = _released(org.east_rep)
    lead = crm_factories.lead(org.east_rep)
    pool.lead_release(actor=org.east_rep, lead=lead, reason="x")
    east_pool = Pool.objects.get(department=org.east)
    moved = pool.pool_delete(actor=org.admin, pool=east_pool)
    assert moved == {"lead": 1, "account": 1}
    assert Account.objects.get(pk=east.pk).pool_department_id == org.sales_dept.pk
    assert Lead.objects.get(pk=lead.pk).pool_department_id == org.sales_dept.pk
    assert AuditEvent.objects.filter(entity="pool", action="delete").exists()
    moved_audit = AuditEvent.objects.get(entity="account", object_id=str(east.pk), action="update")
    assert moved_audit.changes["pool"] == ["华东公海", "销售部 pool"]
    # Releases from 华东 now go to 销售部's pool.
    again = _released(org.east_rep)
    assert Account.objects.get(pk=again.pk).pool_department_id == org.sales_dept.pk
    api = api_client.login(org.admin)
    assert api.delete(f"pools/{org.east.pk}").status_code == 404
    created = api.post("pools", {"department_id": org.east.pk, "name": "华东二部公海"})
    assert created.status_code == 201 and created.json()["name"] == "华东二部公海"
    dup = api.post("pools", {"department_id": org.east.pk})
    assert dup.status_code == 422 and dup.json()["errors"][0]["field"] == "department"
    assert api_client.login(org.east_rep).post("pools", {"department_id": 1}).status_code == 403
    with pytest.raises(ValidationFailed):
        pool.pool_create(actor=org.admin, department=org.east)
