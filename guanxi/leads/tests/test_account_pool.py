"""The account pool (客户公海): claim, release, lock, caps, cool-down, reclaim by rule and
tier with warnings and preview, timeline, API and pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from guanxi.activities import selectors as activity_selectors
from guanxi.activities import services as activity_services
from guanxi.activities.models import Notification
from guanxi.core.errors import Conflict, OutOfScope, ValidationFailed
from guanxi.core.models import AuditEvent
from guanxi.customers.models import Account
from guanxi.leads import pool
from guanxi.leads.models import PoolEvent, PoolRule, PoolSettings
from guanxi.schedule import accounts_reclaim_to_pool
from guanxi.tests_support import crm_factories, factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def _pool_account(**data: Any) -> Account:
    return crm_factories.account(factories.admin(), owner_id=None, **data)


def _age(account: Account, days: float, contacted: float | None = None) -> None:
    now = timezone.now()
    Account.objects.filter(pk=account.pk).update(
        created_at=now - dt.timedelta(days=days),
        owned_since=None,
        last_contacted_at=now - dt.timedelta(days=contacted) if contacted is not None else None,
    )


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_claim_and_release_audited_with_reason_and_pool_events() -> None:
    sales = factories.user("sales")
    account = _pool_account()
    claimed = pool.account_claim(actor=sales, account=account)
    stored = Account.objects.get(pk=account.pk)
    assert claimed.owner_id == sales.pk and stored.owner_id == sales.pk
    assert stored.owned_since is not None
    with pytest.raises(ValidationFailed) as err:
        pool.account_release(actor=sales, account=account, reason=" ")
    assert err.value.errors[0].field == "reason"
    with pytest.raises(ValidationFailed):
        pool.account_release(actor=sales, account=account, reason="x" * 501)
    pool.account_release(actor=sales, account=account, reason="客户已倒闭")
    stored = Account.objects.get(pk=account.pk)
    assert stored.owner_id is None and stored.owned_since is None
    actions = list(
        AuditEvent.objects.filter(entity="account", object_id=str(account.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions[-2:] == [AuditEvent.Action.CLAIM, AuditEvent.Action.RELEASE]
    release = AuditEvent.objects.get(
        entity="account", object_id=str(account.pk), action=AuditEvent.Action.RELEASE
    )
    assert release.changes["reason"] == "客户已倒闭"
    assert release.changes["pool"] == "Company pool"
    kinds = list(PoolEvent.objects.filter(account=account).order_by("id").values_list("kind"))
    assert kinds == [("claim",), ("release",)]
    with pytest.raises(Conflict, match="already in the public pool"):
        pool.account_release(actor=factories.admin(), account=account, reason="again")


def test_claim_refuses_owned_accounts_and_own() -> None:
    owner = factories.user("sales")
    account = crm_factories.account(owner)
    with pytest.raises(Conflict, match="not in the public pool"):
        pool.account_claim(actor=factories.user("sales"), account=account)
    with pytest.raises(Conflict, match="already own"):
        pool.account_claim(actor=owner, account=account)
    with pytest.raises(OutOfScope):
        pool.account_claim(actor=owner, account=999_999)


def test_account_cap_is_separate_from_the_lead_cap() -> None:
    PoolSettings.objects.create(max_owned=1, max_owned_accounts=2)
    sales = factories.user("sales")
    crm_factories.lead(sales)  # at the lead cap
    crm_factories.account(sales)
    pool.account_claim(actor=sales, account=_pool_account())  # 2nd account: allowed
    with pytest.raises(Conflict, match="2 accounts, the most allowed"):
        pool.account_claim(actor=sales, account=_pool_account())
    lead = crm_factories.lead(factories.admin(), owner_id=None)
    with pytest.raises(Conflict, match="1 leads"):
        pool.lead_claim(actor=sales, lead=lead)


def test_cool_down_applies_to_the_former_owner_only() -> None:
    PoolSettings.objects.create(cooldown_days=3)
    sales = factories.user("sales")
    other = factories.user("sales")
    account = _pool_account()
    pool.account_claim(actor=sales, account=account)
    pool.account_release(actor=sales, account=account, reason="暂无需求")
    with pytest.raises(Conflict, match="claim it again after"):
        pool.account_claim(actor=sales, account=account)
    later = timezone.now() + dt.timedelta(days=3, hours=1)
    assert pool.account_claim(actor=sales, account=account, now=later).owner_id == sales.pk
    pool.account_release(actor=sales, account=account, reason="x")
    assert pool.account_claim(actor=other, account=account).owner_id == other.pk


def test_race_loser_gets_conflict(monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = factories.user("sales"), factories.user("sales")
    account = _pool_account()
    real = PoolSettings.current

    def interleave() -> PoolSettings:
        monkeypatch.setattr(PoolSettings, "current", real)
        pool.account_claim(actor=first, account=account)
        return real()

    monkeypatch.setattr(PoolSettings, "current", interleave)
    with pytest.raises(Conflict, match="just claimed"):
        pool.account_claim(actor=second, account=account)
    assert Account.objects.get(pk=account.pk).owner_id == first.pk
    assert PoolEvent.objects.filter(account=account, kind="claim").count() == 1


def test_lock_is_capped_exempts_from_reclaim_and_clears_on_release() -> None:
    PoolSettings.objects.create(max_locked_accounts=1, max_locked=5)
    sales = factories.user("sales")
    PoolRule.objects.create(name="10 天未跟进", entity="account", no_followup_days=10)
    keep, other = crm_factories.account(sales), crm_factories.account(sales)
    _age(keep, 20)
    _age(other, 20)
    pool.account_lock(actor=sales, account=keep)
    with pytest.raises(Conflict, match="1 locked accounts"):
        pool.account_lock(actor=sales, account=other)
    assert pool.accounts_reclaim_due() == 1
    assert Account.objects.get(pk=keep.pk).owner_id == sales.pk
    assert Account.objects.get(pk=other.pk).owner_id is None
    assert AuditEvent.objects.filter(
        entity="account", object_id=str(keep.pk), changes__pool_locked=[False, True]
    ).exists()
    pool.account_release(actor=sales, account=keep, reason="交给公海")
    assert not Account.objects.get(pk=keep.pk).pool_locked
    with pytest.raises(Conflict, match="Only an owned account"):
        pool.account_lock(actor=factories.admin(), account=keep)


def test_reclaim_warns_once_then_reclaims_once_with_rule_and_reason_on_timeline() -> None:
    sales = factories.user("sales")
    rule = PoolRule.objects.create(
        name="30 天未跟进", entity="account", no_followup_days=30, warn_days_before=3
    )
    stale, soon, fresh = (crm_factories.account(sales) for _ in range(3))
    _age(stale, 60, contacted=40)
    _age(soon, 60, contacted=28.5)
    _age(fresh, 60, contacted=1)

    assert accounts_reclaim_to_pool.call_local() == 1
    assert pool.accounts_reclaim_due() == 0  # idempotent
    assert Account.objects.get(pk=stale.pk).owner_id is None
    assert Account.objects.get(pk=soon.pk).owner_id == sales.pk
    notes = Notification.objects.filter(recipient=sales, verb="pool_warning")
    assert list(notes.values_list("target_entity", "target_id")) == [("account", soon.pk)]
    assert "2 days" in notes.get().title  # due in 1.5 days: "in 2 days", never "in 0"
    reclaim = PoolEvent.objects.get(account=stale, kind="reclaim")
    assert reclaim.rule_id == rule.pk and reclaim.user_id == sales.pk
    assert reclaim.reason == "No follow-up for 30 days"
    event = AuditEvent.objects.get(
        entity="account", object_id=str(stale.pk), action=AuditEvent.Action.RECLAIM
    )
    assert event.actor is None
    assert event.changes["rule"] == rule.name and event.changes["rule_id"] == rule.pk
    assert event.changes["reason"] == "No follow-up for 30 days"
    timeline = activity_selectors.timeline(
        actor=factories.admin(), target_entity="account", target_id=stale.pk
    )
    item = next(i for i in timeline.items if i.sub_kind == "reclaim")
    assert item.kind == "ownership" and item.changes["rule"] == "30 天未跟进"
    assert item.changes["reason"] == "No follow-up for 30 days"
    # The former owner waits out the cool-down.
    with pytest.raises(Conflict):
        pool.account_claim(actor=sales, account=stale)
    # A follow-up moves the due date: the next warning is a new occasion.
    activity_services.activity_create(
        actor=sales, target_entity="account", target_id=soon.pk, kind="call", content="回访"
    )
    assert pool.accounts_reclaim_due() == 0
    assert notes.count() == 1


def test_follow_ups_on_account_or_its_contact_keep_it() -> None:
    sales = factories.user("sales")
    PoolRule.objects.create(name="7 天", entity="account", no_followup_days=7)
    direct, via_contact = crm_factories.account(sales), crm_factories.account(sales)
    contact = crm_factories.contact(sales, account_id=via_contact.pk)
    _age(direct, 30)
    _age(via_contact, 30)
    activity_services.activity_create(
        actor=sales, target_entity="account", target_id=direct.pk, kind="visit", content="拜访"
    )
    activity_services.activity_create(
        actor=sales, target_entity="contact", target_id=contact.pk, kind="call", content="电话"
    )
    assert Account.objects.get(pk=via_contact.pk).last_contacted_at is not None
    assert pool.accounts_reclaim_due() == 0
    # Three weeks of silence later both go back.
    later = timezone.now() + dt.timedelta(days=8)
    assert pool.accounts_reclaim_due(later) == 2


def test_claiming_restarts_the_clock() -> None:
    """An account that sat in the pool for months is not reclaimed the hour it is claimed."""
    PoolRule.objects.create(name="7 天", entity="account", no_followup_days=7)
    sales = factories.user("sales")
    old = _pool_account()
    _age(old, 200, contacted=150)
    pool.account_claim(actor=sales, account=old)
    assert pool.accounts_reclaim_due() == 0
    assert pool.accounts_reclaim_due(timezone.now() + dt.timedelta(days=7, hours=1)) == 1


def test_tier_rules_only_touch_their_tiers() -> None:
    sales = factories.user("sales")
    PoolRule.objects.create(name="A 类 5 天", entity="account", no_followup_days=5, tiers=["A"])
    PoolRule.objects.create(
        name="B/C 类 20 天", entity="account", no_followup_days=20, tiers=["B", "C"]
    )
    a = crm_factories.account(sales, tier="A")
    b = crm_factories.account(sales, tier="B")
    untiered = crm_factories.account(sales)
    for account in (a, b, untiered):
        _age(account, 10)
    preview = pool.reclaim_preview(entity="account", at=timezone.now())
    assert preview.ids == [a.pk]
    assert pool.accounts_reclaim_due() == 1
    assert Account.objects.get(pk=a.pk).owner_id is None
    reason = PoolEvent.objects.get(account=a, kind="reclaim").rule
    assert reason is not None and reason.name == "A 类 5 天"
    later = timezone.now() + dt.timedelta(days=11)
    assert pool.accounts_reclaim_due(later) == 1  # B; the untiered account matches no rule
    assert Account.objects.get(pk=untiered.pk).owner_id == sales.pk


def test_rule_validation() -> None:
    admin = factories.admin()
    with pytest.raises(ValidationFailed) as err:
        pool.rule_save(
            actor=admin,
            rule=PoolRule(name="x", entity="account", not_converted_days=5, no_followup_days=3),
        )
    assert [e.field for e in err.value.errors] == ["not_converted_days"]
    with pytest.raises(ValidationFailed) as err:
        pool.rule_save(actor=admin, rule=PoolRule(name="x", no_followup_days=3, tiers=["A"]))
    assert err.value.errors[0].field == "tiers"
    with pytest.raises(ValidationFailed) as err:
        pool.rule_save(
            actor=admin,
            rule=PoolRule(name="x", entity="account", no_followup_days=3, tiers=["D"]),
        )
    assert err.value.errors[0].field == "tiers"
    with pytest.raises(ValidationFailed) as err:
        pool.rule_save(actor=admin, rule=PoolRule(name="x", entity="deal", no_followup_days=3))
    assert err.value.errors[0].field == "entity"
    rule = pool.rule_save(
        actor=admin,
        rule=PoolRule(name="ok", entity="account", no_followup_days=3, tiers=["C", "A"]),
    )
    assert rule.tiers == ["A", "C"]
    audit_row = AuditEvent.objects.get(entity="pool_rule", object_id=str(rule.pk))
    assert audit_row.changes["tiers"] == ["A", "C"]


def test_preview_lists_tomorrows_accounts(api_client: Any) -> None:
    sales = factories.user("sales")
    PoolRule.objects.create(name="7 天", entity="account", no_followup_days=7)
    due = [crm_factories.account(sales) for _ in range(2)]
    for account in due:
        _age(account, 6.5)
    _age(crm_factories.account(sales), 3)
    preview = pool.reclaim_preview(entity="account")
    assert preview.count == 2 and {a.pk for a in preview.records} == {a.pk for a in due}
    assert pool.accounts_reclaim_due() == 0
    resp = api_client.login(factories.admin()).get("accounts/pool/preview")
    assert resp.status_code == 200
    assert resp.json()["ids"] == sorted(a.pk for a in due)
    assert api_client.login(sales).get("accounts/pool/preview").status_code == 403


def test_reclaim_is_set_based() -> None:
    """Queries do not grow with the number of records reclaimed."""
    sales = factories.user("sales")
    PoolRule.objects.create(name="7 天", entity="account", no_followup_days=7)

    def run(n: int) -> int:
        for _ in range(n):
            _age(crm_factories.account(sales), 30)
        with CaptureQueriesContext(connection) as ctx:
            assert pool.accounts_reclaim_due() == n
        return len(ctx.captured_queries)

    few, many = run(2), run(40)
    assert many <= few + 2, (few, many)


def test_api_claim_release_lock_and_list(api_client: Any) -> None:
    sales = factories.user("sales")
    other = factories.user("sales")
    account = _pool_account(name="公海客户甲", tier="B")
    _pool_account(name="公海客户乙", tier="C")
    api = api_client.login(sales)
    listing = api.get("accounts/pool", q="甲")
    assert listing.status_code == 200, listing.content
    assert [a["id"] for a in listing.json()["items"]] == [account.pk]
    assert listing.json()["items"][0]["owner"] is None
    assert [a["id"] for a in api.get("accounts/pool", tier="B").json()["items"]] == [account.pk]
    bad = api.get("accounts/pool", tier="Z")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "tier"
    resp = api.post(f"accounts/{account.pk}/claim")
    assert resp.status_code == 200, resp.content
    assert resp.json()["owner"]["id"] == sales.pk
    assert api_client.login(other).post(f"accounts/{account.pk}/claim").status_code == 409
    api = api_client.login(sales)
    locked = api.post(f"accounts/{account.pk}/lock", {"locked": True})
    assert locked.status_code == 200 and locked.json()["pool_locked"] is True
    missing = api.post(f"accounts/{account.pk}/release", {})
    assert missing.status_code == 422
    empty = api.post(f"accounts/{account.pk}/release", {"reason": ""})
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "reason"
    released = api.post(f"accounts/{account.pk}/release", {"reason": "联系不上"})
    assert released.status_code == 200
    assert released.json()["owner"] is None and released.json()["pool_locked"] is False
    # Someone else's account: releasing and locking it is out of scope (404).
    owned = crm_factories.account(other)
    assert api.post(f"accounts/{owned.pk}/release", {"reason": "x"}).status_code == 404
    assert api.post(f"accounts/{owned.pk}/lock", {"locked": True}).status_code == 404


def test_pages_list_claim_release_lock() -> None:
    sales = factories.user("sales", language="en")
    account = _pool_account(name="公海客户丙")
    web = _client(sales)
    page = web.get(reverse("pool:accounts"))
    assert page.status_code == 200 and "公海客户丙" in page.content.decode()
    detail = web.get(reverse("customers:account_detail", args=[account.pk]))
    assert detail.status_code == 200
    assert reverse("pool:account_claim", args=[account.pk]) in detail.content.decode()
    resp = web.post(reverse("pool:account_claim", args=[account.pk]))
    assert resp.status_code == 302
    assert resp["Location"] == reverse("customers:account_detail", args=[account.pk])
    body = web.get(reverse("customers:account_detail", args=[account.pk])).content.decode()
    assert reverse("pool:account_release", args=[account.pk]) in body
    assert reverse("pool:account_lock", args=[account.pk]) in body
    web.post(reverse("pool:account_lock", args=[account.pk]), {"locked": "1"})
    assert Account.objects.get(pk=account.pk).pool_locked
    web.post(reverse("pool:account_release", args=[account.pk]), {"reason": ""})
    assert Account.objects.get(pk=account.pk).owner_id == sales.pk  # a reason is required
    resp = web.post(reverse("pool:account_release", args=[account.pk]), {"reason": "无意向"})
    assert resp.status_code == 302 and Account.objects.get(pk=account.pk).owner_id is None
    # Claiming again during the cool-down shows the reason instead of failing silently.
    resp = web.post(reverse("pool:account_claim", args=[account.pk]), follow=True)
    assert "claim it again after" in resp.content.decode()
    assert Account.objects.get(pk=account.pk).owner_id is None


def test_rules_page_creates_account_rules_with_tiers() -> None:
    admin = _client(factories.admin(language="en"))
    form = {
        "name": "A 类 15 天",
        "entity": "account",
        "active": "on",
        "tiers": ["A"],
        "no_followup_days": "15",
        "warn_days_before": "2",
    }
    resp = admin.post(reverse("leads:pool_rules"), form)
    assert resp.status_code == 302, resp.content.decode()
    rule = PoolRule.objects.get(name="A 类 15 天")
    assert rule.entity == "account" and rule.tiers == ["A"]
    sales = factories.user("sales")
    due = crm_factories.account(sales, tier="A", name="明日回收客户")
    _age(due, 14.5)
    page = admin.get(reverse("leads:pool_rules")).content.decode()
    assert "1 account will be reclaimed" in page and "明日回收客户" in page
    bad = admin.post(
        reverse("leads:pool_rules"), {**form, "name": "坏规则", "not_converted_days": "5"}
    )
    assert bad.status_code == 200 and "does not apply" in bad.content.decode()
    assert not PoolRule.objects.filter(name="坏规则").exists()


def test_admin_pool_pages_show_tomorrows_count() -> None:
    PoolRule.objects.create(name="7 天", entity="account", no_followup_days=7)
    sales = factories.user("sales")
    _age(crm_factories.account(sales), 6.5)
    _pool_account(name="公海客户丁", tier="A")
    admin = _client(factories.admin(language="en"))
    page = admin.get(reverse("pool:accounts"), {"tier": "A", "pool": "company"})
    body = page.content.decode()
    assert page.status_code == 200 and "公海客户丁" in body
    assert "1 account will be reclaimed to the pool within 24 hours." in body
    assert reverse("pool:settings") in body
    other_tier = admin.get(reverse("pool:accounts"), {"tier": "B"}).content.decode()
    assert "公海客户丁" not in other_tier
    bad = admin.get(reverse("pool:accounts"), {"pool": "999999"}, follow=True)
    assert bad.status_code == 200 and "No such pool." in bad.content.decode()
    assert admin.get(reverse("leads:pool")).status_code == 200
