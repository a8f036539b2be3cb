"""Handover (离职交接): preview counts, one-action transfer, audit, the old owner keeps nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from guanxi.activities import services as activity_services
from guanxi.activities.models import Task
from guanxi.core.errors import NotPermitted, ValidationFailed
from guanxi.core.models import AuditEvent
from guanxi.customers.models import Account, Contact
from guanxi.finance.models import Contract
from guanxi.finance.tests import factories as finance_factories
from guanxi.identity.models import User
from guanxi.leads import handover
from guanxi.leads.models import Lead
from guanxi.tests_support import crm_factories, factories

pytestmark = pytest.mark.django_db


def _leaver() -> tuple[User, dict[str, int]]:
    leaver = factories.user("sales")
    for _ in range(3):
        crm_factories.lead(leaver)
    account = crm_factories.account(leaver)
    crm_factories.contact(leaver, account_id=account.pk)
    crm_factories.contact(leaver)
    activity_services.task_create(actor=leaver, title="回访", assignee=leaver)
    done = activity_services.task_create(actor=leaver, title="已完成", assignee=leaver)
    Task.objects.filter(pk=done.pk).update(done_at=done.created_at)
    crm_factories.deal(leaver, account_id=account.pk)
    finance_factories.contract(leaver, account=account)
    finance_factories.contract(leaver, account=account, activate=False)
    return leaver, {"lead": 3, "account": 1, "contact": 2, "deal": 1, "contract": 2, "task": 1}


def _holdings(user: User) -> dict[str, int]:
    return handover.handover_preview(user)


def test_preview_counts() -> None:
    leaver, expected = _leaver()
    assert handover.handover_preview(leaver) == expected


def test_execute_moves_everything_and_audits() -> None:
    leaver, expected = _leaver()
    heir = factories.user("sales")
    other_account = crm_factories.account(factories.user("sales"))
    other_account.collaborators.add(leaver)
    admin = factories.admin()
    moved = handover.handover_execute(actor=admin, from_user=leaver, to_user=heir)
    assert {k: moved[k] for k in expected} == expected
    assert _holdings(leaver) == dict.fromkeys(expected, 0)
    assert _holdings(heir) == expected
    assert not leaver.collaborating_accounts.exists()
    assert heir in other_account.collaborators.all()
    transfers = AuditEvent.objects.filter(action=AuditEvent.Action.TRANSFER)
    assert transfers.filter(entity="lead").count() == 3
    assert transfers.filter(entity="contact").count() == 2
    assert transfers.filter(entity="contract", changes__owner=[leaver.pk, heir.pk]).count() == 2
    assert Task.objects.filter(assignee=leaver, done_at__isnull=False).count() == 1


def test_execute_subset() -> None:
    leaver, _expected = _leaver()
    heir = factories.user("sales")
    handover.handover_execute(
        actor=factories.admin(), from_user=leaver, to_user=heir, entities=["lead"]
    )
    assert Lead.objects.filter(owner=leaver).count() == 0
    assert Account.objects.filter(owner=leaver).count() == 1
    assert Contact.objects.filter(owner=leaver).count() == 2
    assert Contract.objects.filter(owner=leaver).count() == 2


def test_admin_only_and_validation() -> None:
    leaver, _expected = _leaver()
    heir = factories.user("sales")
    with pytest.raises(NotPermitted):
        handover.handover_execute(actor=heir, from_user=leaver, to_user=heir)
    with pytest.raises(ValidationFailed):
        handover.handover_execute(actor=factories.admin(), from_user=leaver, to_user=leaver)
    with pytest.raises(ValidationFailed):
        handover.handover_execute(
            actor=factories.admin(), from_user=leaver, to_user=heir, entities=["ticket"]
        )


def test_api_handover(api_client: Any) -> None:
    leaver, expected = _leaver()
    heir = factories.user("sales")
    payload = {"from_user_id": leaver.pk, "to_user_id": heir.pk}
    assert api_client.login(heir).post("handover", payload).status_code == 403
    api = api_client.login(factories.admin())
    resp = api.post("handover", {**payload, "dry_run": True})
    assert resp.status_code == 200 and resp.json()["preview"] == expected
    resp = api.post("handover", payload)
    assert resp.status_code == 200, resp.content
    assert resp.json()["preview"] == dict.fromkeys(expected, 0)
    assert resp.json()["transferred"]["contract"] == 2


def test_page_previews_and_hands_over_contracts() -> None:
    leaver, expected = _leaver()
    heir = factories.user("sales")
    web = Client()
    web.force_login(factories.admin())
    form = {"from_user": leaver.pk, "to_user": heir.pk, "entities": ["contract"]}
    page = web.post(reverse("leads:handover"), form)
    assert page.status_code == 200
    assert page.context["preview"]["contract"] == expected["contract"]
    assert 'value="contract"' in page.content.decode()
    resp = web.post(reverse("leads:handover"), {**form, "confirm": "1"})
    assert resp.status_code == 302
    assert Contract.objects.filter(owner=heir).count() == expected["contract"]
    assert Lead.objects.filter(owner=leaver).count() == expected["lead"]
