"""Configurable approval flows: conditions, any-of / all-of stages, return, reminders,
delegation; and their admin pages and API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone, translation

from guanxi.activities.models import Notification
from guanxi.automation import flows, policies, services
from guanxi.automation.approvers import manager_of
from guanxi.automation.models import ApprovalPolicy, ApprovalRequest, ApprovalStep
from guanxi.core.errors import Conflict, NotPermitted, OutOfScope, ValidationFailed
from guanxi.core.models import AuditEvent, Note
from guanxi.identity.models import Role, User
from guanxi.tests_support import factories
from guanxi.tests_support.api import ApiClient

pytestmark = pytest.mark.django_db

outcomes: list[tuple[str, int, str]] = []
AMOUNTS: dict[int, Decimal] = {}


@pytest.fixture(autouse=True)
def _note_flow() -> Iterator[None]:
    outcomes.clear()
    AMOUNTS.clear()
    flows.register(
        flows.ApprovalFlow(
            entity="note",
            label="Note",
            load=lambda pk: Note.objects.get(pk=pk),
            approvers=lambda note: [u for u in [manager_of(note.owner)] if u],
            on_approved=lambda note, req, actor: outcomes.append(("approved", note.pk, "")),
            on_rejected=lambda note, req, actor, comment: outcomes.append(
                ("rejected", note.pk, comment)
            ),
            on_returned=lambda note, req, actor, comment: outcomes.append(
                ("returned", note.pk, comment)
            ),
            summary=lambda note: [("Title", note.title)],
            url=lambda note: f"/notes/{note.pk}/",
            facts=lambda note: {
                "amount": AMOUNTS.get(note.pk, Decimal(0)),
                "discount": Decimal(10),
                "owner": note.owner,
            },
        )
    )
    with translation.override("en"):
        yield
    flows._flows.pop("note", None)


@pytest.fixture
def team() -> dict[str, User]:
    sales = factories.department("销售部")
    head = factories.user("manager", department=sales, username="head", language="en")
    sales.head = head
    sales.save(update_fields=["head"])
    return {
        "head": head,
        "rep": factories.user("sales", department=sales, username="rep", language="en"),
        "fin1": factories.user("manager", username="fin1", language="en"),
        "fin2": factories.user("manager", username="fin2", language="en"),
        "cfo": factories.user("manager", username="cfo", language="en"),
        "admin": factories.admin(username="root", language="en"),
    }


def _note(owner: User, amount: str = "0") -> Note:
    note = Note.objects.create(title="Deal", owner=owner)
    AMOUNTS[note.pk] = Decimal(amount)
    return note


def _policy(admin: User, steps: list[dict[str, Any]], **data: Any) -> ApprovalPolicy:
    return policies.policy_save(
        actor=admin,
        policy=None,
        data={"entity": "note", "name": data.pop("name", "Flow"), "steps": steps, **data},
    )


def _pending(req: ApprovalRequest) -> set[str]:
    return {
        s.approver.username
        for s in ApprovalStep.objects.filter(request=req, status="pending").select_related(
            "approver"
        )
    }


def test_condition_picks_the_flow_by_amount_else_the_builtin(team: dict[str, User]) -> None:
    _policy(
        team["admin"],
        [{"kind": "user", "user_id": team["cfo"].pk}],
        name="Big",
        min_amount="100000",
        position=0,
    )
    _policy(team["admin"], [{"kind": "manager"}], name="Discount", min_discount="50", position=1)
    big = services.approval_request(
        actor=team["rep"], entity="note", obj=_note(team["rep"], "150000")
    )
    assert _pending(big) == {"cfo"} and big.policy is not None and big.policy.name == "Big"
    small = services.approval_request(
        actor=team["rep"], entity="note", obj=_note(team["rep"], "10")
    )
    # No flow matches (discount 10 < 50): the built-in approver, the department head.
    assert _pending(small) == {"head"} and small.policy is None
    policy = ApprovalPolicy.objects.get(name="Big")
    assert policies.matches(policy, {"amount": Decimal("100000")})
    assert not policies.matches(policy, {"amount": Decimal("99999.99")})
    assert not policies.matches(policy, {})


def test_any_of_stage_then_all_of_stage(team: dict[str, User]) -> None:
    role = Role.objects.create(code="finance", name_zh="财务")
    for u in (team["fin1"], team["fin2"]):
        u.roles.add(role)
    _policy(
        team["admin"],
        [
            {"kind": "role", "role_id": role.pk, "mode": "any"},
            {"kind": "role", "role_id": role.pk, "mode": "all"},
            {"kind": "manager"},
        ],
    )
    req = services.approval_request(actor=team["rep"], entity="note", obj=_note(team["rep"]))
    assert _pending(req) == {"fin1", "fin2"}
    services.approval_decide(actor=team["fin2"], request=req, decision="approve")
    # any-of: fin1's row of stage 1 is skipped, stage 2 (all-of) opens for both.
    assert ApprovalStep.objects.filter(request=req, stage=0, status="skipped").count() == 1
    assert _pending(req) == {"fin1", "fin2"}
    services.approval_decide(actor=team["fin1"], request=req, decision="approve")
    assert _pending(req) == {"fin2"}  # all-of: still waiting for fin2
    services.approval_decide(actor=team["fin2"], request=req, decision="approve")
    assert _pending(req) == {"head"}
    services.approval_decide(actor=team["head"], request=req, decision="approve")
    req.refresh_from_db()
    assert req.status == "approved" and outcomes == [("approved", req.object_id, "")]
    history = AuditEvent.objects.filter(entity="note", object_id=str(req.object_id))
    assert history.filter(changes__has_key="approval_step").count() == 3


def test_return_sends_back_to_the_requester_with_comment(team: dict[str, User]) -> None:
    _policy(team["admin"], [{"kind": "manager"}, {"kind": "user", "user_id": team["cfo"].pk}])
    note = _note(team["rep"])
    req = services.approval_request(actor=team["rep"], entity="note", obj=note)
    with pytest.raises(ValidationFailed):
        services.approval_decide(actor=team["head"], request=req, decision="return")
    services.approval_decide(
        actor=team["head"], request=req, decision="return", comment="Fix the payment terms"
    )
    req.refresh_from_db()
    assert req.status == "returned"
    assert outcomes == [("returned", note.pk, "Fix the payment terms")]
    assert set(ApprovalStep.objects.filter(request=req).values_list("status", flat=True)) == {
        "returned",
        "skipped",
    }
    told = Notification.objects.get(recipient=team["rep"])
    assert "back to you for changes" in told.title and told.body == "Fix the payment terms"
    assert AuditEvent.objects.filter(
        entity="note", object_id=str(note.pk), changes__approval=["pending", "returned"]
    ).exists()
    again = services.approval_request(actor=team["rep"], entity="note", obj=note)
    assert again.status == "pending"


def test_reminders_once_per_step_per_day(team: dict[str, User]) -> None:
    _policy(team["admin"], [{"kind": "manager"}], remind_after_hours=4)
    req = services.approval_request(actor=team["rep"], entity="note", obj=_note(team["rep"]))
    start = ApprovalStep.objects.get(request=req).activated_at
    assert start is not None
    reminders = Notification.objects.filter(recipient=team["head"], verb="approval_reminder")
    assert policies.approvals_send_reminders(start + dt.timedelta(hours=3)) == 0
    later = start + dt.timedelta(hours=5)
    assert policies.approvals_send_reminders(later) == 1
    assert policies.approvals_send_reminders(later + dt.timedelta(minutes=30)) == 0
    assert reminders.count() == 1 and "waiting for your approval" in reminders.get().title
    assert policies.approvals_send_reminders(later + dt.timedelta(days=1)) == 1
    services.approval_decide(actor=team["head"], request=req, decision="approve")
    assert policies.approvals_send_reminders(later + dt.timedelta(days=2)) == 0
    assert reminders.count() == 2


def test_delegation_routes_to_the_delegate_and_is_audited(team: dict[str, User]) -> None:
    today = timezone.localdate()
    with pytest.raises(NotPermitted):
        policies.delegation_set(
            actor=team["rep"],
            user=team["head"],
            delegate=team["cfo"],
            starts_on=today,
            ends_on=today,
        )
    with pytest.raises(ValidationFailed) as info:
        policies.delegation_set(
            actor=team["head"],
            user=team["head"],
            delegate=team["head"],
            starts_on=today,
            ends_on=today - dt.timedelta(days=1),
        )
    assert {e.field for e in info.value.errors} == {"delegate_id", "ends_on"}
    deleg = policies.delegation_set(
        actor=team["head"],
        user=team["head"],
        delegate=team["cfo"],
        starts_on=today - dt.timedelta(days=1),
        ends_on=today + dt.timedelta(days=3),
    )
    req = services.approval_request(actor=team["rep"], entity="note", obj=_note(team["rep"]))
    step = ApprovalStep.objects.get(request=req)
    assert step.approver == team["cfo"] and step.delegated_from == team["head"]
    assert Notification.objects.filter(recipient=team["cfo"], verb="approval_requested").exists()
    assert AuditEvent.objects.filter(
        entity="approval", object_id=str(req.pk), changes__delegated=["head", "cfo"]
    ).exists()
    assert AuditEvent.objects.filter(entity="approval_delegation", object_id=str(deleg.pk)).exists()
    with pytest.raises(OutOfScope):  # no longer an approver of this request
        services.approval_decide(actor=team["head"], request=req, decision="approve")
    services.approval_decide(actor=team["cfo"], request=req, decision="approve")
    policies.delegation_end(actor=team["head"], delegation=deleg)
    later = services.approval_request(actor=team["rep"], entity="note", obj=_note(team["rep"]))
    assert _pending(later) == {"head"}


def test_stage_with_nobody_is_refused_and_policies_are_admin_only(team: dict[str, User]) -> None:
    role = Role.objects.create(code="nobody-role", name_zh="无人")
    _policy(team["admin"], [{"kind": "role", "role_id": role.pk}])
    with pytest.raises(Conflict, match="Nobody can approve step 1"):
        services.approval_request(actor=team["rep"], entity="note", obj=_note(team["rep"]))
    with pytest.raises(NotPermitted):
        _policy(team["rep"], [{"kind": "manager"}])
    with pytest.raises(ValidationFailed) as info:
        _policy(team["admin"], [{"kind": "user"}, {"kind": "bogus"}], min_discount="120")
    assert {e.field for e in info.value.errors} == {
        "steps.0.user_id",
        "steps.1.kind",
        "min_discount",
    }


def test_default_quote_flow_is_seeded() -> None:
    policy = ApprovalPolicy.objects.get(entity="quote")
    assert [(s.kind, s.mode) for s in policy.steps.all()] == [("manager", "any")]


def test_flow_pages_and_delegation_page(team: dict[str, User]) -> None:
    web = Client()
    web.force_login(team["admin"])
    assert web.get("/approvals/flows/").status_code == 200
    response = web.post(
        "/approvals/flows/new/",
        {
            "entity": "quote",
            "name": "Big quotes",
            "active": "on",
            "position": "1",
            "min_amount": "500000",
            "remind_after_hours": "8",
            "s0_kind": "manager",
            "s0_mode": "any",
            "s1_kind": "user",
            "s1_user": str(team["cfo"].pk),
            "s1_mode": "all",
        },
    )
    assert response.status_code == 302, [
        line for line in response.content.decode().splitlines() if "error" in line
    ]
    policy = ApprovalPolicy.objects.get(name="Big quotes")
    assert [s.kind for s in policy.steps.all()] == ["manager", "user"]
    bad = web.post(
        f"/approvals/flows/{policy.pk}/",
        {
            "entity": "quote",
            "name": "Big quotes",
            "position": "1",
            "remind_after_hours": "8",
            "s0_kind": "user",
            "s0_mode": "any",
        },
    )
    assert bad.status_code == 400 and "Choose an active user." in bad.content.decode()
    web.force_login(team["rep"])
    assert web.get("/approvals/flows/").status_code == 403
    today = timezone.localdate()
    saved = web.post(
        "/approvals/delegation/",
        {"delegate": team["head"].pk, "starts_on": today.isoformat(), "ends_on": today.isoformat()},
    )
    assert saved.status_code == 302
    assert policies.delegate_of(team["rep"]) == team["head"]


def test_flows_and_delegation_api(team: dict[str, User]) -> None:
    api = ApiClient().login(team["admin"])
    created = api.post(
        "approval-flows",
        {
            "entity": "refund",
            "name": "Refunds",
            "min_amount": "1000",
            "steps": [{"kind": "user", "user_id": team["cfo"].pk, "mode": "all"}],
        },
    )
    assert created.status_code == 201, created.content
    assert created.json()["min_amount"] == "1000.00"
    bad = api.post("approval-flows", {"entity": "nope", "name": "", "steps": []})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"entity", "name", "steps"}
    pk = created.json()["id"]
    assert api.patch(f"approval-flows/{pk}", {"active": False}).json()["active"] is False
    assert ApiClient().login(team["rep"]).get("approval-flows").status_code == 403
    rep_api = ApiClient().login(team["rep"])
    today = timezone.localdate().isoformat()
    made = rep_api.post(
        "approval-delegations",
        {"delegate_id": team["head"].pk, "starts_on": today, "ends_on": today},
    )
    assert made.status_code == 201
    assert rep_api.get("approval-delegations").json()[0]["delegate"]["username"] == "head"
    assert (
        ApiClient()
        .login(team["cfo"])
        .delete(f"approval-delegations/{made.json()['id']}")
        .status_code
        == 404
    )
    assert rep_api.delete(f"approval-delegations/{made.json()['id']}").status_code == 204
    assert api.delete(f"approval-flows/{pk}").status_code == 204
