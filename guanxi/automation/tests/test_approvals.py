"""Approvals: request, approve, reject with comment, re-submit, chains, visibility.

A test flow on notes stands in for quotes here; the quote flow has its own tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from guanxi.activities.models import Notification
from guanxi.automation import flows, selectors, services
from guanxi.automation.approvers import manager_of
from guanxi.automation.models import ApprovalDecision, ApprovalRequest, ApprovalStep
from guanxi.core import permissions
from guanxi.core.errors import Conflict, NotPermitted, OutOfScope, ValidationFailed
from guanxi.core.models import AuditEvent, Note
from guanxi.identity import services as identity_services
from guanxi.identity.models import User
from guanxi.tests_support import factories

pytestmark = pytest.mark.django_db

outcomes: list[tuple[str, int, str]] = []


@pytest.fixture(autouse=True)
def _note_flow() -> Iterator[None]:
    outcomes.clear()
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
            on_cancelled=lambda note, req, actor: outcomes.append(("cancelled", note.pk, "")),
            summary=lambda note: [("Title", note.title), ("Secret total", "¥12,345.00")],
            url=lambda note: f"/notes/{note.pk}/",
        )
    )
    with translation.override("en"):
        yield
    flows._flows.pop("note", None)


@pytest.fixture
def team() -> dict[str, User]:
    root = identity_services.department_root()
    sales = factories.department("销售部")
    east = factories.department("华东区", sales)
    south = factories.department("华南区", sales)
    boss = factories.user("manager", department=sales, username="boss", language="en")
    east_head = factories.user(
        "manager", department=east, username="easthead", display_name="easthead", language="en"
    )
    south_head = factories.user("manager", department=south, username="southhead")
    rep = factories.user(
        "sales", department=east, username="rep", display_name="rep", language="en"
    )
    for dept, head in ((sales, boss), (east, east_head), (south, south_head)):
        dept.head = head
        dept.save(update_fields=["head"])
    root.head = factories.admin(username="ceo", language="en")
    root.save(update_fields=["head"])
    return {
        "boss": boss,
        "east_head": east_head,
        "south_head": south_head,
        "rep": rep,
        "outsider": factories.user("sales", department=south, username="outsider"),
    }


def _note(owner: User) -> Note:
    return Note.objects.create(title="Discount 30%", owner=owner)


def test_manager_is_the_department_head_walking_up(team: dict[str, User]) -> None:
    assert manager_of(team["rep"]) == team["east_head"]
    assert manager_of(team["east_head"]) == team["boss"]
    assert manager_of(team["boss"]).username == "ceo"  # type: ignore[union-attr]
    team["east_head"].is_active = False
    team["east_head"].save()
    assert manager_of(User.objects.get(pk=team["rep"].pk)) == team["boss"]


def test_approve_runs_callback_notifies_and_audits(team: dict[str, User]) -> None:
    note = _note(team["rep"])
    req = services.approval_request(actor=team["rep"], entity="note", obj=note, reason="big deal")
    inbox = Notification.objects.get(recipient=team["east_head"])
    assert "rep asks you to approve Note Discount 30%" in inbox.title
    assert inbox.url == reverse("automation:approval_detail", args=[req.pk])
    assert [r.pk for r in selectors.approval_inbox(actor=team["east_head"]).items] == [req.pk]
    assert selectors.approval_inbox(actor=team["boss"]).items == []

    services.approval_decide(actor=team["east_head"], request=req, decision="approve")
    req.refresh_from_db()
    assert req.status == "approved" and req.decided_at is not None
    assert outcomes == [("approved", note.pk, "")]
    told = Notification.objects.get(recipient=team["rep"])
    assert told.title.startswith("easthead approved")
    assert selectors.approval_inbox(actor=team["east_head"]).items == []
    trail = AuditEvent.objects.filter(entity="approval", object_id=str(req.pk))
    assert trail.count() == 2
    assert AuditEvent.objects.filter(
        entity="note", object_id=str(note.pk), changes__approval=["pending", "approved"]
    ).exists()
    with pytest.raises(Conflict):
        services.approval_decide(actor=team["east_head"], request=req, decision="approve")


def test_reject_needs_a_comment_and_resubmit_makes_a_new_request(team: dict[str, User]) -> None:
    note = _note(team["rep"])
    first = services.approval_request(actor=team["rep"], entity="note", obj=note)
    with pytest.raises(Conflict, match="already pending"):
        services.approval_request(actor=team["rep"], entity="note", obj=note)
    with pytest.raises(ValidationFailed) as info:
        services.approval_decide(actor=team["east_head"], request=first, decision="reject")
    assert info.value.errors[0].field == "comment"
    assert ApprovalRequest.objects.get(pk=first.pk).status == "pending"

    services.approval_decide(
        actor=team["east_head"], request=first, decision="reject", comment="Too cheap"
    )
    assert outcomes == [("rejected", note.pk, "Too cheap")]
    told = Notification.objects.get(recipient=team["rep"])
    assert "rejected" in told.title and told.body == "Too cheap"

    second = services.approval_request(actor=team["rep"], entity="note", obj=note)
    assert second.pk != first.pk
    history = selectors.approvals_for_object(entity="note", object_id=note.pk)
    assert [(r.pk, r.status) for r in history] == [(second.pk, "pending"), (first.pk, "rejected")]
    assert ApprovalDecision.objects.get(request=first).comment == "Too cheap"


def test_only_the_pending_approver_decides(team: dict[str, User]) -> None:
    note = _note(team["rep"])
    req = services.approval_request(actor=team["rep"], entity="note", obj=note)
    with pytest.raises(OutOfScope):
        services.approval_decide(actor=team["outsider"], request=req, decision="approve")
    with pytest.raises(NotPermitted):
        services.approval_decide(actor=team["rep"], request=req, decision="approve")
    with pytest.raises(OutOfScope):
        selectors.approval_get_for_user(actor=team["outsider"], pk=req.pk)
    assert ApprovalRequest.objects.get(pk=req.pk).status == "pending"
    assert outcomes == []


def test_chain_moves_to_the_next_approver(team: dict[str, User]) -> None:
    note = _note(team["rep"])
    req = services.approval_request(
        actor=team["rep"],
        entity="note",
        obj=note,
        approvers=[team["east_head"], team["boss"]],
    )
    services.approval_decide(actor=team["east_head"], request=req, decision="approve")
    assert ApprovalRequest.objects.get(pk=req.pk).status == "pending"
    assert outcomes == []
    assert Notification.objects.filter(recipient=team["boss"]).count() == 1
    services.approval_decide(actor=team["boss"], request=req, decision="approve", comment="ok")
    assert ApprovalRequest.objects.get(pk=req.pk).status == "approved"
    assert list(ApprovalStep.objects.filter(request=req).values_list("status", flat=True)) == [
        "approved",
        "approved",
    ]


def test_cancel_by_requester(team: dict[str, User]) -> None:
    note = _note(team["rep"])
    req = services.approval_request(actor=team["rep"], entity="note", obj=note)
    with pytest.raises(NotPermitted):
        services.approval_cancel(actor=team["east_head"], request=req)
    services.approval_cancel(actor=team["rep"], request=req)
    assert ApprovalRequest.objects.get(pk=req.pk).status == "cancelled"
    assert outcomes == [("cancelled", note.pk, "")]


def test_no_manager_means_no_request(team: dict[str, User]) -> None:
    root = identity_services.department_root()
    root.head = None
    root.save(update_fields=["head"])
    loner = factories.user("sales", department=factories.department("独立部"))
    with pytest.raises(Conflict, match="no manager"):
        services.approval_request(actor=loner, entity="note", obj=_note(loner))


def test_approver_out_of_scope_sees_the_summary_not_the_record(
    team: dict[str, User], client: Client
) -> None:
    """The south head may not view the east rep's note, yet decides on its approval."""
    note = _note(team["rep"])
    approver = team["south_head"]
    approver.language = "en"
    approver.save()
    assert not permissions.in_scope(approver, "note", note)
    req = services.approval_request(
        actor=team["rep"], entity="note", obj=note, approvers=[approver]
    )
    client.force_login(approver)
    page = client.get(reverse("automation:approval_detail", args=[req.pk])).content.decode()
    assert "Discount 30%" in page and "¥12,345.00" in page
    assert f"/notes/{note.pk}/" not in page  # no link into a record they may not open
    resp = client.post(
        reverse("automation:approval_detail", args=[req.pk]),
        {"decision": "reject", "comment": ""},
    )
    assert resp.status_code == 400 and "Say why you reject it." in resp.content.decode()
    resp = client.post(
        reverse("automation:approval_detail", args=[req.pk]),
        {"decision": "approve", "comment": "fine"},
    )
    assert resp.status_code == 302
    assert ApprovalRequest.objects.get(pk=req.pk).status == "approved"
    # Whoever may view the note gets the link (the rep's sales role has no note grant).
    client.force_login(User.objects.get(username="ceo"))
    page = client.get(reverse("automation:approval_detail", args=[req.pk])).content.decode()
    assert "Open the record" in page
    # A stranger gets 404.
    client.force_login(team["outsider"])
    assert client.get(reverse("automation:approval_detail", args=[req.pk])).status_code == 404


def test_inbox_page_and_api(team: dict[str, User], client: Client, api_client: Any) -> None:
    note = _note(team["rep"])
    req = services.approval_request(actor=team["rep"], entity="note", obj=note)
    client.force_login(team["east_head"])
    page = client.get(reverse("automation:approvals")).content.decode()
    assert "Discount 30%" in page
    sent = client.get(reverse("automation:approvals") + "?box=sent").content.decode()
    assert "Discount 30%" not in sent

    api = api_client.login(team["outsider"])
    assert api.get(f"approvals/{req.pk}").status_code == 404
    assert api.post(f"approvals/{req.pk}/approve", {}).status_code == 404
    api = api_client.login(team["east_head"])
    assert api.get("approvals").json()["count"] == 1
    assert api.get("approvals", box="nope").status_code == 422
    resp = api.post(f"approvals/{req.pk}/reject", {})
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "comment"
    resp = api.post(f"approvals/{req.pk}/reject", {"comment": "no"})
    assert resp.status_code == 200 and resp.json()["status"] == "rejected"
    assert resp.json()["decisions"][0]["comment"] == "no"
    assert api.post(f"approvals/{req.pk}/approve", {}).status_code == 409
