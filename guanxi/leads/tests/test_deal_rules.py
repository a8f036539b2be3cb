"""Deal-based reclaim rules: "no new deal in M days" (accounts, and leads through the
deal linked to them) and "no deal won in P days" (accounts)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone, translation

from guanxi.activities.models import Notification
from guanxi.core.errors import ValidationFailed
from guanxi.core.models import AuditEvent
from guanxi.customers.models import Account
from guanxi.identity.models import User
from guanxi.leads import pool
from guanxi.leads.models import Lead, PoolEvent, PoolRule
from guanxi.sales import services as sales_services
from guanxi.sales.models import Deal, Stage
from guanxi.tests_support import crm_factories, factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def _ago(days: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)


def _held(account: Account, days: float) -> Account:
    Account.objects.filter(pk=account.pk).update(created_at=_ago(days), owned_since=None)
    return account


def _deal(owner: User, account: Account, created_days_ago: float) -> Deal:
    deal = crm_factories.deal(
        owner,
        account_id=account.pk,
        amount="50000.00",
        expected_close_date=timezone.localdate() + dt.timedelta(days=30),
    )
    Deal.objects.filter(pk=deal.pk).update(created_at=_ago(created_days_ago))
    return deal


def _win(owner: User, deal: Deal, won_days_ago: float) -> None:
    won = Stage.objects.filter(pipeline_id=deal.pipeline_id, kind=Stage.Kind.WON).first()
    assert won is not None
    sales_services.deal_move_stage(actor=owner, deal=deal, stage=won)
    Deal.objects.filter(pk=deal.pk).update(won_at=_ago(won_days_ago))


def test_no_new_deal_for_accounts() -> None:
    sales = factories.user("sales")
    PoolRule.objects.create(name="30 天无商机", entity="account", no_deal_days=30)
    bare = _held(crm_factories.account(sales), 40)
    recent = _held(crm_factories.account(sales), 40)
    _deal(sales, recent, 5)
    stale = _held(crm_factories.account(sales), 90)
    _deal(sales, stale, 35)
    claimed = crm_factories.account(factories.admin(), owner_id=None)
    Account.objects.filter(pk=claimed.pk).update(created_at=_ago(300))
    pool.account_claim(actor=sales, account=claimed)  # the clock starts at the claim

    preview = pool.reclaim_preview(entity="account", at=timezone.now())
    assert set(preview.ids) == {bare.pk, stale.pk}
    assert pool.accounts_reclaim_due() == 2
    assert pool.accounts_reclaim_due() == 0
    assert Account.objects.get(pk=recent.pk).owner_id == sales.pk
    assert Account.objects.get(pk=claimed.pk).owner_id == sales.pk
    event = PoolEvent.objects.get(account=stale, kind="reclaim")
    assert event.reason == "No new deal for 30 days"
    audit = AuditEvent.objects.get(entity="account", object_id=str(bare.pk), action="reclaim")
    assert audit.changes["rule"] == "30 天无商机"
    assert audit.changes["reason"] == "No new deal for 30 days"
    # The recent deal keeps its account 25 more days; the claimed one 30 days from its claim.
    assert pool.accounts_reclaim_due(timezone.now() + dt.timedelta(days=26)) == 1
    assert Account.objects.get(pk=recent.pk).owner_id is None
    assert pool.accounts_reclaim_due(timezone.now() + dt.timedelta(days=31)) == 1


def test_no_deal_won_for_accounts() -> None:
    sales = factories.user("sales")
    PoolRule.objects.create(name="60 天未成交", entity="account", not_won_days=60)
    won_lately = _held(crm_factories.account(sales), 200)
    _win(sales, _deal(sales, won_lately, 100), 10)
    won_long_ago = _held(crm_factories.account(sales), 200)
    _win(sales, _deal(sales, won_long_ago, 150), 100)
    only_open = _held(crm_factories.account(sales), 70)
    _deal(sales, only_open, 1)
    young = _held(crm_factories.account(sales), 20)
    assert pool.accounts_reclaim_due() == 2
    gone = set(Account.objects.filter(owner__isnull=True).values_list("pk", flat=True))
    assert gone == {won_long_ago.pk, only_open.pk}
    assert {e.reason for e in PoolEvent.objects.filter(kind="reclaim")} == {
        "No deal won for 60 days"
    }
    assert Account.objects.get(pk=young.pk).owner_id == sales.pk


def test_rules_combine_and_the_reason_names_what_is_due() -> None:
    sales = factories.user("sales")
    PoolRule.objects.create(
        name="组合", entity="account", no_followup_days=30, no_deal_days=30, not_won_days=90
    )
    account = _held(crm_factories.account(sales), 40)
    _deal(sales, account, 1)  # a fresh deal: only "no follow-up" is due
    assert pool.accounts_reclaim_due() == 1
    reason = PoolEvent.objects.get(account=account, kind="reclaim").reason
    assert reason == "No follow-up for 30 days"


def test_warning_ahead_of_a_deal_rule_once() -> None:
    sales = factories.user("sales")
    PoolRule.objects.create(
        name="30 天无商机", entity="account", no_deal_days=30, warn_days_before=5
    )
    soon = _held(crm_factories.account(sales), 27)
    assert pool.accounts_reclaim_due() == 0
    assert pool.accounts_reclaim_due() == 0
    notes = Notification.objects.filter(recipient=sales, verb="pool_warning")
    assert list(notes.values_list("target_id", flat=True)) == [soon.pk]
    assert "in 3 days" in notes.get().title
    # A deal keeps the account: nothing is reclaimed when the day comes.
    _deal(sales, soon, 0)
    assert pool.accounts_reclaim_due(timezone.now() + dt.timedelta(days=4)) == 0


def test_leads_without_a_linked_deal() -> None:
    sales = factories.user("sales")
    PoolRule.objects.create(name="30 天无商机", entity="lead", no_deal_days=30)
    bare = crm_factories.lead(sales)
    linked = crm_factories.lead(sales)
    Lead.objects.filter(pk__in=[bare.pk, linked.pk]).update(created_at=_ago(40))
    account = crm_factories.account(sales)
    deal = crm_factories.deal(sales, account_id=account.pk, lead_id=linked.pk)
    Deal.objects.filter(pk=deal.pk).update(created_at=_ago(10))
    assert pool.leads_reclaim_due() == 1
    assert Lead.objects.get(pk=bare.pk).owner_id is None
    assert Lead.objects.get(pk=linked.pk).owner_id == sales.pk
    assert PoolEvent.objects.get(lead=bare, kind="reclaim").reason == "No new deal for 30 days"


def test_deal_rule_validation(api_client: Any) -> None:
    admin = factories.admin()
    with pytest.raises(ValidationFailed) as err:
        pool.rule_save(actor=admin, rule=PoolRule(name="x", entity="lead", not_won_days=30))
    # Not a lead limit, and a lead rule still needs one of its own.
    assert [e.field for e in err.value.errors] == ["not_won_days", "no_followup_days"]
    rule = pool.rule_save(
        actor=admin, rule=PoolRule(name="ok", entity="account", no_deal_days=30, not_won_days=90)
    )
    changes = AuditEvent.objects.get(entity="pool_rule", object_id=str(rule.pk)).changes
    assert changes["no_deal_days"] == 30 and changes["not_won_days"] == 90
