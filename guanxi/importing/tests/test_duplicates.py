"""The duplicate finder and the merge of leads, contacts and accounts (issue 6)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from guanxi.activities.models import Activity
from guanxi.core.errors import NotPermitted, OutOfScope, ValidationFailed
from guanxi.core.models import AuditEvent
from guanxi.customers.models import Account, Contact
from guanxi.finance.tests import factories as finance_factories
from guanxi.importing import duplicates, merge
from guanxi.importing.models import DuplicateGroup, DuplicateScan
from guanxi.leads.models import Lead, PoolEvent
from guanxi.sales.models import Deal, DealContact, Quote
from guanxi.sales.quotes import services as quote_services
from guanxi.tests_support import crm_factories, factories
from guanxi.tests_support import org as org_support
from guanxi.tests_support.api import ApiClient

pytestmark = pytest.mark.django_db


def _groups(scan: DuplicateScan) -> dict[tuple[str, str], set[tuple[str, int]]]:
    return {
        (g.match, g.key): {(m.entity_key, m.object_id) for m in g.members.all()}
        for g in DuplicateGroup.objects.filter(scan=scan).prefetch_related("members")
    }


def test_finder_groups_phone_email_accounts_and_likely(
    django_capture_on_commit_callbacks: Any,
) -> None:
    capture = django_capture_on_commit_callbacks
    admin = factories.admin()
    a = crm_factories.lead(admin, name="张伟", company="星辰科技", mobile="13800138000")
    b = crm_factories.lead(
        admin, name="張偉", company="星辰科技", mobile="+86 138 0013 8000", allow_duplicate=True
    )
    c = crm_factories.contact(
        admin, name="李娜", mobile="13900139000", phone="13800138000", allow_duplicate=True
    )
    d = crm_factories.lead(admin, name="王芳", email="Wang@Example.com", mobile="")
    e = crm_factories.contact(
        admin, name="王芳2", email="wang@example.com", mobile="", allow_duplicate=True
    )
    x = crm_factories.account(admin, name="星辰科技")
    y = crm_factories.account(admin, name=" 星辰科技 ")
    # Credit codes are unique in the database: never a group.
    crm_factories.account(admin, name="甲公司", credit_code="91350100M000100Y43")
    # Same name + company (twice: by name and by pinyin) and a lone lead.
    n1 = crm_factories.lead(admin, name="刘洋", company="远山", mobile="13700000001")
    n2 = crm_factories.lead(admin, name="刘洋", company="远山", mobile="13700000002")
    crm_factories.lead(admin, name="刘洋", company="别家", mobile="13700000003")

    with capture(execute=True):
        scan = duplicates.scan_start(actor=admin)
    scan.refresh_from_db()
    assert scan.status == DuplicateScan.Status.DONE
    groups = _groups(scan)
    assert groups[("phone", "+8613800138000")] == {
        ("lead", a.pk),
        ("lead", b.pk),
        ("contact", c.pk),
    }
    assert groups[("email", "wang@example.com")] == {("lead", d.pk), ("contact", e.pk)}
    assert groups[("account_name", "星辰科技")] == {("account", x.pk), ("account", y.pk)}
    assert groups[("name", "刘洋 / 远山")] == {("lead", n1.pk), ("lead", n2.pk)}
    # 张伟 / 張偉 share the pinyin only: a likely group of their own.
    pinyin = [k for k in groups if k[0] == "pinyin"]
    assert len(pinyin) == 1 and groups[pinyin[0]] == {("lead", a.pk), ("lead", b.pk)}
    kinds = {g.match: g.kind for g in DuplicateGroup.objects.filter(scan=scan)}
    assert kinds["name"] == kinds["pinyin"] == "likely" and kinds["phone"] == "hard"
    assert scan.groups_count == len(groups) == 5


def test_finder_stays_in_the_runners_scope_and_api(
    django_capture_on_commit_callbacks: Any,
) -> None:
    o = org_support.build()
    mine = crm_factories.lead(o.peer, mobile="13800138000")
    mine2 = crm_factories.lead(o.peer, mobile="13800138000", allow_duplicate=True)
    crm_factories.lead(o.boss, mobile="13900139000")
    theirs = crm_factories.lead(o.boss, mobile="13900139000", allow_duplicate=True)
    # One of the peer's, one of the boss's: the peer sees only one record, no group.
    crm_factories.lead(o.peer, mobile="13700137000")
    crm_factories.lead(o.boss, mobile="13700137000", allow_duplicate=True)

    api = ApiClient().login(o.peer)
    with django_capture_on_commit_callbacks(execute=True):
        r = api.post("duplicates/scans")
    assert r.status_code == 202, r.content
    body = api.get("duplicates", entity="lead").json()
    assert body["scan"]["status"] == "done"
    keys = [g["key"] for g in body["items"]]
    assert len(keys) == 1 and keys[0].endswith("8000")
    assert {m["id"] for m in body["items"][0]["members"]} == {mine.pk, mine2.pk}
    assert "13900139000" not in str(body)
    assert api.get("duplicates", entity="deal").status_code == 422

    client = Client()
    client.force_login(o.peer)
    page = client.get("/duplicates/").content.decode()
    assert "duplicate-groups" in page and mine.name in page and theirs.name not in page


def _activity(actor: Any, entity: str, pk: int) -> Activity:
    from guanxi.activities import services as activity_services

    return activity_services.activity_create(
        actor=actor, target_entity=entity, target_id=pk, kind="call", content="来电"
    )


def test_merge_leads_relinks_children_picks_values_and_keeps_histories() -> None:
    admin = factories.admin()
    keep = crm_factories.lead(admin, name="张伟", company="", mobile="13800138000")
    gone = crm_factories.lead(
        admin, name="张伟", company="星辰科技", mobile="13800138001", email="z@x.cn"
    )
    note = _activity(admin, "lead", gone.pk)
    from guanxi.activities import services as activity_services

    task = activity_services.task_create(
        actor=admin, title="回电", target_entity="lead", target_id=gone.pk
    )
    deal = crm_factories.deal(admin)
    Deal.objects.filter(pk=deal.pk).update(lead=gone)
    event = PoolEvent.objects.create(
        lead=gone, kind=PoolEvent.Kind.CLAIM, user=admin, at=timezone.now()
    )

    from guanxi.activities import selectors as activity_selectors

    def count(pk: int) -> int:
        page = activity_selectors.timeline(actor=admin, target_entity="lead", target_id=pk)
        return int(page.count)

    before_keep, before_gone = count(keep.pk), count(gone.pk)
    api = ApiClient().login(admin)
    r = api.post(
        "leads/merge",
        {"primary_id": keep.pk, "other_ids": [gone.pk], "fields": {"mobile": gone.pk}},
    )
    assert r.status_code == 200, r.content
    keep.refresh_from_db()
    assert not Lead.objects.filter(pk=gone.pk).exists()
    # Picked: the other's mobile; default: the non-empty company and e-mail.
    assert keep.mobile_e164 == "+8613800138001"
    assert keep.company == "星辰科技" and keep.email_norm == "z@x.cn"
    note.refresh_from_db()
    task.refresh_from_db()
    assert (note.target_id, task.target_id) == (keep.pk, keep.pk)
    assert Deal.objects.get(pk=deal.pk).lead_id == keep.pk
    assert PoolEvent.objects.get(pk=event.pk).lead_id == keep.pk
    merges = AuditEvent.objects.filter(action="merge", entity="lead")
    assert {m.object_id for m in merges} == {str(keep.pk), str(gone.pk)}
    survivor = merges.get(object_id=str(keep.pk))
    assert survivor.changes["merged_ids"] == [gone.pk]
    assert survivor.changes["fields"]["mobile"] == [gone.pk, gone.pk]
    # The merged lead's history shows on the survivor's timeline.
    items = activity_selectors.timeline(actor=admin, target_entity="lead", target_id=keep.pk)
    texts = " ".join(str(vars(i)) for i in items.items)
    assert "来电" in texts
    assert merge.merged_ids("lead", keep.pk) == [str(gone.pk)]
    # Both histories: everything either lead showed before, plus the merge itself.
    assert items.count >= before_keep + before_gone + 1


# Every foreign key into a mergeable model, with the test below building a row for it.
# A new FK fails test_every_foreign_key_is_covered until it is added here and there.
COVERED = {
    "lead": {
        ("leads.PoolEvent", "lead"),
        ("marketing.FormSubmission", "lead"),
        ("sales.Deal", "lead"),
    },
    "account": {
        ("customers.Account", "parent"),
        ("customers.Account_collaborators", "account"),
        ("customers.Contact", "account"),
        ("finance.Contract", "account"),
        ("leads.Lead", "converted_account"),
        ("leads.PoolEvent", "account"),
        ("reports.CustomerScore", "account"),
        ("sales.Deal", "account"),
        ("sales.Quote", "account"),
    },
    "contact": {
        ("leads.Lead", "converted_contact"),
        ("sales.DealContact", "contact"),
        ("sales.Quote", "contact"),
    },
}


@pytest.mark.parametrize("entity_key", ["lead", "account", "contact"])
def test_every_foreign_key_is_covered(entity_key: str) -> None:
    model = {"lead": Lead, "account": Account, "contact": Contact}[entity_key]
    found = {(m._meta.label, name) for m, name in merge.foreign_keys(model)}
    assert found == COVERED[entity_key]


def test_merge_accounts_and_contacts_relinks_every_child_kind() -> None:
    admin = factories.admin()
    other_user = factories.user("sales", username="helper")
    keep = crm_factories.account(admin, name="甲")
    gone = crm_factories.account(admin, name="甲(旧)", industry="制造")
    gone.collaborators.add(other_user)
    keep.collaborators.add(other_user)  # the same link on both: one stays
    child = crm_factories.account(admin, name="子公司", parent_id=gone.pk)
    c_keep = crm_factories.contact(admin, name="赵", account_id=keep.pk)
    c_gone = crm_factories.contact(admin, name="赵", account_id=gone.pk)
    contract = finance_factories.contract(admin, account=gone, activate=False)
    deal = crm_factories.deal(admin, account_id=gone.pk)
    both = crm_factories.deal(admin, account_id=keep.pk)
    DealContact.objects.create(deal=deal, contact=c_gone)
    DealContact.objects.create(deal=both, contact=c_gone)
    DealContact.objects.create(deal=both, contact=c_keep)
    quote = quote_services.quote_create(
        actor=admin, data={"account_id": gone.pk, "contact_id": c_gone.pk, "lines": []}
    )
    lead = crm_factories.lead(admin)
    Lead.objects.filter(pk=lead.pk).update(converted_account=gone, converted_contact=c_gone)
    pool = PoolEvent.objects.create(
        account=gone, kind=PoolEvent.Kind.CLAIM, user=admin, at=timezone.now()
    )
    note = _activity(admin, "account", gone.pk)

    merge.merge(actor=admin, entity_key="contact", primary_id=c_keep.pk, other_ids=[c_gone.pk])
    assert set(DealContact.objects.filter(deal=both).values_list("contact", flat=True)) == {
        c_keep.pk
    }
    assert DealContact.objects.get(deal=deal).contact_id == c_keep.pk
    assert Quote.objects.get(pk=quote.pk).contact_id == c_keep.pk
    assert Lead.objects.get(pk=lead.pk).converted_contact_id == c_keep.pk

    merge.merge(
        actor=admin,
        entity_key="account",
        primary_id=keep.pk,
        other_ids=[gone.pk],
        fields={"name": gone.pk},
    )
    keep.refresh_from_db()
    assert keep.name == "甲(旧)" and keep.industry == "制造"
    assert not Account.objects.filter(pk=gone.pk).exists()
    assert Account.objects.get(pk=child.pk).parent_id == keep.pk
    assert list(keep.collaborators.all()) == [other_user]
    assert Contact.objects.get(pk=c_keep.pk).account_id == keep.pk
    contract.refresh_from_db()
    assert contract.account_id == keep.pk
    assert Deal.objects.get(pk=deal.pk).account_id == keep.pk
    assert Quote.objects.get(pk=quote.pk).account_id == keep.pk
    assert Lead.objects.get(pk=lead.pk).converted_account_id == keep.pk
    assert PoolEvent.objects.get(pk=pool.pk).account_id == keep.pk
    note.refresh_from_db()
    assert (note.target_entity, note.target_id) == ("account", keep.pk)


def test_merge_moves_web_form_submissions_and_keeps_one_customer_score() -> None:
    from guanxi.marketing.models import FormSubmission, WebForm
    from guanxi.reports.models import CustomerScore

    admin = factories.admin()
    keep = crm_factories.lead(admin, name="李娜", mobile="13800138010")
    gone = crm_factories.lead(admin, name="李娜", mobile="13800138011", allow_duplicate=True)
    form = WebForm.objects.create(
        name="官网表单", title_zh="官网表单", slug="site", created_by=admin
    )
    sub = FormSubmission.objects.create(form=form, outcome="created", lead=gone)
    merge.merge(actor=admin, entity_key="lead", primary_id=keep.pk, other_ids=[gone.pk])
    sub.refresh_from_db()
    assert sub.lead_id == keep.pk

    a_keep = crm_factories.account(admin, name="甲公司")
    a_gone = crm_factories.account(admin, name="甲公司分部")
    now = timezone.now()
    CustomerScore.objects.create(account=a_keep, segment="", churn_score=10, computed_at=now)
    CustomerScore.objects.create(account=a_gone, segment="", churn_score=70, computed_at=now)
    merge.merge(actor=admin, entity_key="account", primary_id=a_keep.pk, other_ids=[a_gone.pk])
    # One score per account: the survivor keeps its own (the nightly refresh recomputes it).
    assert list(CustomerScore.objects.values_list("account_id", "churn_score")) == [(a_keep.pk, 10)]


def test_merge_refusals_change_nothing() -> None:
    o = org_support.build()
    merger = org_support.role(
        o.admin, {"lead": {"actions": ["view", "create", "edit", "delete"], "scope": "own"}}
    )
    o.give(o.peer, merger)
    mine = crm_factories.lead(o.peer, mobile="13800138000")
    mine2 = crm_factories.lead(o.peer, mobile="13800138000", allow_duplicate=True)
    theirs = crm_factories.lead(o.boss, mobile="13800138000", allow_duplicate=True)
    note = _activity(o.admin, "lead", mine2.pk)
    api = ApiClient().login(o.peer)
    before = (Lead.objects.count(), AuditEvent.objects.count())
    r = api.post("leads/merge", {"primary_id": mine.pk, "other_ids": [theirs.pk]})
    assert r.status_code == 404
    with pytest.raises(NotPermitted):
        merge.merge(actor=o.service, entity_key="lead", primary_id=mine.pk, other_ids=[mine2.pk])
    with pytest.raises(NotPermitted):  # the sales role may edit but not delete leads
        merge.merge(actor=o.boss, entity_key="lead", primary_id=theirs.pk, other_ids=[mine2.pk])
    with pytest.raises(OutOfScope):
        merge.merge(actor=o.peer, entity_key="lead", primary_id=theirs.pk, other_ids=[mine2.pk])
    r = api.post(
        "leads/merge",
        {"primary_id": mine.pk, "other_ids": [mine2.pk], "fields": {"name": theirs.pk}},
    )
    assert r.status_code == 422 and "fields.name" in r.content.decode()
    with pytest.raises(ValidationFailed):
        merge.merge(actor=o.peer, entity_key="lead", primary_id=mine.pk, other_ids=[mine.pk])
    assert (Lead.objects.count(), AuditEvent.objects.count()) == before
    note.refresh_from_db()
    assert note.target_id == mine2.pk


def test_merge_screen_prefills_and_merges() -> None:
    admin = factories.admin()
    keep = crm_factories.lead(admin, name="甲", city="")
    gone = crm_factories.lead(admin, name="乙", city="上海")
    client = Client()
    client.force_login(admin)
    url = f"/duplicates/merge/lead/?ids={keep.pk},{gone.pk}"
    page = client.get(url).content.decode()
    assert "merge-form" in page and "上海" in page
    r = client.post(url, {"primary_id": keep.pk, "field_name": gone.pk, "field_city": gone.pk})
    assert r.status_code == 302
    keep.refresh_from_db()
    assert (keep.name, keep.city) == ("乙", "上海")
    assert not Lead.objects.filter(pk=gone.pk).exists()
