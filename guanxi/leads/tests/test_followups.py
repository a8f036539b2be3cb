"""Leads as follow-up targets: last-contacted moves, history and timeline stay masked."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from guanxi.activities import selectors as activity_selectors
from guanxi.activities import services as activity_services
from guanxi.identity import selectors as identity_selectors
from guanxi.leads import services as lead_services
from guanxi.leads.models import Lead
from guanxi.tests_support import crm_factories, factories

pytestmark = pytest.mark.django_db


def test_followup_moves_last_contacted_and_status() -> None:
    sales = factories.user("sales")
    lead = crm_factories.lead(sales)
    assert lead.status == Lead.Status.NEW
    at = timezone.now() - dt.timedelta(hours=1)

    activity_services.activity_create(
        actor=sales,
        target_entity="lead",
        target_id=lead.pk,
        kind="call",
        content="聊了需求",
        occurred_at=at,
    )

    lead.refresh_from_db()
    assert lead.last_contacted_at == at
    assert lead.status == Lead.Status.CONTACTED


def test_older_followup_does_not_move_last_contacted_back() -> None:
    sales = factories.user("sales")
    lead = crm_factories.lead(sales)
    recent = timezone.now()
    activity_services.activity_create(
        actor=sales,
        target_entity="lead",
        target_id=lead.pk,
        kind="call",
        content="a",
        occurred_at=recent,
    )
    activity_services.activity_create(
        actor=sales,
        target_entity="lead",
        target_id=lead.pk,
        kind="note",
        content="b",
        occurred_at=recent - dt.timedelta(days=3),
    )
    lead.refresh_from_db()
    assert lead.last_contacted_at == recent


def test_followup_on_contact_moves_its_last_contacted() -> None:
    sales = factories.user("sales")
    contact = crm_factories.contact(sales)
    at = timezone.now()
    activity_services.activity_create(
        actor=sales,
        target_entity="contact",
        target_id=contact.pk,
        kind="wechat",
        content="hi",
        occurred_at=at,
    )
    contact.refresh_from_db()
    assert contact.last_contacted_at == at


def test_phone_changes_are_masked_in_history_and_timeline_for_masking_roles() -> None:
    admin = factories.admin()
    lead = crm_factories.lead(admin, mobile="13800138000")
    lead_services.lead_update(actor=admin, lead=lead, data={"mobile": "13900139000"})
    service = factories.user("service")  # sees leads with phone and e-mail masked

    history = identity_selectors.record_history(actor=service, entity="lead", object_id=lead.pk)
    timeline = activity_selectors.timeline(actor=service, target_entity="lead", target_id=lead.pk)

    rendered = repr([e.changes for e in history]) + repr([i.changes for i in timeline.items])
    assert "13900139000" not in rendered
    assert "13800138000" not in rendered
    assert "139****9000" in rendered

    # The admin, who sees phones, gets the real values.
    admin_history = identity_selectors.record_history(actor=admin, entity="lead", object_id=lead.pk)
    assert "13900139000" in repr([e.changes for e in admin_history])
