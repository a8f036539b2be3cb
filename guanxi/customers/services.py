"""Every write to accounts and contacts: validation, permission, dedup, audit, events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import ProtectedError, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core import audit, events, permissions
from guanxi.core.errors import Conflict, DuplicateOf, DuplicateRecord, FieldError, ValidationFailed
from guanxi.core.models import AuditEvent
from guanxi.customers import common, creditcode
from guanxi.customers.common import (
    Boolean,
    Choice,
    Date,
    DateTime,
    FieldSpec,
    LongText,
    Tags,
    Text,
)
from guanxi.customers.models import Account, Contact

if TYPE_CHECKING:
    from guanxi.identity.models import User

ACCOUNT_CREATED = events.define("account.created", "An account was created")
ACCOUNT_UPDATED = events.define("account.updated", "An account was changed")
ACCOUNT_DELETED = events.define("account.deleted", "An account was deleted")
ACCOUNT_TRANSFERRED = events.define("account.transferred", "An account changed owner")
CONTACT_CREATED = events.define("contact.created", "A contact was created")
CONTACT_UPDATED = events.define("contact.updated", "A contact was changed")
CONTACT_DELETED = events.define("contact.deleted", "A contact was deleted")
CONTACT_TRANSFERRED = events.define("contact.transferred", "A contact changed owner")

ACCOUNT_SPEC: dict[str, FieldSpec] = {
    "name": Text(200, required=True),
    "industry": Text(100),
    "size": Text(50),
    "province": Text(50),
    "city": Text(50),
    "address": Text(300),
    "website": Text(300),
    "tier": Choice(Account.Tier.values),
    "lifecycle_stage": Choice(Account.Lifecycle.values, blank=False),
    "special_requirements": LongText(),
    "tags": Tags(),
}
ACCOUNT_AUDIT = [*ACCOUNT_SPEC, "credit_code", "parent", "owner", "custom"]

CONTACT_SPEC: dict[str, FieldSpec] = {
    "name": Text(100, required=True),
    "title": Text(100),
    "wechat": Text(100),
    "birthday": Date(),
    "is_primary": Boolean(),
    "preferred_channel": Choice(Contact.Channel.values),
    "consent_marketing": Boolean(),
    "consent_source": Text(200),
    "consent_at": DateTime(),
    "tags": Tags(),
    "notes": LongText(),
    "last_contacted_at": DateTime(),
}
CONTACT_AUDIT = [
    *CONTACT_SPEC,
    "mobile",
    "phone",
    "phone_ext",
    "email",
    "account",
    "owner",
    "custom",
]


# --- Accounts ---------------------------------------------------------------------------


def _clean_account(actor: User, data: dict[str, Any], account: Account | None) -> dict[str, Any]:
    errors: list[FieldError] = []
    cleaned = common.clean(
        data, ACCOUNT_SPEC, entity_key="account", instance=account, errors=errors
    )
    if "credit_code" in data:
        code = creditcode.normalise(data["credit_code"])
        if code and not creditcode.is_valid(code):
            errors.append(
                FieldError(
                    "credit_code",
                    _("Not a valid unified social credit code (18 characters, check digit)."),
                )
            )
        cleaned["credit_code"] = code
    if "parent_id" in data:
        parent_id = data["parent_id"]
        if parent_id is None:
            cleaned["parent"] = None
        else:
            parent = (
                permissions.scoped_queryset(actor, "account").filter(pk=parent_id).first()
                if permissions.can(actor, "account", "view")
                else None
            )
            if parent is None:
                errors.append(FieldError("parent_id", _("No such account.")))
            elif account is not None and _is_descendant_or_self(parent, account):
                errors.append(
                    FieldError("parent_id", _("An account cannot be its own parent or ancestor."))
                )
            else:
                cleaned["parent"] = parent
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def _is_descendant_or_self(candidate: Account, account: Account) -> bool:
    """True when ``candidate`` is ``account`` or below it (walks up at most 20 levels)."""
    node: Account | None = candidate
    for _level in range(20):
        if node is None:
            return False
        if node.pk == account.pk:
            return True
        node = node.parent
    return True


def _collaborators(data: dict[str, Any]) -> list[Any] | None:
    if "collaborator_ids" not in data:
        return None
    from guanxi.identity.models import User as UserModel

    ids = sorted({int(i) for i in data["collaborator_ids"] or []})
    users = list(UserModel.objects.filter(pk__in=ids, is_active=True))
    if len(users) != len(ids):
        raise ValidationFailed([FieldError("collaborator_ids", _("No such active user."))])
    return users


def _check_credit_code(actor: User, code: str, exclude_pk: int | None) -> None:
    if not code:
        return
    same = Account.objects.filter(credit_code=code)
    if exclude_pk is not None:
        same = same.exclude(pk=exclude_pk)
    other = same.values_list("pk", flat=True).first()
    if other is not None:
        visible = permissions.can(actor, "account", "view") and (
            permissions.scoped_queryset(actor, "account").filter(pk=other).exists()
        )
        raise DuplicateRecord(
            DuplicateOf(type="account", id=other, match="credit_code", visible=visible),
            _("An account with this unified social credit code already exists."),
        )


def account_create(*, actor: User, data: dict[str, Any]) -> Account:
    """Create an account (default owner: the actor).

    ``data`` holds the model fields by name plus ``parent_id``, ``owner_id`` and
    ``collaborator_ids``. The credit code must be valid and unique (409 otherwise).
    """
    permissions.require(actor, "account", "create")
    cleaned = _clean_account(actor, data, None)
    owner = common.resolve_owner(
        actor=actor, entity_key="account", data=data, current_owner_id=common.KEEP
    )
    collaborators = _collaborators(data)
    _check_credit_code(actor, cleaned.get("credit_code", ""), None)
    account = Account(**cleaned, owner=owner, created_by=actor)
    common.create(
        actor=actor,
        entity_key="account",
        obj=account,
        audit_fields=ACCOUNT_AUDIT,
        event=ACCOUNT_CREATED,
        m2m={"collaborators": collaborators} if collaborators else None,
    )
    return account


def account_update(*, actor: User, account: Account, data: dict[str, Any]) -> Account:
    """Change an account in the actor's edit scope (partial; custom values merged)."""
    account = permissions.get_for_user(actor, "account", account.pk, "edit")
    cleaned = _clean_account(actor, data, account)
    owner = common.resolve_owner(
        actor=actor, entity_key="account", data=data, current_owner_id=account.owner_id
    )
    if owner is not common.KEEP:
        cleaned["owner"] = owner
    collaborators = _collaborators(data)
    if cleaned.get("credit_code") and cleaned["credit_code"] != account.credit_code:
        _check_credit_code(actor, cleaned["credit_code"], account.pk)
    common.update(
        actor=actor,
        entity_key="account",
        obj=account,
        cleaned=cleaned,
        audit_fields=ACCOUNT_AUDIT,
        event=ACCOUNT_UPDATED,
        m2m={"collaborators": collaborators} if collaborators is not None else None,
    )
    return account


def account_delete(*, actor: User, account: Account) -> None:
    """Delete an account in the actor's delete scope; refused while contacts remain."""
    account = permissions.get_for_user(actor, "account", account.pk, "delete")
    try:
        common.delete(actor=actor, entity_key="account", obj=account, event=ACCOUNT_DELETED)
    except ProtectedError as exc:
        raise Conflict(
            _("This account still has contacts or other records; move them first.")
        ) from exc


def account_transfer(*, actor: User, records: Iterable[Account | int], to_user: User | None) -> int:
    """Hand accounts over to ``to_user`` (None: the public pool); returns how many moved."""
    return common.transfer(
        actor=actor,
        entity_key="account",
        records=records,
        to_user=to_user,
        event=ACCOUNT_TRANSFERRED,
    )


def account_find_or_create_for_company(
    *, actor: User, name: str, data: dict[str, Any] | None = None, allow_duplicate: bool = False
) -> tuple[Account, bool]:
    """The account named ``name`` (or with ``data['credit_code']``) in the actor's scope,
    else a new one. A same-named account outside the scope is a 409 (visible=False)
    unless ``allow_duplicate``."""
    data = dict(data or {})
    name = (name or "").strip()
    code = creditcode.normalise(data.get("credit_code"))
    lookups = []
    if code:
        lookups.append(Account.objects.filter(credit_code=code))
    if name:
        lookups.append(Account.objects.filter(name=name))
    for qs in lookups:
        visible = (
            permissions.scoped_queryset(actor, "account", base=qs).order_by("id").first()
            if permissions.can(actor, "account", "view")
            else None
        )
        if visible is not None:
            return visible, False
        other = qs.order_by("id").values_list("pk", flat=True).first()
        if other is not None and not allow_duplicate:
            raise DuplicateRecord(
                DuplicateOf(type="account", id=other, match="name", visible=False),
                _("An account with this name exists, owned by someone else."),
            )
    return account_create(actor=actor, data={**data, "name": name}), True


# --- Contacts ---------------------------------------------------------------------------


def _clean_contact(actor: User, data: dict[str, Any], contact: Contact | None) -> dict[str, Any]:
    errors: list[FieldError] = []
    cleaned = common.clean(
        data, CONTACT_SPEC, entity_key="contact", instance=contact, errors=errors
    )
    if "account_id" in data:
        account_id = data["account_id"]
        if account_id is None:
            cleaned["account"] = None
        else:
            account = (
                permissions.scoped_queryset(actor, "account").filter(pk=account_id).first()
                if permissions.can(actor, "account", "view")
                else None
            )
            if account is None:
                errors.append(FieldError("account_id", _("No such account.")))
            else:
                cleaned["account"] = account
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def contact_create(
    *,
    actor: User,
    data: dict[str, Any],
    allow_duplicate: bool = False,
    dedup_exclude: tuple[str, Any] | None = None,
) -> Contact:
    """Create a contact (default owner: the actor).

    Same phone (mobile or landline, E.164) or e-mail as another contact or lead → 409
    (DuplicateRecord) unless ``allow_duplicate``.
    """
    permissions.require(actor, "contact", "create")
    cleaned = _clean_contact(actor, data, None)
    owner = common.resolve_owner(
        actor=actor, entity_key="contact", data=data, current_owner_id=common.KEEP
    )
    common.check_duplicate(
        actor=actor, values=cleaned, exclude=dedup_exclude, allow_duplicate=allow_duplicate
    )
    contact = Contact(**cleaned, owner=owner, created_by=actor)
    common.create(
        actor=actor,
        entity_key="contact",
        obj=contact,
        audit_fields=CONTACT_AUDIT,
        event=CONTACT_CREATED,
    )
    return contact


def contact_update(
    *, actor: User, contact: Contact, data: dict[str, Any], allow_duplicate: bool = False
) -> Contact:
    """Change a contact in the actor's edit scope; a changed phone / e-mail is dedup-checked."""
    contact = permissions.get_for_user(actor, "contact", contact.pk, "edit")
    cleaned = _clean_contact(actor, data, contact)
    owner = common.resolve_owner(
        actor=actor, entity_key="contact", data=data, current_owner_id=contact.owner_id
    )
    if owner is not common.KEEP:
        cleaned["owner"] = owner
    changed = {
        k: v
        for k in ("mobile_e164", "phone_e164", "email_norm")
        if (v := cleaned.get(k)) and v != getattr(contact, k)
    }
    if changed:
        common.check_duplicate(
            actor=actor,
            values=changed,
            exclude=("contact", contact.pk),
            allow_duplicate=allow_duplicate,
        )
    common.update(
        actor=actor,
        entity_key="contact",
        obj=contact,
        cleaned=cleaned,
        audit_fields=CONTACT_AUDIT,
        event=CONTACT_UPDATED,
    )
    return contact


def contact_delete(*, actor: User, contact: Contact) -> None:
    """Delete a contact in the actor's delete scope."""
    contact = permissions.get_for_user(actor, "contact", contact.pk, "delete")
    try:
        common.delete(actor=actor, entity_key="contact", obj=contact, event=CONTACT_DELETED)
    except ProtectedError as exc:
        raise Conflict(_("Other records still refer to this contact.")) from exc


def contact_transfer(*, actor: User, records: Iterable[Contact | int], to_user: User | None) -> int:
    """Hand contacts over to ``to_user`` (None: the public pool); returns how many moved."""
    return common.transfer(
        actor=actor,
        entity_key="contact",
        records=records,
        to_user=to_user,
        event=CONTACT_TRANSFERRED,
    )


def contact_mark_contacted(*, contact: Contact, at: dt.datetime) -> None:
    """A follow-up happened at ``at``: move the contact's last-contacted time forward."""
    if contact.last_contacted_at is not None and at <= contact.last_contacted_at:
        return
    contact.last_contacted_at = at
    Contact.objects.filter(pk=contact.pk).update(last_contacted_at=at, updated_at=timezone.now())
    if contact.account_id is not None:
        # Talking to a contact is following up their company: it keeps the account's
        # reclaim clock running too.
        account_mark_contacted(account=contact.account_id, at=at)


def account_mark_contacted(*, account: Account | int, at: dt.datetime) -> None:
    """A follow-up happened at ``at`` (on the account or one of its contacts): move the
    account's last-contacted time forward (never back). One UPDATE."""
    pk = account.pk if isinstance(account, Account) else int(account)
    Account.objects.filter(pk=pk).filter(
        Q(last_contacted_at__isnull=True) | Q(last_contacted_at__lt=at)
    ).update(last_contacted_at=at, updated_at=timezone.now())
    if isinstance(account, Account) and (
        account.last_contacted_at is None or account.last_contacted_at < at
    ):
        account.last_contacted_at = at


ACCOUNT_BECAME_CUSTOMER = events.define(
    "account.became_customer", "An account's lifecycle stage became customer (a deal was won)"
)
_BECOMES_CUSTOMER = {
    Account.Lifecycle.PROSPECT,
    Account.Lifecycle.DORMANT,
    Account.Lifecycle.CHURNED,
}


def account_mark_customer(*, actor: User, account: Account, reason: str = "") -> bool:
    """A won deal makes its account a customer (a VIP stays VIP); audited as ``actor``.

    A consequence of the win rather than an edit of the account, so it needs no edit
    permission on the account. Returns whether the stage changed.
    """
    with transaction.atomic():
        current = (
            Account.objects.select_for_update()
            .filter(pk=account.pk)
            .values_list("lifecycle_stage", flat=True)
            .first()
        )
        if current is None or current not in _BECOMES_CUSTOMER:
            return False
        Account.objects.filter(pk=account.pk).update(
            lifecycle_stage=Account.Lifecycle.CUSTOMER, updated_at=timezone.now()
        )
        account.lifecycle_stage = Account.Lifecycle.CUSTOMER
        changes: dict[str, Any] = {"lifecycle_stage": [current, Account.Lifecycle.CUSTOMER]}
        if reason:
            changes["reason"] = [None, reason]
        audit.record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            entity="account",
            obj=account,
            changes=changes,
        )
        events.emit(
            ACCOUNT_UPDATED, {"id": account.pk, "changes": ["lifecycle_stage"]}, actor_id=actor.pk
        )
        events.emit(
            ACCOUNT_BECAME_CUSTOMER, {"id": account.pk, "reason": reason}, actor_id=actor.pk
        )
    return True
