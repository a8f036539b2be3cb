"""Deal services: creation defaults, stage rules, loss reasons, history, won → customer,
pipeline / stage / loss-reason administration."""

from __future__ import annotations

from decimal import Decimal

import pytest

from guanxi.core.errors import Conflict, NotPermitted, OutOfScope, ValidationFailed
from guanxi.core.models import AuditEvent
from guanxi.customers.models import Account
from guanxi.sales import pipelines, services
from guanxi.sales.models import Deal, DealStageChange, LossReason, Pipeline, Stage
from guanxi.tests_support import crm_factories, factories

pytestmark = pytest.mark.django_db


def stage(name: str, pipeline: str = "新客户") -> Stage:
    return Stage.objects.get(pipeline__name=pipeline, name=name)


def test_seeded_pipelines_and_loss_reasons() -> None:
    assert list(Pipeline.objects.values_list("name", "is_default")) == [
        ("新客户", True),
        ("续费/增购", False),
    ]
    stages = list(
        Stage.objects.filter(pipeline__name="新客户").values_list("name", "probability", "kind")
    )
    assert stages == [
        ("初步接触", 10, "open"),
        ("需求确认", 30, "open"),
        ("方案/报价", 50, "open"),
        ("商务谈判", 70, "open"),
        ("赢单", 100, "won"),
        ("输单", 0, "lost"),
    ]
    assert stage("方案/报价").required_fields == ["amount", "expected_close_date"]
    assert list(LossReason.objects.values_list("name_zh", flat=True)) == [
        "价格",
        "功能",
        "竞争对手",
        "预算",
        "时机",
        "其他",
    ]


def test_create_defaults_history_and_audit() -> None:
    sales = factories.user("sales")
    deal = crm_factories.deal(sales, amount="12000.555", tags="重点, 华东")
    assert deal.pipeline.name == "新客户"
    assert deal.stage.name == "初步接触"
    assert deal.probability == 10
    assert deal.status == Deal.Status.OPEN
    assert deal.owner == sales
    assert deal.currency == "CNY"
    assert deal.amount == Decimal("12000.56")  # ROUND_HALF_UP to the cent
    assert deal.tags == ["重点", "华东"]
    change = DealStageChange.objects.get(deal=deal)
    assert change.from_stage is None and change.to_stage == deal.stage
    event = AuditEvent.objects.get(entity="deal", object_id=str(deal.pk))
    assert event.action == "create" and event.changes["amount"] == [None, "12000.56"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount", "abc"),
        ("amount", "-1"),
        ("currency", "RMB1"),
        ("probability", 101),
        ("expected_close_date", "2026-13-01"),
        ("account_id", None),
        ("name", ""),
    ],
)
def test_create_rejects_bad_input_naming_the_field(field: str, value: object) -> None:
    sales = factories.user("sales")
    account = crm_factories.account(sales)
    data = {"name": "商机", "account_id": account.pk, field: value}
    with pytest.raises(ValidationFailed) as exc:
        services.deal_create(actor=sales, data=data)
    assert field in {e.field for e in exc.value.errors}
    assert not Deal.objects.exists()


def test_account_out_of_scope_is_no_such_account() -> None:
    sales = factories.user("sales")
    other = factories.user("sales")
    theirs = crm_factories.account(other)
    with pytest.raises(ValidationFailed) as exc:
        services.deal_create(actor=sales, data={"name": "x", "account_id": theirs.pk})
    assert exc.value.errors[0].field == "account_id"


def test_entering_quote_stage_requires_amount_and_close_date() -> None:
    sales = factories.user("sales")
    deal = crm_factories.deal(sales)
    with pytest.raises(ValidationFailed) as exc:
        services.deal_move_stage(actor=sales, deal=deal, stage=stage("方案/报价"))
    assert {e.field for e in exc.value.errors} == {"amount", "expected_close_date"}
    assert "方案/报价" in exc.value.message
    deal.refresh_from_db()
    assert deal.stage.name == "初步接触"
    assert DealStageChange.objects.filter(deal=deal).count() == 1

    services.deal_update(
        actor=sales, deal=deal, data={"amount": "50000", "expected_close_date": "2026-06-30"}
    )
    moved = services.deal_move_stage(actor=sales, deal=deal, stage=stage("方案/报价"))
    assert moved.stage.name == "方案/报价"
    assert moved.probability == 50
    # Clearing a field the current stage requires is refused as well.
    with pytest.raises(ValidationFailed) as exc:
        services.deal_update(actor=sales, deal=moved, data={"amount": None})
    assert exc.value.errors[0].field == "amount"
    moved.refresh_from_db()
    assert moved.amount == Decimal("50000.00")


def test_losing_requires_reason_and_note() -> None:
    sales = factories.user("sales")
    deal = crm_factories.deal(sales)
    lost = stage("输单")
    with pytest.raises(ValidationFailed) as exc:
        services.deal_move_stage(actor=sales, deal=deal, stage=lost)
    assert {e.field for e in exc.value.errors} == {"loss_reason", "loss_note"}
    inactive = LossReason.objects.create(name_zh="停用", active=False)
    with pytest.raises(ValidationFailed) as exc:
        services.deal_move_stage(
            actor=sales, deal=deal, stage=lost, loss_reason_id=inactive.pk, loss_note="x"
        )
    assert exc.value.errors[0].field == "loss_reason"
    price = LossReason.objects.get(name_zh="价格")
    deal = services.deal_move_stage(
        actor=sales, deal=deal, stage=lost, loss_reason_id=price.pk, loss_note="对方选了更便宜的"
    )
    assert deal.status == Deal.Status.LOST
    assert deal.lost_at is not None and deal.won_at is None
    assert deal.loss_reason == price and deal.probability == 0
    # Reopening clears the loss.
    deal = services.deal_move_stage(actor=sales, deal=deal, stage=stage("需求确认"))
    assert deal.status == Deal.Status.OPEN
    assert deal.lost_at is None and deal.loss_reason is None and deal.loss_note == ""


def test_history_records_every_change_with_time_in_stage() -> None:
    sales = factories.user("sales")
    deal = crm_factories.deal(sales, amount="100", expected_close_date="2026-01-31")
    for name in ("需求确认", "方案/报价", "商务谈判"):
        services.deal_move_stage(actor=sales, deal=deal, stage=stage(name))
    rows = list(DealStageChange.objects.filter(deal=deal).order_by("changed_at", "id"))
    assert [(r.from_stage_name, r.to_stage_name) for r in rows] == [
        ("", "初步接触"),
        ("初步接触", "需求确认"),
        ("需求确认", "方案/报价"),
        ("方案/报价", "商务谈判"),
    ]
    assert all(r.time_in_from_stage is not None for r in rows[1:])
    assert all(r.actor == sales for r in rows)
    audited = AuditEvent.objects.filter(entity="deal", object_id=str(deal.pk), action="update")
    assert [e.changes["stage"][1] for e in audited.order_by("id")] == [
        "需求确认",
        "方案/报价",
        "商务谈判",
    ]


def test_winning_makes_the_account_a_customer_audited() -> None:
    sales = factories.user("sales")
    account = crm_factories.account(sales)
    assert account.lifecycle_stage == Account.Lifecycle.PROSPECT
    deal = crm_factories.deal(
        sales, account_id=account.pk, amount="80000", expected_close_date="2026-03-01"
    )
    won = services.deal_move_stage(actor=sales, deal=deal, stage=stage("赢单"))
    assert won.status == Deal.Status.WON and won.won_at is not None and won.probability == 100
    account.refresh_from_db()
    assert account.lifecycle_stage == Account.Lifecycle.CUSTOMER
    event = AuditEvent.objects.filter(entity="account", object_id=str(account.pk)).latest("id")
    assert event.changes["lifecycle_stage"] == ["prospect", "customer"]
    assert event.actor == sales
    # A VIP stays a VIP.
    vip = crm_factories.account(sales, lifecycle_stage="vip")
    deal2 = crm_factories.deal(
        sales, account_id=vip.pk, amount="1", expected_close_date="2026-03-01"
    )
    services.deal_move_stage(actor=sales, deal=deal2, stage=stage("赢单"))
    vip.refresh_from_db()
    assert vip.lifecycle_stage == Account.Lifecycle.VIP


def test_move_to_another_pipelines_stage_is_refused() -> None:
    sales = factories.user("sales")
    deal = crm_factories.deal(sales)
    with pytest.raises(ValidationFailed) as exc:
        services.deal_move_stage(actor=sales, deal=deal, stage=stage("需求确认", "续费/增购"))
    assert exc.value.errors[0].field == "stage"


def test_update_can_change_pipeline_with_history() -> None:
    sales = factories.user("sales")
    deal = crm_factories.deal(sales)
    renewal = Pipeline.objects.get(name="续费/增购")
    deal = services.deal_update(actor=sales, deal=deal, data={"pipeline_id": renewal.pk})
    assert deal.pipeline == renewal and deal.stage.pipeline == renewal
    assert DealStageChange.objects.filter(deal=deal).count() == 2


def test_colleague_cannot_move_or_delete() -> None:
    sales = factories.user("sales")
    other = factories.user("sales")
    deal = crm_factories.deal(sales)
    with pytest.raises(OutOfScope):
        services.deal_move_stage(actor=other, deal=deal, stage=stage("需求确认"))
    with pytest.raises(NotPermitted):  # the sales role has no delete
        services.deal_delete(actor=sales, deal=deal)
    manager = factories.user("manager")
    services.deal_delete(actor=manager, deal=deal)
    assert not Deal.objects.exists()
    assert AuditEvent.objects.filter(entity="deal", action="delete").count() == 1


def test_collaborator_sees_and_edits_the_deal() -> None:
    sales = factories.user("sales")
    helper = factories.user("sales")
    deal = crm_factories.deal(sales, collaborator_ids=[helper.pk])
    moved = services.deal_move_stage(actor=helper, deal=deal, stage=stage("需求确认"))
    assert moved.stage.name == "需求确认"


def test_transfer_audited() -> None:
    sales = factories.user("sales")
    other = factories.user("sales")
    deal = crm_factories.deal(sales)
    assert services.deal_transfer(actor=sales, records=[deal], to_user=other) == 1
    deal.refresh_from_db()
    assert deal.owner == other
    assert AuditEvent.objects.filter(entity="deal", action="transfer").count() == 1


def test_contacts_with_roles() -> None:
    sales = factories.user("sales")
    account = crm_factories.account(sales)
    contact = crm_factories.contact(sales, account_id=account.pk)
    deal = crm_factories.deal(
        sales,
        account_id=account.pk,
        contacts=[{"contact_id": contact.pk, "role": "decision_maker"}],
    )
    assert list(deal.deal_contacts.values_list("contact_id", "role")) == [
        (contact.pk, "decision_maker")
    ]
    with pytest.raises(ValidationFailed) as exc:
        services.deal_update(
            actor=sales, deal=deal, data={"contacts": [{"contact_id": contact.pk, "role": "boss"}]}
        )
    assert exc.value.errors[0].field == "contacts"


# --- Administration ---------------------------------------------------------------------


def test_only_admins_edit_pipelines() -> None:
    sales = factories.user("sales")
    with pytest.raises(NotPermitted):
        pipelines.pipeline_save(actor=sales, pipeline=None, data={"name": "渠道"})
    with pytest.raises(NotPermitted):
        pipelines.loss_reason_save(actor=sales, reason=None, data={"name_zh": "x"})


def test_new_pipeline_gets_standard_stages_and_one_default() -> None:
    admin = factories.admin()
    p = pipelines.pipeline_save(
        actor=admin, pipeline=None, data={"name": "渠道", "is_default": True}
    )
    assert p.stages.count() == 6
    assert list(Pipeline.objects.filter(is_default=True)) == [p]
    with pytest.raises(ValidationFailed) as exc:
        pipelines.pipeline_save(actor=admin, pipeline=p, data={"active": False})
    assert exc.value.errors[0].field == "active"


def test_stage_in_use_moves_its_deals_before_deletion() -> None:
    admin = factories.admin()
    sales = factories.user("sales")
    deals = [crm_factories.deal(sales) for _ in range(3)]
    first = stage("初步接触")
    with pytest.raises(Conflict) as exc:
        pipelines.stage_delete(actor=admin, stage=first)
    assert "3" in exc.value.message
    with pytest.raises(ValidationFailed):
        pipelines.stage_delete(actor=admin, stage=first, move_to=stage("需求确认", "续费/增购"))
    moved = pipelines.stage_delete(actor=admin, stage=first, move_to=stage("需求确认"))
    assert moved == 3
    assert not Stage.objects.filter(pk=first.pk).exists()
    for deal in deals:
        deal.refresh_from_db()
        assert deal.stage.name == "需求确认" and deal.probability == 30
        last = DealStageChange.objects.filter(deal=deal).latest("id")
        assert (last.from_stage_name, last.to_stage_name) == ("初步接触", "需求确认")


def test_stage_rules_validated() -> None:
    admin = factories.admin()
    p = Pipeline.objects.get(name="新客户")
    with pytest.raises(ValidationFailed) as exc:
        pipelines.stage_save(
            actor=admin,
            stage=None,
            data={"pipeline_id": p.pk, "name": "试用", "probability": 150, "kind": "open"},
        )
    assert exc.value.errors[0].field == "probability"
    with pytest.raises(ValidationFailed) as exc:
        pipelines.stage_save(
            actor=admin,
            stage=None,
            data={
                "pipeline_id": p.pk,
                "name": "试用",
                "probability": 40,
                "kind": "open",
                "required_fields": ["budget"],
            },
        )
    assert exc.value.errors[0].field == "required_fields"
    trial = pipelines.stage_save(
        actor=admin,
        stage=None,
        data={
            "pipeline_id": p.pk,
            "name": "试用",
            "probability": 40,
            "kind": "open",
            "required_fields": ["next_step"],
        },
    )
    sales = factories.user("sales")
    deal = crm_factories.deal(sales)
    with pytest.raises(ValidationFailed) as exc:
        services.deal_move_stage(actor=sales, deal=deal, stage=trial)
    assert exc.value.errors[0].field == "next_step"


def test_loss_reason_in_use_cannot_be_deleted() -> None:
    admin = factories.admin()
    sales = factories.user("sales")
    reason = pipelines.loss_reason_save(
        actor=admin, reason=None, data={"name_zh": "服务", "name_en": "Service"}
    )
    deal = crm_factories.deal(sales)
    services.deal_move_stage(
        actor=sales, deal=deal, stage=stage("输单"), loss_reason_id=reason.pk, loss_note="售后差"
    )
    with pytest.raises(Conflict):
        pipelines.loss_reason_delete(actor=admin, reason=reason)
    pipelines.loss_reason_save(actor=admin, reason=reason, data={"active": False})
    reason.refresh_from_db()
    assert reason.active is False
    assert AuditEvent.objects.filter(entity="loss_reason").count() == 2
