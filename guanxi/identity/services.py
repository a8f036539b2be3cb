"""Every write to the organisation: departments, users, roles, tokens, logins.

Each service checks that the actor may do it, validates, writes, and records the audit
event in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core import audit, events, permissions
from guanxi.core.errors import Conflict, FieldError, NotPermitted, OutOfScope, ValidationFailed
from guanxi.core.models import AuditEvent
from guanxi.identity.models import ApiToken, Department, Role, RoleGrant, User, hash_token
from guanxi.identity.roles import BUILTIN_ROLES

A = AuditEvent.Action


def require_admin(actor: User) -> None:
    if not permissions.is_admin(actor):
        raise NotPermitted(_("Only administrators can manage the organisation."))


# --- Departments ------------------------------------------------------------------------


def _set_path(dept: Department) -> None:
    parent_path = dept.parent.path if dept.parent_id and dept.parent else "/"
    dept.path = f"{parent_path}{dept.pk}/"


def department_create(
    *, actor: User | None, name: str, parent: Department | None = None
) -> Department:
    if actor is not None:
        require_admin(actor)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed([FieldError("name", _("Enter a name."))])
    if len(name) > 100:
        raise ValidationFailed([FieldError("name", _("At most 100 characters."))])
    if Department.objects.filter(parent=parent, name=name).exists():
        raise ValidationFailed(
            [FieldError("name", _("A department with this name already exists here."))]
        )
    with transaction.atomic():
        dept = Department.objects.create(name=name, parent=parent)
        _set_path(dept)
        dept.save(update_fields=["path"])
        audit.record(
            actor=actor,
            action=A.CREATE,
            entity="department",
            obj=dept,
            changes={"name": [None, name], "parent": [None, parent.name if parent else None]},
        )
    return dept


def department_root() -> Department:
    root = Department.objects.filter(parent__isnull=True).order_by("id").first()
    if root is None:
        root = department_create(actor=None, name=str(settings.GUANXI_NAME))
    return root


def department_get_or_create_by_name(*, actor: User | None, name: str) -> Department:
    existing = Department.objects.filter(name=name.strip()).order_by("path").first()
    if existing:
        return existing
    return department_create(actor=actor, name=name, parent=department_root())


def department_update(
    *,
    actor: User,
    dept: Department,
    name: str | None = None,
    parent: Department | str | None = "keep",
    head: User | str | None = "keep",
) -> Department:
    """Rename, move (with its subtree) or set the head of a department."""
    require_admin(actor)
    changes: dict[str, list[Any]] = {}
    with transaction.atomic():
        dept = Department.objects.select_for_update().get(pk=dept.pk)
        if name is not None:
            name = name.strip()
            if not name:
                raise ValidationFailed([FieldError("name", _("Enter a name."))])
            if name != dept.name:
                if (
                    Department.objects.filter(parent_id=dept.parent_id, name=name)
                    .exclude(pk=dept.pk)
                    .exists()
                ):
                    raise ValidationFailed(
                        [FieldError("name", _("A department with this name already exists here."))]
                    )
                changes["name"] = [dept.name, name]
                dept.name = name
        if (
            parent != "keep"
            and (parent.pk if isinstance(parent, Department) else None) != dept.parent_id
        ):
            assert not isinstance(parent, str)
            if parent is None:
                raise ValidationFailed(
                    [FieldError("parent", _("Only the root department has no parent."))]
                )
            if parent.path.startswith(dept.path):
                raise ValidationFailed(
                    [
                        FieldError(
                            "parent",
                            _("A department cannot move under itself or its sub-departments."),
                        )
                    ]
                )
            old_path = dept.path
            changes["parent"] = [dept.parent.name if dept.parent else None, parent.name]
            dept.parent = parent
            _set_path(dept)
            for child in Department.objects.filter(path__startswith=old_path).exclude(pk=dept.pk):
                child.path = dept.path + child.path[len(old_path) :]
                child.save(update_fields=["path"])
        if head != "keep" and head != dept.head:
            assert not isinstance(head, str)
            changes["head"] = [str(dept.head) if dept.head else None, str(head) if head else None]
            dept.head = head
        dept.save()
        if changes:
            audit.record(
                actor=actor, action=A.UPDATE, entity="department", obj=dept, changes=changes
            )
    return dept


def department_delete(*, actor: User, dept: Department) -> None:
    """Delete an empty department (no sub-departments, no members)."""
    require_admin(actor)
    if dept.parent_id is None:
        raise Conflict(_("The root department cannot be deleted."))
    if dept.children.exists():
        raise Conflict(_("Move or delete its sub-departments first."))
    if User.objects.filter(department=dept).exists():
        raise Conflict(_("Move its members to another department first."))
    with transaction.atomic():
        audit.record(
            actor=actor,
            action=A.DELETE,
            entity="department",
            obj=dept,
            changes={"name": [dept.name, None]},
        )
        dept.delete()


# --- Roles ------------------------------------------------------------------------------


def roles_ensure_builtin() -> None:
    """Create the built-in roles and their grants if missing (idempotent; keeps edits)."""
    for spec in BUILTIN_ROLES:
        role, created = Role.objects.get_or_create(
            code=spec["code"],
            defaults={
                "name_zh": spec["name_zh"],
                "name_en": spec["name_en"],
                "description": spec["description"],
                "builtin": True,
                "is_admin": spec.get("is_admin", False),
            },
        )
        if created:
            for entity_key, grant in spec["grants"].items():
                RoleGrant.objects.create(
                    role=role,
                    entity=entity_key,
                    actions=grant["actions"],
                    scope=grant["scope"],
                    masked_fields=grant.get("masked_fields", []),
                    can_reveal=grant.get("can_reveal", False),
                )


def _clean_grants(grants: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    errors: list[FieldError] = []
    known = {e.key: e for e in permissions.entities()}
    cleaned: dict[str, dict[str, Any]] = {}
    for key, grant in grants.items():
        if key not in known:
            errors.append(FieldError(f"grants.{key}", _("Unknown entity.")))
            continue
        actions = list(grant.get("actions", []))
        bad = [a for a in actions if a not in permissions.ACTIONS]
        if bad:
            errors.append(
                FieldError(
                    f"grants.{key}.actions", _("Unknown action: %(a)s") % {"a": ", ".join(bad)}
                )
            )
        scope = grant.get("scope", "own")
        if scope not in permissions.SCOPES:
            errors.append(FieldError(f"grants.{key}.scope", _("Unknown data scope.")))
        masked = list(grant.get("masked_fields", []))
        bad_fields = [f for f in masked if f not in known[key].maskable]
        if bad_fields:
            errors.append(
                FieldError(
                    f"grants.{key}.masked_fields",
                    _("Cannot mask: %(f)s") % {"f": ", ".join(bad_fields)},
                )
            )
        cleaned[key] = {
            "actions": sorted(set(actions), key=permissions.ACTIONS.index),
            "scope": scope,
            "masked_fields": sorted(set(masked)),
            "can_reveal": bool(grant.get("can_reveal", False)),
        }
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def _grants_dict(role: Role) -> dict[str, dict[str, Any]]:
    return {
        g.entity: {
            "actions": g.actions,
            "scope": g.scope,
            "masked_fields": g.masked_fields,
            "can_reveal": g.can_reveal,
        }
        for g in role.grants.all()
    }


def role_save(
    *,
    actor: User,
    role: Role | None,
    code: str,
    name_zh: str,
    name_en: str = "",
    description: str = "",
    grants: dict[str, dict[str, Any]] | None = None,
) -> Role:
    """Create or update a role and replace its grants; audited as a permission change."""
    require_admin(actor)
    errors: list[FieldError] = []
    code = (code or "").strip().lower()
    if not code or not all(c.isalnum() or c in "-_" for c in code):
        errors.append(FieldError("code", _("Use letters, digits, '-' and '_'.")))
    elif Role.objects.filter(code=code).exclude(pk=role.pk if role else -1).exists():
        errors.append(FieldError("code", _("This code is taken.")))
    if not (name_zh or "").strip():
        errors.append(FieldError("name_zh", _("Enter a Chinese name.")))
    if role is not None and role.builtin and code != role.code:
        errors.append(FieldError("code", _("Built-in roles keep their code.")))
    if errors:
        raise ValidationFailed(errors)
    cleaned = _clean_grants(grants) if grants is not None else None
    with transaction.atomic():
        before = _grants_dict(role) if role else {}
        created = role is None
        if role is None:
            role = Role(builtin=False)
        role.code, role.name_zh, role.name_en, role.description = (
            code,
            name_zh.strip(),
            name_en.strip(),
            description.strip(),
        )
        role.save()
        if cleaned is not None:
            role.grants.all().delete()
            RoleGrant.objects.bulk_create(
                [RoleGrant(role=role, entity=k, **v) for k, v in cleaned.items()]
            )
        after = _grants_dict(role)
        changes = (
            audit.diff({"grants": before}, {"grants": after})
            if not created
            else {"grants": [None, after]}
        )
        audit.record(
            actor=actor,
            action=A.CREATE if created else A.PERMISSION,
            entity="role",
            obj=role,
            changes={"name_zh": [None, role.name_zh], **changes} if created else changes,
        )
    return role


def role_delete(*, actor: User, role: Role) -> None:
    require_admin(actor)
    if role.builtin:
        raise Conflict(_("Built-in roles cannot be deleted."))
    if role.users.exists():
        raise Conflict(_("Take this role away from its users first."))
    with transaction.atomic():
        audit.record(actor=actor, action=A.DELETE, entity="role", obj=role)
        role.delete()


# --- Users ------------------------------------------------------------------------------


def _validate_user_fields(
    *,
    username: str | None,
    email: str | None,
    language: str | None,
    time_zone: str | None,
    instance: User | None,
) -> list[FieldError]:
    errors: list[FieldError] = []
    if username is not None:
        if (
            not username
            or len(username) > 150
            or not all(c.isalnum() or c in "@.+-_" for c in username)
        ):
            errors.append(
                FieldError("username", _("Use letters, digits and @ . + - _ (at most 150)."))
            )
        elif (
            User.objects.filter(username__iexact=username)
            .exclude(pk=instance.pk if instance else -1)
            .exists()
        ):
            errors.append(FieldError("username", _("This username is taken.")))
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors.append(FieldError("email", _("Enter a valid e-mail address.")))
        else:
            if (
                User.objects.filter(email__iexact=email)
                .exclude(pk=instance.pk if instance else -1)
                .exists()
            ):
                errors.append(FieldError("email", _("Another user has this e-mail address.")))
    if language is not None and language not in dict(settings.LANGUAGES):
        errors.append(FieldError("language", _("Choose 中文 or English.")))
    if time_zone is not None:
        try:
            zoneinfo.ZoneInfo(time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            errors.append(FieldError("time_zone", _("Unknown time zone.")))
    return errors


def user_create(
    *,
    actor: User | None,
    username: str,
    password: str | None,
    display_name: str = "",
    email: str = "",
    mobile: str = "",
    department: Department | None = None,
    roles: list[Role] | None = None,
    language: str | None = None,
    time_zone: str | None = None,
    check_password_strength: bool = True,
) -> User:
    """Create a user. ``actor`` None means the command line (trusted)."""
    if actor is not None:
        require_admin(actor)
    username = (username or "").strip()
    email = (email or "").strip().lower()
    errors = _validate_user_fields(
        username=username, email=email, language=language, time_zone=time_zone, instance=None
    )
    if password and check_password_strength:
        try:
            validate_password(password, User(username=username, email=email))
        except ValidationError as exc:
            errors.append(FieldError("password", " ".join(exc.messages)))
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        user = User(
            username=username,
            display_name=display_name.strip(),
            email=email,
            mobile=mobile.strip(),
            department=department or department_root(),
            language=language or settings.LANGUAGE_CODE,
            time_zone=time_zone or settings.TIME_ZONE,
        )
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
        if roles:
            user.roles.set(roles)
        audit.record(
            actor=actor,
            action=A.CREATE,
            entity="user",
            obj=user,
            changes={
                "username": [None, username],
                "department": [None, str(user.department)],
                "roles": [None, [r.code for r in roles or []]],
            },
        )
        events.emit(
            "user.created",
            {"id": user.pk, "username": user.username},
            actor_id=actor.pk if actor else None,
        )
    return user


def user_update(*, actor: User, user: User, data: dict[str, Any]) -> User:
    """Change profile fields, department or roles. Admins change anyone; users their own profile."""
    self_service = {"display_name", "email", "mobile", "language", "time_zone"}
    if not permissions.is_admin(actor) and (user.pk != actor.pk or set(data) - self_service):
        raise NotPermitted()
    errors = _validate_user_fields(
        username=data.get("username"),
        email=(data.get("email") or "").strip().lower() or None,
        language=data.get("language"),
        time_zone=data.get("time_zone"),
        instance=user,
    )
    if (
        "roles" in data
        and user.pk == actor.pk
        and not any(r.is_admin for r in data["roles"])
        and permissions.is_admin(actor)
        and not actor.is_superuser
    ):
        errors.append(
            FieldError("roles", _("You cannot take the administrator role away from yourself."))
        )
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        before = audit.snapshot(
            user,
            ["username", "display_name", "email", "mobile", "department", "language", "time_zone"],
        )
        before_roles = sorted(user.roles.values_list("code", flat=True))
        for field in (
            "username",
            "display_name",
            "email",
            "mobile",
            "department",
            "language",
            "time_zone",
        ):
            if field in data:
                value = data[field]
                if isinstance(value, str):
                    value = value.strip()
                    if field == "email":
                        value = value.lower()
                setattr(user, field, value)
        user.save()
        changes = audit.diff(before, audit.snapshot(user, list(before)))
        if "roles" in data:
            user.roles.set(data["roles"])
            after_roles = sorted(r.code for r in data["roles"])
            if after_roles != before_roles:
                changes["roles"] = [before_roles, after_roles]
        # Roles or department decide the user's permissions: drop the cached grants.
        permissions.forget(user)
        if changes:
            action = A.PERMISSION if "roles" in changes else A.UPDATE
            audit.record(actor=actor, action=action, entity="user", obj=user, changes=changes)
            events.emit(
                "user.updated", {"id": user.pk, "changes": list(changes)}, actor_id=actor.pk
            )
    return user


# Every app that owns records registers a counter here so that deleting a user who owns
# records is refused and handover can preview counts.
OwnedRecordCounter = Callable[[User], dict[str, int]]
_owned_counters: list[OwnedRecordCounter] = []


def register_owned_counter(counter: OwnedRecordCounter) -> None:
    _owned_counters.append(counter)


def user_owned_records(user: User) -> dict[str, int]:
    counts: dict[str, int] = {}
    for counter in _owned_counters:
        counts.update({k: v for k, v in counter(user).items() if v})
    return counts


def user_set_active(*, actor: User, user: User, active: bool) -> User:
    """Deactivate (records stay with the user until handed over) or reactivate."""
    require_admin(actor)
    if user.pk == actor.pk and not active:
        raise Conflict(_("You cannot deactivate yourself."))
    if user.is_active == active:
        return user
    with transaction.atomic():
        user.is_active = active
        user.save(update_fields=["is_active"])
        ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        ) if not active else None
        audit.record(
            actor=actor,
            action=A.UPDATE,
            entity="user",
            obj=user,
            changes={"is_active": [not active, active]},
        )
    return user


def user_delete(*, actor: User, user: User) -> None:
    """Delete a user who owns nothing; otherwise transfer their records first."""
    require_admin(actor)
    if user.pk == actor.pk:
        raise Conflict(_("You cannot delete yourself."))
    owned = user_owned_records(user)
    if owned:
        raise Conflict(
            _(
                "This user still owns records (%(counts)s): hand them over first, or deactivate the user."
            )
            % {"counts": ", ".join(f"{k}: {v}" for k, v in owned.items())}
        )
    if AuditEvent.objects.filter(actor=user).exists():
        raise Conflict(_("This user appears in the audit trail; deactivate instead of deleting."))
    with transaction.atomic():
        audit.record(
            actor=actor,
            action=A.DELETE,
            entity="user",
            obj=user,
            changes={"username": [user.username, None]},
        )
        user.delete()


def user_set_password(
    *, actor: User, user: User, new_password: str, old_password: str | None = None
) -> None:
    if user.pk == actor.pk:
        if old_password is None or not user.check_password(old_password):
            raise ValidationFailed(
                [FieldError("old_password", _("Your current password is not correct."))]
            )
    else:
        require_admin(actor)
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        raise ValidationFailed([FieldError("new_password", " ".join(exc.messages))]) from exc
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        audit.record(
            actor=actor,
            action=A.UPDATE,
            entity="user",
            obj=user,
            changes={"password": ["***", "***"]},
        )


# --- Login security -------------------------------------------------------------------


def user_find_for_login(ident: str) -> User | None:
    """The user a login name means: the username first (usernames may contain '@'),
    then the e-mail address; both case-insensitive."""
    ident = (ident or "").strip()
    if not ident:
        return None
    user = User.objects.filter(username__iexact=ident).order_by("id").first()
    if user is None and "@" in ident:
        user = User.objects.filter(email__iexact=ident).order_by("id").first()
    return user


def login_locked_until(username: str) -> dt.datetime | None:
    ident = (username or "").strip()
    user = user_find_for_login(ident)
    if user and user.locked_until and user.locked_until > timezone.now():
        return user.locked_until
    return None


def login_failed(*, username: str, ip: str | None) -> dt.datetime | None:
    """Count a failed login; lock the account after too many. Returns the lock end, if locked."""
    ident = (username or "").strip()
    with transaction.atomic():
        found = user_find_for_login(ident)
        user = User.objects.select_for_update().filter(pk=found.pk).first() if found else None
        audit.record(
            actor=None,
            action=A.LOGIN_FAILED,
            entity="user",
            object_id=user.pk if user else "",
            object_repr=ident[:150],
            ip=ip,
        )
        if user is None:
            return None
        user.failed_logins += 1
        if user.failed_logins >= settings.LOGIN_MAX_FAILURES:
            user.locked_until = timezone.now() + dt.timedelta(
                minutes=settings.LOGIN_LOCKOUT_MINUTES
            )
            user.failed_logins = 0
            audit.record(
                actor=None,
                action=A.LOCKED,
                entity="user",
                obj=user,
                ip=ip,
                changes={"locked_until": [None, user.locked_until]},
            )
        user.save(update_fields=["failed_logins", "locked_until"])
        return (
            user.locked_until if user.locked_until and user.locked_until > timezone.now() else None
        )


def login_succeeded(*, user: User, ip: str | None) -> None:
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
        audit.record(actor=user, action=A.LOGIN, entity="user", obj=user, ip=ip)


def logout_recorded(*, user: User, ip: str | None) -> None:
    audit.record(actor=user, action=A.LOGOUT, entity="user", obj=user, ip=ip)


# --- API tokens -----------------------------------------------------------------------


def token_create(*, actor: User | None, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token; returns it with the raw secret, which is never stored or shown again."""
    if actor is not None and actor.pk != user.pk:
        require_admin(actor)
    name = (name or "").strip() or _("API token")
    if len(name) > 100:
        raise ValidationFailed([FieldError("name", _("At most 100 characters."))])
    raw = ApiToken.generate_raw()
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user, name=name, token_hash=hash_token(raw), hint=raw[:10]
        )
        audit.record(
            actor=actor or user,
            action=A.TOKEN,
            entity="api_token",
            obj=token,
            changes={"created": [None, name]},
        )
    return token, raw


def token_revoke(*, actor: User, token: ApiToken) -> ApiToken:
    if token.user_id != actor.pk:
        require_admin(actor)
    if token.revoked_at is not None:
        return token
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(
            actor=actor,
            action=A.TOKEN,
            entity="api_token",
            obj=token,
            changes={"revoked": [None, token.name]},
        )
    return token


def token_authenticate(raw: str) -> User | None:
    """The active user behind a raw token, or None. Updates last-used at most once a minute."""
    if not raw or not raw.startswith(ApiToken.PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user", "user__department")
        .filter(token_hash=hash_token(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def calendar_token_rotate(*, actor: User) -> str:
    import secrets

    actor.calendar_token = secrets.token_urlsafe(32)
    actor.save(update_fields=["calendar_token"])
    audit.record(
        actor=actor,
        action=A.UPDATE,
        entity="user",
        obj=actor,
        changes={"calendar_token": ["***", "***"]},
    )
    return actor.calendar_token


def user_get_scoped(*, actor: User, pk: Any) -> User:
    try:
        return permissions.get_for_user(actor, "user", pk)
    except OutOfScope:
        raise


__all__ = ["Q"]
