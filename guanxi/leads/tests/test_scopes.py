"""Every data scope × entity (lead, account, contact): a user sees exactly the records of
the users their scope covers, through the selector, the API list, its count and detail."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import Model

from guanxi.core import permissions
from guanxi.customers import selectors as customer_selectors
from guanxi.leads import selectors as lead_selectors
from guanxi.tests_support import crm_factories, org

pytestmark = pytest.mark.django_db

EXPECTED = {
    "own": {"actor"},
    "department": {"actor", "peer"},
    "subtree": {"actor", "peer", "east"},
    "all": {"actor", "peer", "east", "service", "boss"},
}
MAKERS = {
    "lead": (crm_factories.lead, lead_selectors.lead_list, "leads"),
    "account": (crm_factories.account, customer_selectors.account_list, "accounts"),
    "contact": (crm_factories.contact, customer_selectors.contact_list, "contacts"),
}


@pytest.mark.parametrize("scope", list(EXPECTED))
@pytest.mark.parametrize("entity_key", list(MAKERS))
def test_scope(api_client: Any, entity_key: str, scope: str) -> None:
    o = org.build()
    make, list_fn, path = MAKERS[entity_key]
    records: dict[str, Model] = {}
    for name in ("actor", "peer", "east", "service", "boss"):
        records[name] = make(o.admin, owner_id=getattr(o, name).pk)
    role = org.role(o.admin, {entity_key: {"actions": ["view"], "scope": scope}})
    actor = o.give(o.actor, role)
    expected = {records[n].pk for n in EXPECTED[scope]}

    page = list_fn(actor=actor)
    assert {r.pk for r in page.items} == expected
    assert page.count == len(expected)
    assert permissions.scoped_queryset(actor, entity_key).count() == len(expected)

    api = api_client.login(actor)
    body = api.get(path).json()
    assert {i["id"] for i in body["items"]} == expected
    assert body["count"] == len(expected)
    for record in records.values():
        status = api.get(f"{path}/{record.pk}").status_code
        assert status == (200 if record.pk in expected else 404)
    # View alone grants no writes.
    assert api.patch(f"{path}/{records['actor'].pk}", {"name": "改"}).status_code == 403


@pytest.mark.parametrize("entity_key", list(MAKERS))
def test_no_grant_means_403(api_client: Any, entity_key: str) -> None:
    o = org.build()
    role = org.role(o.admin, {"note": {"actions": ["view"], "scope": "all"}})
    actor = o.give(o.actor, role)
    assert api_client.login(actor).get(MAKERS[entity_key][2]).status_code == 403


def test_salesperson_never_sees_a_colleagues_leads(api_client: Any) -> None:
    o = org.build()
    theirs = crm_factories.lead(o.peer, name="同事的线索", mobile="13012345678")
    mine = crm_factories.lead(o.east)
    api = api_client.login(o.east)
    body = api.get("leads").json()
    assert [i["id"] for i in body["items"]] == [mine.pk]
    assert body["count"] == 1
    assert api.get(f"leads/{theirs.pk}").status_code == 404
    assert api.get("leads", q="同事").json()["count"] == 0
    assert api.get("leads", q="5678").json()["count"] == 0
    assert api.patch(f"leads/{theirs.pk}", {"name": "x"}).status_code == 404
    assert api.post(f"leads/{theirs.pk}/convert", {}).status_code == 404
    assert api.get("leads", owner=o.peer.pk).json()["count"] == 0


def test_collaborators_see_the_account_once(api_client: Any) -> None:
    o = org.build()
    account = crm_factories.account(
        o.admin, owner_id=o.service.pk, collaborator_ids=[o.east.pk, o.peer.pk]
    )
    crm_factories.account(o.admin, owner_id=o.service.pk)
    api = api_client.login(o.east)
    body = api.get("accounts").json()
    assert [i["id"] for i in body["items"]] == [account.pk]
    assert body["count"] == 1
    assert api.get(f"accounts/{account.pk}").status_code == 200
