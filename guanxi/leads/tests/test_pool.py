"""The public pool (公海): claim, release, cool-down, cap, race, reclaim rules, preview."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from guanxi.activities.models import Notification
from guanxi.core.errors import Conflict, NotPermitted, ValidationFailed
from guanxi.core.models import AuditEvent
from guanxi.leads import pool
from guanxi.leads.models import Lead, PoolEvent, PoolRule, PoolSettings
from guanxi.schedule import leads_reclaim_to_pool
from guanxi.tests_support import crm_factories, factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Messages are matched in English whatever an earlier test activated."""
    with translation.override("en"):
        yield


def _pool_lead() -> Lead:
    return crm_factories.lead(factories.admin(), owner_id=None)


def _age(lead: Lead, days: float, contacted: bool = False) -> None:
    at = timezone.now() - dt.timedelta(days=days)
    Lead.objects.filter(pk=lead.pk).update(
        created_at=at, last_contacted_at=at if contacted else None
    )


def test_claim_and_release_are_audited() -> None:
    sales = factories.user("sales")
    lead = _pool_lead()
    claimed = pool.lead_claim(actor=sales, lead=lead)
    assert claimed.owner_id == sales.pk
    assert Lead.objects.get(pk=lead.pk).owner_id == sales.pk
    with pytest.raises(ValidationFailed):
        pool.lead_release(actor=sales, lead=lead, reason="  ")
    pool.lead_release(actor=sales, lead=lead, reason="无效号码")
    assert Lead.objects.get(pk=lead.pk).owner_id is None
    actions = list(
        AuditEvent.objects.filter(entity="lead", object_id=str(lead.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions[-2:] == [AuditEvent.Action.CLAIM, AuditEvent.Action.RELEASE]
    release = AuditEvent.objects.get(object_id=str(lead.pk), action=AuditEvent.Action.RELEASE)
    assert release.changes["reason"] == "无效号码"
    kinds = set(PoolEvent.objects.filter(lead=lead).values_list("kind", flat=True))
    assert kinds == {"claim", "release"}


def test_only_pool_leads_can_be_claimed() -> None:
    owner = factories.user("sales")
    other = factories.user("sales")
    lead = crm_factories.lead(owner)
    with pytest.raises(Conflict):
        pool.lead_claim(actor=other, lead=lead)


def test_claim_needs_edit_permission() -> None:
    viewer = factories.user("sales")
    lead = _pool_lead()
    from guanxi.core import permissions

    original = permissions.can
    try:
        permissions.can = lambda user, entity, action: action != "edit"  # type: ignore[assignment]
        with pytest.raises(NotPermitted):
            pool.lead_claim(actor=viewer, lead=lead)
    finally:
        permissions.can = original  # type: ignore[assignment]


def test_cool_down_blocks_reclaim_by_former_owner() -> None:
    sales = factories.user("sales")
    other = factories.user("sales")
    lead = _pool_lead()
    pool.lead_claim(actor=sales, lead=lead)
    pool.lead_release(actor=sales, lead=lead, reason="不需要")
    with pytest.raises(Conflict, match="claim it again"):
        pool.lead_claim(actor=sales, lead=lead)
    # After the cool-down it works again; others never wait.
    later = timezone.now() + dt.timedelta(days=8)
    assert pool.lead_claim(actor=sales, lead=lead, now=later).owner_id == sales.pk
    pool.lead_release(actor=sales, lead=lead, reason="x")
    assert pool.lead_claim(actor=other, lead=lead).owner_id == other.pk


def test_cap_on_owned_leads() -> None:
    PoolSettings.objects.create(max_owned=2, cooldown_days=7)
    sales = factories.user("sales")
    crm_factories.lead(sales)
    crm_factories.lead(sales)
    with pytest.raises(Conflict, match="most allowed"):
        pool.lead_claim(actor=sales, lead=_pool_lead())


def test_race_loser_gets_conflict(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two claims at once: the second one's conditional UPDATE finds an owner → 409."""
    first = factories.user("sales")
    second = factories.user("sales")
    lead = _pool_lead()
    real_current = PoolSettings.current

    def interleave() -> PoolSettings:
        # ``first`` wins while ``second`` is between its checks and its UPDATE.
        monkeypatch.setattr(PoolSettings, "current", real_current)
        pool.lead_claim(actor=first, lead=lead)
        return real_current()

    monkeypatch.setattr(PoolSettings, "current", interleave)
    with pytest.raises(Conflict, match="just claimed"):
        pool.lead_claim(actor=second, lead=lead)
    assert Lead.objects.get(pk=lead.pk).owner_id == first.pk
    assert AuditEvent.objects.filter(object_id=str(lead.pk), action="claim").count() == 1


def test_api_claim_release_and_conflict(api_client: Any) -> None:
    sales = factories.user("sales")
    other = factories.user("sales")
    lead = _pool_lead()
    resp = api_client.login(sales).post(f"leads/{lead.pk}/claim")
    assert resp.status_code == 200, resp.content
    assert resp.json()["owner"]["id"] == sales.pk
    assert api_client.login(other).post(f"leads/{lead.pk}/claim").status_code == 409
    api = api_client.login(sales)
    assert api.post(f"leads/{lead.pk}/release", {"reason": ""}).status_code == 422
    assert api.post(f"leads/{lead.pk}/release", {"reason": "重复"}).status_code == 200
    assert Lead.objects.get(pk=lead.pk).owner_id is None


def test_reclaim_warns_then_reclaims_once() -> None:
    sales = factories.user("sales")
    rule = PoolRule.objects.create(name="30 天未跟进", no_followup_days=30, warn_days_before=3)
    stale = crm_factories.lead(sales)
    soon = crm_factories.lead(sales)
    fresh = crm_factories.lead(sales)
    _age(stale, 40, contacted=True)
    _age(soon, 28)
    converted = crm_factories.lead(sales)
    _age(converted, 90)
    Lead.objects.filter(pk=converted.pk).update(status=Lead.Status.CONVERTED)

    assert pool.leads_reclaim_due() == 1
    assert pool.leads_reclaim_due() == 0  # idempotent
    assert Lead.objects.get(pk=stale.pk).owner_id is None
    assert Lead.objects.get(pk=soon.pk).owner_id == sales.pk
    assert Lead.objects.get(pk=fresh.pk).owner_id == sales.pk
    assert Lead.objects.get(pk=converted.pk).owner_id == sales.pk
    notes = Notification.objects.filter(recipient=sales, verb="pool_warning")
    assert list(notes.values_list("target_id", flat=True)) == [soon.pk]  # warned once
    event = AuditEvent.objects.get(object_id=str(stale.pk), action=AuditEvent.Action.RECLAIM)
    assert event.changes["rule"] == rule.name and event.actor is None
    assert PoolEvent.objects.get(lead=stale, kind="reclaim").user_id == sales.pk
    # A reclaimed lead counts as given up: its former owner waits out the cool-down.
    with pytest.raises(Conflict):
        pool.lead_claim(actor=sales, lead=stale)


def test_reclaim_rule_by_department_and_not_converted() -> None:
    east = factories.department("华东")
    west = factories.department("华西")
    a = factories.user("sales", department=east)
    b = factories.user("sales", department=west)
    PoolRule.objects.create(name="60 天未转化", not_converted_days=60, department=east)
    la, lb = crm_factories.lead(a), crm_factories.lead(b)
    _age(la, 61, contacted=False)
    _age(lb, 61, contacted=False)
    Lead.objects.filter(pk=la.pk).update(last_contacted_at=timezone.now())
    assert leads_reclaim_to_pool.call_local() == 1
    assert Lead.objects.get(pk=la.pk).owner_id is None
    assert Lead.objects.get(pk=lb.pk).owner_id == b.pk


def test_inactive_rule_does_nothing() -> None:
    sales = factories.user("sales")
    PoolRule.objects.create(name="off", no_followup_days=1, active=False)
    lead = crm_factories.lead(sales)
    _age(lead, 10)
    assert pool.leads_reclaim_due() == 0


def test_preview_counts_tomorrow(api_client: Any) -> None:
    sales = factories.user("sales")
    PoolRule.objects.create(name="7 天", no_followup_days=7)
    due_tomorrow = [crm_factories.lead(sales) for _ in range(3)]
    for lead in due_tomorrow:
        _age(lead, 6.5)  # due within the next 24 hours
    _age(crm_factories.lead(sales), 2)
    preview = pool.reclaim_preview()
    assert preview.count == 3
    assert {lead.pk for lead in preview.leads} == {lead.pk for lead in due_tomorrow}
    assert pool.leads_reclaim_due() == 0  # not yet
    admin = factories.admin()
    resp = api_client.login(admin).get("pool/preview")
    assert resp.status_code == 200 and resp.json()["count"] == 3
    assert resp.json()["ids"] == sorted(lead.pk for lead in due_tomorrow)
    assert api_client.login(sales).get("pool/preview").status_code == 403


def test_rule_save_admin_only() -> None:
    with pytest.raises(NotPermitted):
        pool.rule_save(actor=factories.user("sales"), rule=PoolRule(name="x", no_followup_days=3))
    with pytest.raises(ValidationFailed):
        pool.rule_save(actor=factories.admin(), rule=PoolRule(name="x"))
    rule = pool.rule_save(actor=factories.admin(), rule=PoolRule(name="x", no_followup_days=3))
    assert AuditEvent.objects.filter(entity="pool_rule", object_id=str(rule.pk)).exists()


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_pages_claim_and_release() -> None:
    sales = factories.user("sales")
    lead = _pool_lead()
    web = _client(sales)
    page = web.get(reverse("leads:pool"))
    assert page.status_code == 200 and lead.name in page.content.decode()
    resp = web.post(reverse("leads:claim", args=[lead.pk]))
    assert resp.status_code == 302 and Lead.objects.get(pk=lead.pk).owner_id == sales.pk
    detail = web.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert reverse("leads:release", args=[lead.pk]) in detail
    web.post(reverse("leads:release", args=[lead.pk]), {"reason": ""})
    assert Lead.objects.get(pk=lead.pk).owner_id == sales.pk  # a reason is required
    resp = web.post(reverse("leads:release", args=[lead.pk]), {"reason": "无意向"})
    assert resp.status_code == 302 and Lead.objects.get(pk=lead.pk).owner_id is None


def test_rules_and_handover_pages_admin_only() -> None:
    sales = factories.user("sales")
    assert _client(sales).get(reverse("leads:pool_rules")).status_code == 403
    assert _client(sales).get(reverse("leads:handover")).status_code == 403
    admin = _client(factories.admin())
    resp = admin.post(
        reverse("leads:pool_rules"),
        {"name": "15 天未跟进", "active": "on", "no_followup_days": "15", "warn_days_before": "2"},
    )
    assert resp.status_code == 302, resp.content.decode()
    rule = PoolRule.objects.get(name="15 天未跟进")
    old = crm_factories.lead(sales)
    _age(old, 14.5)
    page = admin.get(reverse("leads:pool_rules")).content.decode()
    assert "1 lead will be reclaimed" in page or "1 条" in page
    admin.post(reverse("leads:pool_rule_toggle", args=[rule.pk]))
    assert not PoolRule.objects.get(pk=rule.pk).active
    heir = factories.user("sales")
    preview = admin.get(reverse("leads:handover"), {"from_user": sales.pk, "to_user": heir.pk})
    assert preview.status_code == 200
    resp = admin.post(
        reverse("leads:handover"),
        {"from_user": sales.pk, "to_user": heir.pk, "entities": ["lead"], "confirm": "1"},
    )
    assert resp.status_code == 302
    assert Lead.objects.get(pk=old.pk).owner_id == heir.pk


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_on_postgres() -> None:
    """Real threads on PostgreSQL: exactly one of many simultaneous claims wins."""
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent connections (PostgreSQL)")
    users = [factories.user("sales") for _ in range(4)]
    lead = _pool_lead()
    barrier = threading.Barrier(len(users))
    outcomes: list[str] = []

    def claim(user: Any) -> None:
        try:
            barrier.wait()
            pool.lead_claim(actor=user, lead=lead.pk)
            outcomes.append("won")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claim, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict"] * 3 + ["won"]
    assert AuditEvent.objects.filter(object_id=str(lead.pk), action="claim").count() == 1


def test_locked_leads_are_not_reclaimed_and_capped(api_client: Any) -> None:
    PoolSettings.objects.create(max_locked=1)
    sales = factories.user("sales")
    PoolRule.objects.create(name="10 天", no_followup_days=10)
    keep, other = crm_factories.lead(sales), crm_factories.lead(sales)
    _age(keep, 20)
    _age(other, 20)
    pool.lead_lock(actor=sales, lead=keep)
    with pytest.raises(Conflict, match="most allowed"):
        pool.lead_lock(actor=sales, lead=other)
    assert pool.reclaim_preview(at=timezone.now()).count == 1
    assert pool.leads_reclaim_due() == 1
    assert Lead.objects.get(pk=keep.pk).owner_id == sales.pk
    assert Lead.objects.get(pk=other.pk).owner_id is None
    resp = api_client.login(sales).post(f"leads/{keep.pk}/lock", {"locked": False})
    assert resp.status_code == 200
    assert not Lead.objects.get(pk=keep.pk).pool_locked
    web = _client(sales)
    web.post(reverse("leads:lock", args=[keep.pk]), {"locked": "1"})
    assert Lead.objects.get(pk=keep.pk).pool_locked
    pool.lead_release(actor=sales, lead=keep, reason="x")
    assert not Lead.objects.get(pk=keep.pk).pool_locked
