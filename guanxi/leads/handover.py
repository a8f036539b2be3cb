"""Handover (离职交接): move everything a user owns to another user in one action."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext as _

from guanxi.activities.models import Task
from guanxi.activities.services import tasks_transfer
from guanxi.core import audit, permissions
from guanxi.core.errors import FieldError, NotPermitted, ValidationFailed
from guanxi.core.models import AuditEvent
from guanxi.customers.models import Account, Contact
from guanxi.customers.services import account_transfer, contact_transfer
from guanxi.leads.models import Lead
from guanxi.leads.services import lead_transfer

if TYPE_CHECKING:
    from guanxi.identity.models import User

ENTITIES = ("lead", "account", "contact", "deal", "contract", "task")


def handover_preview(from_user: User) -> dict[str, int]:
    """How many leads, accounts, contacts, deals, contracts and open tasks ``from_user``
    holds."""
    from guanxi.finance.models import Contract
    from guanxi.sales.models import Deal

    return {
        "lead": Lead.objects.filter(owner=from_user).count(),
        "account": Account.objects.filter(owner=from_user).count(),
        "contact": Contact.objects.filter(owner=from_user).count(),
        "deal": Deal.objects.filter(owner=from_user).count(),
        "contract": Contract.objects.filter(owner=from_user).count(),
        "task": Task.objects.filter(assignee=from_user, done_at__isnull=True).count(),
    }


def handover_execute(
    *,
    actor: User,
    from_user: User,
    to_user: User,
    entities: list[str] | tuple[str, ...] | None = None,
) -> dict[str, int]:
    """Transfer all of ``from_user``'s records of ``entities`` (default: all) to ``to_user``.

    Administrators only; one transaction; one TRANSFER audit event per record (through the
    apps' transfer services). Returns how many records of each kind moved.
    """
    if not permissions.is_admin(actor):
        raise NotPermitted()
    chosen = list(entities) if entities else list(ENTITIES)
    unknown = [e for e in chosen if e not in ENTITIES]
    if unknown:
        raise ValidationFailed(
            [FieldError("entities", _("Unknown: %(names)s") % {"names": ", ".join(unknown)})]
        )
    if from_user.pk == to_user.pk:
        raise ValidationFailed([FieldError("to_user", _("Choose a different user."))])
    if not to_user.is_active:
        raise ValidationFailed([FieldError("to_user", _("This user is deactivated."))])
    result = dict.fromkeys(chosen, 0)
    with transaction.atomic():
        if "lead" in chosen:
            ids = list(Lead.objects.filter(owner=from_user).values_list("pk", flat=True))
            result["lead"] = lead_transfer(actor=actor, records=ids, to_user=to_user)
        if "account" in chosen:
            ids = list(Account.objects.filter(owner=from_user).values_list("pk", flat=True))
            result["account"] = account_transfer(actor=actor, records=ids, to_user=to_user)
            # The old owner keeps nothing: collaborations pass to the new owner too.
            through = Account.collaborators.through
            links = list(through.objects.filter(user_id=from_user.pk))
            for link in links:
                through.objects.get_or_create(account_id=link.account_id, user_id=to_user.pk)
                audit.record(
                    actor=actor,
                    action=AuditEvent.Action.TRANSFER,
                    entity="account",
                    object_id=link.account_id,
                    changes={"collaborators": [from_user.pk, to_user.pk]},
                )
            through.objects.filter(user_id=from_user.pk).delete()
            result["collaboration"] = len(links)
        if "contact" in chosen:
            ids = list(Contact.objects.filter(owner=from_user).values_list("pk", flat=True))
            result["contact"] = contact_transfer(actor=actor, records=ids, to_user=to_user)
        if "deal" in chosen:
            from guanxi.sales.models import Deal
            from guanxi.sales.services import deal_transfer

            ids = list(Deal.objects.filter(owner=from_user).values_list("pk", flat=True))
            result["deal"] = deal_transfer(actor=actor, records=ids, to_user=to_user)
            deal_links = Deal.collaborators.through
            for deal_link in list(deal_links.objects.filter(user_id=from_user.pk)):
                deal_links.objects.get_or_create(deal_id=deal_link.deal_id, user_id=to_user.pk)
                audit.record(
                    actor=actor,
                    action=AuditEvent.Action.TRANSFER,
                    entity="deal",
                    object_id=deal_link.deal_id,
                    changes={"collaborators": [from_user.pk, to_user.pk]},
                )
            deal_links.objects.filter(user_id=from_user.pk).delete()
        if "contract" in chosen:
            from guanxi.finance.models import Contract
            from guanxi.finance.services import contract_transfer

            ids = list(Contract.objects.filter(owner=from_user).values_list("pk", flat=True))
            result["contract"] = contract_transfer(actor=actor, records=ids, to_user=to_user)
        if "task" in chosen:
            result["task"] = tasks_transfer(actor=actor, from_user=from_user, to_user=to_user)
    return result
