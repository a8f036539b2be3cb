"""The periodic work of finance (registered in ``guanxi.schedule``): expire contracts past
their end date, create renewal tasks ahead of it, remind owners of overdue installments.

Each is idempotent: an occasion is claimed by inserting its :class:`Reminder` key (unique)
in the same transaction as the work, so a second run, a late run or two workers at once
never send twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from guanxi.core import events
from guanxi.core.errors import DomainError
from guanxi.finance import money
from guanxi.finance.models import Contract, FinanceSettings, Installment, Reminder
from guanxi.finance.payments import PAYMENT_OVERDUE, RECEIVABLE_STATUSES
from guanxi.finance.receivables import BUCKETS, bucket_of
from guanxi.finance.services import CONTRACT_EXPIRED, CONTRACT_EXPIRING, _set_status

logger = logging.getLogger("guanxi.finance")
S = Contract.Status
BATCH = 500


def _url(contract_id: int) -> str:
    try:
        return reverse("finance:contract_detail", args=[contract_id])
    except NoReverseMatch:
        return ""


def _claim(key: str, contract_id: int, now: dt.datetime) -> bool:
    """Insert the reminder key; False when this occasion was handled already."""
    try:
        with transaction.atomic():
            Reminder.objects.create(key=key, contract_id=contract_id, sent_at=now)
    except IntegrityError:
        return False
    return True


def contracts_expire(*, today: dt.date | None = None) -> int:
    """Active contracts whose end date has passed become ``expired``; returns how many."""
    today = today or timezone.localdate()
    ids = list(
        Contract.objects.filter(status=S.ACTIVE, ends_on__lt=today).values_list("pk", flat=True)
    )
    done = 0
    for pk in ids:
        with transaction.atomic():
            contract = Contract.objects.select_for_update().filter(pk=pk, status=S.ACTIVE).first()
            if contract is None:
                continue
            _set_status(
                actor=None,
                contract=contract,
                status=S.EXPIRED,
                event=CONTRACT_EXPIRED,
                extra={"ends_on": str(contract.ends_on)},
            )
            done += 1
    return done


def contracts_create_renewal_tasks(
    *, today: dt.date | None = None, now: dt.datetime | None = None
) -> int:
    """A renewal task for the owner of each active contract ending within the configured
    number of days (default 30), once per contract and end date; returns how many."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    days = FinanceSettings.current().renewal_days
    candidates = list(
        Contract.objects.filter(
            status=S.ACTIVE,
            ends_on__gte=today,
            ends_on__lte=today + dt.timedelta(days=days),
            owner__isnull=False,
            owner__is_active=True,
        )
        .select_related("owner", "account")
        .order_by("ends_on", "pk")
    )
    created = 0
    for contract in candidates:
        key = f"renewal:{contract.pk}:{contract.ends_on}"
        with transaction.atomic():
            if not _claim(key, contract.pk, now):
                continue
            owner = contract.owner
            assert owner is not None and contract.ends_on is not None
            try:
                tz = zoneinfo.ZoneInfo(owner.time_zone or settings.TIME_ZONE)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
            due_day = max(today, contract.ends_on - dt.timedelta(days=7))
            due_at = dt.datetime.combine(due_day, dt.time(9, 0), tzinfo=tz)
            from guanxi.activities.models import Task
            from guanxi.activities.services import notification_create, task_create

            with translation.override(owner.language or settings.LANGUAGE_CODE):
                title = _("Renew contract %(number)s with %(account)s (ends %(date)s)") % {
                    "number": contract.number,
                    "account": contract.account.name,
                    "date": contract.ends_on.isoformat(),
                }
                task_id = None
                try:
                    task = task_create(
                        actor=owner,
                        title=title[:200],
                        description=contract.title,
                        due_at=due_at,
                        priority=Task.Priority.HIGH,
                        target_entity="contract",
                        target_id=contract.pk,
                    )
                    task_id = task.pk
                except DomainError:  # the owner's role has no tasks: a notification still goes
                    logger.info(
                        "no renewal task for contract %s: owner cannot have tasks", contract.pk
                    )
                notification_create(
                    recipient=owner,
                    verb="contract.expiring",
                    title=title[:200],
                    body=contract.title,
                    url=_url(contract.pk),
                    target_entity="contract",
                    target_id=contract.pk,
                    now=now,
                )
            events.emit(
                CONTRACT_EXPIRING,
                {
                    "id": contract.pk,
                    "owner_id": owner.pk,
                    "ends_on": contract.ends_on.isoformat(),
                    "task_id": task_id,
                },
            )
            created += 1
    return created


def installments_remind_overdue(
    *, today: dt.date | None = None, now: dt.datetime | None = None
) -> int:
    """Notify the contract owner of each overdue installment, once per installment and
    aging bucket (so again when 0–30 becomes 31–60 …); returns how many were sent."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    labels = dict(BUCKETS)
    sent = 0
    last_id = 0
    while True:
        batch = list(
            Installment.objects.filter(
                contract__status__in=RECEIVABLE_STATUSES,
                contract__owner__isnull=False,
                due_on__lt=today,
                received__lt=F("amount"),
                pk__gt=last_id,
            )
            .select_related("contract", "contract__owner", "contract__account")
            .order_by("pk")[:BATCH]
        )
        if not batch:
            break
        last_id = batch[-1].pk
        keys = {i.pk: f"overdue:{i.pk}:{bucket_of(i.due_on, today)}" for i in batch}
        done = set(Reminder.objects.filter(key__in=keys.values()).values_list("key", flat=True))
        for inst in batch:
            key = keys[inst.pk]
            if key in done:
                continue
            contract = inst.contract
            owner = contract.owner
            assert owner is not None
            with transaction.atomic():
                if not _claim(key, contract.pk, now):
                    continue
                bucket = bucket_of(inst.due_on, today)
                late = (today - inst.due_on).days
                due: Decimal = inst.outstanding
                if owner.is_active:
                    from guanxi.activities.services import notification_create

                    with translation.override(owner.language or settings.LANGUAGE_CODE):
                        notification_create(
                            recipient=owner,
                            verb="payment.overdue",
                            title=(
                                _(
                                    "Overdue %(days)s days: %(amount)s on %(number)s "
                                    "(%(account)s), installment %(n)s"
                                )
                                % {
                                    "days": late,
                                    "amount": money.fmt(due, contract.currency),
                                    "number": contract.number,
                                    "account": contract.account.name,
                                    "n": inst.position,
                                }
                            )[:200],
                            body=str(labels[bucket]),
                            url=_url(contract.pk),
                            target_entity="contract",
                            target_id=contract.pk,
                            now=now,
                        )
                events.emit(
                    PAYMENT_OVERDUE,
                    {
                        "installment_id": inst.pk,
                        "contract_id": contract.pk,
                        "owner_id": owner.pk,
                        "due_on": inst.due_on.isoformat(),
                        "days_overdue": late,
                        "bucket": bucket,
                        "outstanding": str(due),
                        "currency": contract.currency,
                    },
                )
                sent += 1
    return sent
