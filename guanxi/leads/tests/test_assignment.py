"""Lead assignment rules: conditions, methods, fallback, reasons, audit, concurrency."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from guanxi.core import events
from guanxi.core.errors import NotPermitted, ValidationFailed
from guanxi.core.models import AuditEvent
from guanxi.core.services import customfield_save
from guanxi.leads import assignment
from guanxi.leads import services as lead_services
from guanxi.leads.models import AssignmentCursor, AssignmentRule, Lead
from guanxi.tests_support import crm_factories, factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def _rule(admin: Any, users: list[Any], method: str = "round_robin", **data: Any) -> Any:
    return assignment.rule_create(
        actor=admin,
        data={
            "name": data.pop("name", "规则"),
            "method": method,
            "user_ids": [u.pk for u in users],
            **data,
        },
    )


def _create(actor: Any, **data: Any) -> Lead:
    return crm_factories.lead(actor, **data)


def test_no_active_rule_keeps_the_caller_as_owner() -> None:
    sales = factories.user("sales")
    lead = _create(sales)
    assert lead.owner_id == sales.pk
    assert "Entered by the owner" in lead.assigned_reason
    assert not AuditEvent.objects.filter(action="assign").exists()


def test_user_rule_on_source_with_reason_audit_and_event() -> None:
    admin, integration = factories.admin(), factories.user("sales")
    target = factories.user("sales", display_name="张伟")
    _rule(admin, [target], "user", name="华东展会", conditions={"source": ["trade_show"]})
    seen: list[events.Event] = []
    events.subscribe("lead.assigned", seen.append)
    try:
        matched = _create(integration, source="trade_show")
        other = _create(integration, source="baidu")
    finally:
        events.unsubscribe("lead.assigned", seen.append)
    assert matched.owner_id == target.pk
    assert matched.assigned_reason == "Rule “华东展会”: One user → 张伟"
    # Nothing matched: the default fallback keeps the creator.
    assert other.owner_id == integration.pk
    assert other.assigned_reason.startswith("No rule matched: kept by the creator")
    entry = AuditEvent.objects.get(action="assign", object_id=str(matched.pk))
    assert entry.changes["owner"] == [None, target.pk]
    assert entry.changes["method"] == "user"
    assert entry.actor_id == integration.pk
    assert Lead.objects.get(pk=matched.pk).assigned_reason == matched.assigned_reason


def test_every_condition_kind_and_all_must_hold() -> None:
    admin, creator = factories.admin(), factories.user("sales")
    customfield_save(
        actor=admin,
        field=None,
        data={"entity": "lead", "key": "budget", "label_zh": "预算", "kind": "text"},
    )
    target = factories.user("sales")
    _rule(
        admin,
        [target],
        "user",
        conditions={
            "province": ["浙江"],
            "city": ["杭州", "宁波"],
            "industry": ["制造"],
            "tags": ["展会", "重点"],
            "custom": {"budget": ["high"]},
        },
    )
    good = {
        "province": "浙江",
        "city": "宁波",
        "industry": "制造",
        "tags": ["重点"],
        "custom": {"budget": "High"},
    }
    assert _create(creator, **good).owner_id == target.pk
    for key, bad in [
        ("province", "江苏"),
        ("city", "温州"),
        ("industry", "贸易"),
        ("tags", ["其他"]),
        ("custom", {"budget": "low"}),
    ]:
        assert _create(creator, **{**good, key: bad}).owner_id == creator.pk, key


def test_first_matching_rule_in_order_wins_and_inactive_rules_are_ignored() -> None:
    admin, creator = factories.admin(), factories.user("sales")
    first, second, off = (factories.user("sales") for _ in range(3))
    _rule(admin, [off], "user", position=0, active=False, conditions={"city": ["上海"]})
    _rule(admin, [second], "user", position=20, conditions={"city": ["上海"]})
    _rule(admin, [first], "user", position=10, conditions={"city": ["上海"]})
    assert _create(creator, city="上海").owner_id == first.pk


def test_round_robin_is_fair_and_skips_inactive_users() -> None:
    admin, creator = factories.admin(), factories.user("sales")
    a, b, c = (factories.user("sales") for _ in range(3))
    rule = _rule(admin, [a, b, c], name="轮询")
    owners = [_create(creator).owner_id for _ in range(6)]
    assert owners == [a.pk, b.pk, c.pk, a.pk, b.pk, c.pk]
    assert AssignmentCursor.objects.get(rule=rule).position == 6
    b.is_active = False
    b.save()
    owners = Counter(_create(creator).owner_id for _ in range(4))
    assert owners == {a.pk: 2, c.pk: 2}


def test_rule_with_only_inactive_users_falls_through() -> None:
    admin, creator = factories.admin(), factories.user("sales")
    gone, next_one = factories.user("sales"), factories.user("sales")
    _rule(admin, [gone], "user", position=1)
    _rule(admin, [next_one], "user", position=2)
    gone.is_active = False
    gone.save()
    assert _create(creator).owner_id == next_one.pk


def test_least_loaded_picks_fewest_open_leads() -> None:
    admin, creator = factories.admin(), factories.user("sales")
    busy, free = factories.user("sales"), factories.user("sales")
    for _ in range(3):
        _create(busy)
    _create(free)
    converted_heavy = [_create(free) for _ in range(3)]
    Lead.objects.filter(pk__in=[x.pk for x in converted_heavy]).update(status="converted")
    _rule(admin, [busy, free], "least_loaded", name="最少")
    lead = _create(creator)
    # free: 1 open (3 converted don't count); busy: 3 open.
    assert lead.owner_id == free.pk
    assert lead.assigned_reason == f"Rule “最少”: Fewest open leads → {free.label}"
    owners = [_create(creator).owner_id for _ in range(3)]
    # free reaches 3 open, then they tie and the turn (cursor 2 → second of two) decides.
    assert owners == [free.pk, busy.pk, free.pk]


@pytest.mark.parametrize(
    ("fallback", "expect"),
    [("pool", None), ("user", "default"), ("creator", "creator")],
)
def test_fallback_when_nothing_matches(fallback: str, expect: str | None) -> None:
    admin, creator, default = factories.admin(), factories.user("sales"), factories.user("sales")
    _rule(admin, [factories.user("sales")], "user", conditions={"city": ["拉萨"]})
    assignment.settings_save(
        actor=admin,
        fallback=fallback,
        fallback_user_id=default.pk if fallback == "user" else None,
    )
    lead = _create(creator, city="上海")
    want = {None: None, "default": default.pk, "creator": creator.pk}[expect]
    assert lead.owner_id == want
    assert lead.assigned_reason.startswith("No rule matched")
    assert AuditEvent.objects.filter(action="assign", object_id=str(lead.pk)).exists()


def test_explicit_owner_and_assign_flag() -> None:
    admin, sales = factories.admin(), factories.user("sales")
    routed = factories.user("sales")
    _rule(admin, [routed], "user")
    # A given owner skips the rules.
    own = _create(sales, owner_id=sales.pk)
    assert own.owner_id == sales.pk
    # assign=False: the UI's own entry.
    kept = lead_services.lead_create(
        actor=sales, data={"name": "自建", "mobile": "13700009999"}, assign=False
    )
    assert kept.owner_id == sales.pk
    # assign=True routes, and with an owner it is refused.
    forced = lead_services.lead_create(
        actor=sales, data={"name": "按规则", "mobile": "13700009998"}, assign=True
    )
    assert forced.owner_id == routed.pk
    with pytest.raises(ValidationFailed) as exc:
        lead_services.lead_create(
            actor=sales,
            data={"name": "x", "mobile": "13700009997", "owner_id": sales.pk},
            assign=True,
        )
    assert exc.value.errors[0].field == "owner_id"


def test_rules_are_cached_no_query_per_rule() -> None:
    admin, creator = factories.admin(), factories.user("sales")
    for i in range(10):
        _rule(
            admin, [factories.user("sales")], "user", name=f"r{i}", conditions={"city": [f"c{i}"]}
        )
    _create(creator, city="nowhere")  # warms the cache
    with CaptureQueriesContext(connection) as ctx:
        _create(creator, city="nowhere")
    rule_queries = [q["sql"] for q in ctx.captured_queries if "assignmentrule" in q["sql"]]
    assert rule_queries == []
    # Saving a rule clears the cache: the new rule applies at once.
    target = factories.user("sales")
    _rule(admin, [target], "user", name="new", conditions={"city": ["nowhere"]})
    assert _create(creator, city="nowhere").owner_id == target.pk


def test_rule_validation_and_admin_only() -> None:
    admin, sales = factories.admin(), factories.user("sales")
    with pytest.raises(NotPermitted):
        _rule(sales, [sales], "user")
    with pytest.raises(ValidationFailed) as exc:
        assignment.rule_create(
            actor=admin,
            data={
                "name": "",
                "method": "random",
                "user_ids": [],
                "conditions": {"source": ["nope"], "colour": ["red"], "custom": {"x": ["1"]}},
            },
        )
    fields = {e.field for e in exc.value.errors}
    assert {"name", "method", "conditions", "conditions.source", "conditions.custom.x"} <= fields
    with pytest.raises(ValidationFailed) as exc:
        _rule(admin, [sales, admin], "user")
    assert exc.value.errors[0].field == "user_ids"
    with pytest.raises(ValidationFailed):
        assignment.settings_save(actor=admin, fallback="user", fallback_user_id=None)
    assert not AssignmentRule.objects.exists()


def test_rule_update_delete_are_audited() -> None:
    admin = factories.admin()
    a, b = factories.user("sales"), factories.user("sales")
    rule = _rule(admin, [a], "user")
    assignment.rule_update(
        actor=admin, rule=rule, data={"method": "round_robin", "user_ids": [a.pk, b.pk]}
    )
    change = AuditEvent.objects.get(entity="assignment_rule", action="update")
    assert change.changes["method"] == ["user", "round_robin"]
    assert change.changes["user_ids"] == [[a.pk], sorted([a.pk, b.pk])]
    assignment.rule_delete(actor=admin, rule=rule)
    assert AuditEvent.objects.filter(entity="assignment_rule", action="delete").exists()
    assert not AssignmentCursor.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_round_robin_is_exactly_even_on_postgres() -> None:
    """Real threads on PostgreSQL: 24 simultaneous creates over 4 users → 6 each."""
    import threading

    from django.db import connections

    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent connections (PostgreSQL)")
    admin, creator = factories.admin(), factories.user("sales")
    users = [factories.user("sales") for _ in range(4)]
    _rule(admin, users, name="并发轮询")
    threads_n, per_thread = 8, 3
    barrier = threading.Barrier(threads_n)
    failures: list[BaseException] = []

    def work(t: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                lead_services.lead_create(
                    actor=creator, data={"name": f"并发{t}-{i}", "mobile": f"1360000{t:02d}{i:02d}"}
                )
        except BaseException as exc:  # reported by the assertion below
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(t,)) for t in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    counts = Counter(
        Lead.objects.filter(name__startswith="并发").values_list("owner_id", flat=True)
    )
    assert counts == {u.pk: threads_n * per_thread // len(users) for u in users}


def test_owner_changes_after_creation_update_the_reason() -> None:
    from guanxi.leads import pool
    from guanxi.leads.models import PoolRule

    admin = factories.admin(display_name="管理员")
    sales = factories.user("sales", display_name="张伟")
    other = factories.user("sales", display_name="李娜")
    lead = _create(sales)
    lead_services.lead_transfer(actor=admin, records=[lead], to_user=other)
    assert Lead.objects.get(pk=lead.pk).assigned_reason == "Transferred by 管理员 → 李娜"
    lead_services.lead_transfer(actor=admin, records=[lead], to_user=None)
    assert Lead.objects.get(pk=lead.pk).assigned_reason == "Put in the public pool by 管理员"
    claimed = pool.lead_claim(actor=sales, lead=lead.pk)
    assert claimed.assigned_reason == "Claimed from the public pool by 张伟"
    assert Lead.objects.get(pk=lead.pk).assigned_reason == claimed.assigned_reason
    pool.lead_release(actor=sales, lead=lead.pk, reason="空号")
    assert Lead.objects.get(pk=lead.pk).assigned_reason == (
        "Released to the public pool by 张伟: 空号"
    )
    kept = _create(other)
    PoolRule.objects.create(name="30 天", no_followup_days=30)
    Lead.objects.filter(pk=kept.pk).update(
        created_at=timezone.now() - dt.timedelta(days=40), last_contacted_at=None
    )
    assert pool.leads_reclaim_due() == 1
    assert Lead.objects.get(pk=kept.pk).assigned_reason == (
        "Reclaimed to the public pool by rule “30 天”"
    )


def test_rule_cache_reloads_after_a_change_in_another_process() -> None:
    """The token in the shared cache is what tells processes to reload."""
    from django.core.cache import cache

    from guanxi.leads.rule_cache import RuleCache

    loads: list[int] = []

    def load() -> int:
        loads.append(1)
        return len(loads)

    rc = RuleCache("tests:rule-cache", load)
    assert rc.get() == 1 and rc.get() == 1  # the second read is served from memory
    cache.delete("tests:rule-cache")  # what forget() does in another process
    assert rc.get() == 2
    rc.forget()
    assert rc.get() == 3 and rc.get() == 3
