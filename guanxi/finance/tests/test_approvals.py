"""A contract above the threshold waits for the owner's department head."""

from __future__ import annotations

import pytest

from guanxi.activities.models import Notification
from guanxi.automation.models import ApprovalRequest
from guanxi.automation.services import approval_decide
from guanxi.core.errors import Conflict, NotPermitted
from guanxi.finance import services
from guanxi.finance.models import Contract
from guanxi.finance.tests import factories as ff
from guanxi.identity.models import Department
from guanxi.tests_support import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def team() -> dict[str, object]:
    dept = factories.department("华东区")
    head = factories.user("manager", department=dept, username="zhaolei")
    Department.objects.filter(pk=dept.pk).update(head=head)
    sales = factories.user("sales", department=dept, username="zhangwei")
    ff.settings(threshold="100000.00")
    return {"head": head, "sales": sales}


def test_big_contract_needs_department_head(team: dict[str, object]) -> None:
    sales, head = team["sales"], team["head"]
    small = ff.contract(sales, amount="100000.00")  # at the threshold: no approval
    assert small.status == Contract.Status.ACTIVE
    big = ff.contract(sales, amount="100000.01", activate=False)
    services.contract_activate(actor=sales, contract=big)
    big.refresh_from_db()
    assert big.status == Contract.Status.PENDING and big.approval_request_id
    request = ApprovalRequest.objects.get(pk=big.approval_request_id)
    assert list(request.steps.values_list("approver__username", flat=True)) == ["zhaolei"]
    assert Notification.objects.filter(recipient=head, target_entity="contract").exists()
    with pytest.raises(Conflict):  # pending: not again
        services.contract_activate(actor=sales, contract=big)
    with pytest.raises(NotPermitted):  # the requester cannot approve themself
        approval_decide(actor=sales, request=request, decision="approve")
    approval_decide(actor=head, request=request, decision="approve", comment="同意")
    big.refresh_from_db()
    assert big.status == Contract.Status.ACTIVE and big.activated_at is not None


def test_rejection_returns_to_draft(team: dict[str, object]) -> None:
    sales, head = team["sales"], team["head"]
    big = ff.contract(sales, amount="500000", activate=False)
    services.contract_activate(actor=sales, contract=big)
    big.refresh_from_db()
    approval_decide(
        actor=head, request=big.approval_request_id, decision="reject", comment="价格太低"
    )
    big.refresh_from_db()
    assert big.status == Contract.Status.DRAFT
    # Fixed and sent again: a new request.
    services.contract_activate(actor=sales, contract=big)
    big.refresh_from_db()
    assert big.status == Contract.Status.PENDING
    assert ApprovalRequest.objects.filter(entity="contract", object_id=big.pk).count() == 2


def test_threshold_is_configurable(team: dict[str, object]) -> None:
    ff.settings(threshold="1000000")
    c = ff.contract(team["sales"], amount="500000")
    assert c.status == Contract.Status.ACTIVE
