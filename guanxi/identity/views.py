from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.core import permissions
from guanxi.core import services as core_services
from guanxi.core.errors import DomainError, OutOfScope, ValidationFailed
from guanxi.core.middleware import request_ip
from guanxi.core.models import CustomField
from guanxi.identity import selectors, services
from guanxi.identity.forms import (
    AuditFilterForm,
    CustomFieldForm,
    DepartmentForm,
    LoginForm,
    PasswordChangeForm,
    ProfileForm,
    RoleForm,
    TokenForm,
    UserFilterForm,
    UserForm,
    options_from_lines,
    options_to_lines,
)
from guanxi.identity.models import ApiToken, Department, Role, User
from guanxi.web.access import admin_required
from guanxi.web.forms import apply_domain_errors, flash_domain_error
from guanxi.web.templatetags.web_tags import EXTRA_ENTITY_LABELS


def _locked_message(until: dt.datetime) -> str:
    local = timezone.localtime(until)
    return _(
        "Too many failed attempts: this account is locked until %(time)s. Try again later or ask an administrator."
    ) % {"time": formats.time_format(local, "H:i")}


def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("web:home")
    form = LoginForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        ip = request_ip(request)
        locked = services.login_locked_until(username)
        if locked:
            error = _locked_message(locked)
        else:
            user = authenticate(request, username=username, password=form.cleaned_data["password"])
            if user is None:
                locked = services.login_failed(username=username, ip=ip)
                error = (
                    _locked_message(locked)
                    if locked
                    else _("The username or password is not correct.")
                )
            else:
                login(request, user)
                services.login_succeeded(user=user, ip=ip)
                if not form.cleaned_data["remember"]:
                    request.session.set_expiry(0)
                target = request.POST.get("next") or request.GET.get("next") or ""
                if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
                    target = ""
                return redirect(target or "web:home")
    return render(
        request,
        "identity/login.html",
        {"form": form, "error": error, "next": request.GET.get("next", "")},
        status=200 if not error else 400,
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        services.logout_recorded(user=_actor(request), ip=request_ip(request))
    logout(request)
    return redirect("identity:login")


# --- Shared -----------------------------------------------------------------------------


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _action_labels() -> dict[str, str]:
    return {
        "view": _("View"),
        "create": _("Create"),
        "edit": _("Edit"),
        "delete": _("Delete"),
        "export": _("Export"),
        "import": _("Import"),
        "transfer": _("Transfer"),
    }


def _field_labels(entity_key: str) -> dict[str, str]:
    ent = permissions.entity(entity_key)
    generic = {
        "mobile": _("Mobile"),
        "phone": _("Phone"),
        "email": _("E-mail"),
        "id_number": _("ID number"),
    }
    labels: dict[str, str] = {}
    for name in ent.maskable:
        if name in generic:
            labels[name] = generic[name]
            continue
        try:
            labels[name] = str(getattr(ent.model._meta.get_field(name), "verbose_name", name))
        except FieldDoesNotExist:  # a maskable name that is not a model column
            labels[name] = name
    return labels


# --- Language and profile ---------------------------------------------------------------


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the interface language; saved on the user so it follows them across devices."""
    language = request.POST.get("language", "")
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    if request.user.is_authenticated:
        actor = _actor(request)
        try:
            services.user_update(actor=actor, user=actor, data={"language": language})
        except DomainError as exc:
            flash_domain_error(request, exc)
    response = redirect(_safe_next(request, reverse("web:home")))
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE or 365 * 24 * 3600,
        samesite="Lax",
    )
    return response


def _render_profile(
    request: HttpRequest,
    profile_form: ProfileForm | None = None,
    password_form: PasswordChangeForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _actor(request)
    profile_form = profile_form or ProfileForm(
        initial={
            "display_name": user.display_name,
            "email": user.email,
            "mobile": user.mobile,
            "language": user.language,
            "time_zone": user.time_zone,
        }
    )
    return render(
        request,
        "identity/profile.html",
        {
            "nav": "profile",
            "profile_form": profile_form,
            "password_form": password_form or PasswordChangeForm(),
            "roles": list(user.roles.all()),
        },
        status=status,
    )


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _render_profile(request)
    user = _actor(request)
    form = ProfileForm(request.POST, initial={"time_zone": request.POST.get("time_zone")})
    if form.is_valid():
        try:
            services.user_update(actor=user, user=user, data=dict(form.cleaned_data))
        except ValidationFailed as exc:
            apply_domain_errors(form, exc)
        except DomainError as exc:
            flash_domain_error(request, exc)
        else:
            messages.success(request, _("Your profile has been saved."))
            response = redirect("identity:profile")
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME, user.language, samesite="Lax", max_age=31536000
            )
            return response
    return _render_profile(request, profile_form=form, status=400)


@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return redirect("identity:profile")
    user = _actor(request)
    form = PasswordChangeForm(request.POST)
    if form.is_valid():
        try:
            services.user_set_password(
                actor=user,
                user=user,
                new_password=form.cleaned_data["new_password"],
                old_password=form.cleaned_data["old_password"],
            )
        except ValidationFailed as exc:
            apply_domain_errors(form, exc)
        except DomainError as exc:
            flash_domain_error(request, exc)
        else:
            update_session_auth_hash(request, user)
            messages.success(request, _("Your password has been changed."))
            return redirect("identity:profile")
    return _render_profile(request, password_form=form, status=400)


# --- API tokens -------------------------------------------------------------------------


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    user = _actor(request)
    form = TokenForm(request.POST or None)
    raw = ""
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                _token, raw = services.token_create(
                    actor=user, user=user, name=form.cleaned_data["name"]
                )
            except ValidationFailed as exc:
                apply_domain_errors(form, exc)
                status = 400
            else:
                form = TokenForm()
        else:
            status = 400
    return render(
        request,
        "identity/tokens.html",
        {
            "nav": "tokens",
            "form": form,
            "raw_token": raw,
            "tokens": list(selectors.token_list(user=user)),
        },
        status=status,
    )


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    user = _actor(request)
    token = get_object_or_404(ApiToken, pk=pk, user=user)
    try:
        services.token_revoke(actor=user, token=token)
    except DomainError as exc:
        flash_domain_error(request, exc)
    else:
        messages.success(
            request, _("The token “%(name)s” has been revoked.") % {"name": token.name}
        )
    return redirect("identity:tokens")


# --- Departments ------------------------------------------------------------------------


@admin_required
def departments(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    form = DepartmentForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            parent = form.cleaned_data["parent"] or services.department_root()
            try:
                dept = services.department_create(
                    actor=actor, name=form.cleaned_data["name"], parent=parent
                )
            except ValidationFailed as exc:
                apply_domain_errors(form, exc)
            except DomainError as exc:
                flash_domain_error(request, exc)
            else:
                messages.success(
                    request, _("Department “%(name)s” has been created.") % {"name": dept.name}
                )
                return redirect("identity:departments")
        status = 400
    tree = selectors.department_tree()
    return render(
        request,
        "identity/departments.html",
        {"nav": "departments", "form": form, "tree": tree, "all_departments": tree},
        status=status,
    )


@admin_required
@require_POST
def department_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    dept = get_object_or_404(Department, pk=pk)
    name = request.POST.get("name")
    parent: Department | str | None = "keep"
    parent_id = request.POST.get("parent")
    if parent_id:
        parent = get_object_or_404(Department, pk=parent_id)
    try:
        services.department_update(actor=actor, dept=dept, name=name, parent=parent)
    except DomainError as exc:
        flash_domain_error(request, exc)
    else:
        messages.success(request, _("Department “%(name)s” has been saved.") % {"name": dept.name})
    return redirect("identity:departments")


@admin_required
@require_POST
def department_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    dept = get_object_or_404(Department, pk=pk)
    try:
        services.department_delete(actor=actor, dept=dept)
    except DomainError as exc:
        flash_domain_error(request, exc)
    else:
        messages.success(
            request, _("Department “%(name)s” has been deleted.") % {"name": dept.name}
        )
    return redirect("identity:departments")


# --- Users ------------------------------------------------------------------------------


@login_required
def users(request: HttpRequest) -> HttpResponse:
    """The users list: everyone with the view grant sees it, scoped and masked."""
    actor = _actor(request)
    if not permissions.can(actor, "user", "view"):
        raise PermissionDenied
    filters = UserFilterForm(request.GET or None)
    q, department = "", None
    if filters.is_valid():
        q = filters.cleaned_data["q"] or ""
        department = filters.cleaned_data["department"]
    try:
        page = selectors.user_list(
            actor=actor,
            q=q,
            department=department.pk if department else None,
            page=request.GET.get("page", 1),
        )
    except ValidationFailed as exc:
        flash_domain_error(request, exc)
        page = selectors.user_list(
            actor=actor, q=q, department=department.pk if department else None
        )
    mask = permissions.masked_fields(actor, "user")
    rows = [(u, selectors.user_as_dict(actor=actor, user=u, mask=mask)) for u in page.items]
    return render(
        request,
        "identity/users.html",
        {"nav": "users", "filters": filters, "page": page, "rows": rows},
    )


@admin_required
def user_create(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    form = UserForm(request.POST or None, initial={"department": services.department_root()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.user_create(
                actor=actor,
                username=data["username"],
                password=data["password"],
                display_name=data["display_name"],
                email=data["email"],
                mobile=data["mobile"],
                department=data["department"],
                roles=list(data["roles"]),
            )
        except ValidationFailed as exc:
            apply_domain_errors(form, exc)
        except DomainError as exc:
            flash_domain_error(request, exc)
        else:
            messages.success(request, _("User “%(name)s” has been created.") % {"name": user.label})
            return redirect("identity:user_edit", pk=user.pk)
    return render(
        request,
        "identity/user_form.html",
        {"nav": "users", "form": form, "creating": True},
        status=400 if request.method == "POST" else 200,
    )


def _get_user(actor: User, pk: int) -> User:
    try:
        return selectors.user_get_for_user(actor=actor, pk=pk)
    except OutOfScope as exc:
        raise Http404 from exc


@admin_required
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    user = _get_user(actor, pk)
    initial = {
        "username": user.username,
        "display_name": user.display_name,
        "email": user.email,
        "mobile": user.mobile,
        "department": user.department,
        "roles": list(user.roles.all()),
    }
    form = UserForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["roles"] = list(data["roles"])
        try:
            services.user_update(actor=actor, user=user, data=data)
        except ValidationFailed as exc:
            apply_domain_errors(form, exc)
        except DomainError as exc:
            flash_domain_error(request, exc)
        else:
            messages.success(request, _("User “%(name)s” has been saved.") % {"name": user.label})
            return redirect("identity:user_edit", pk=user.pk)
    return render(
        request,
        "identity/user_form.html",
        {
            "nav": "users",
            "form": form,
            "creating": False,
            "subject": user,
            "events": selectors.record_history(
                actor=_actor(request), entity="user", object_id=user.pk
            ),
        },
        status=400 if request.method == "POST" else 200,
    )


@admin_required
@require_POST
def user_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    user = _get_user(actor, pk)
    active = request.POST.get("active") == "1"
    try:
        services.user_set_active(actor=actor, user=user, active=active)
    except DomainError as exc:
        flash_domain_error(request, exc)
    else:
        messages.success(
            request,
            (
                _("User “%(name)s” has been reactivated.")
                if active
                else _("User “%(name)s” has been deactivated.")
            )
            % {"name": user.label},
        )
    return redirect("identity:user_edit", pk=user.pk)


@admin_required
@require_POST
def user_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    user = _get_user(actor, pk)
    label = user.label
    try:
        services.user_delete(actor=actor, user=user)
    except DomainError as exc:
        flash_domain_error(request, exc)
        return redirect("identity:user_edit", pk=pk)
    messages.success(request, _("User “%(name)s” has been deleted.") % {"name": label})
    return redirect("identity:users")


# --- Roles ------------------------------------------------------------------------------


@admin_required
def roles(request: HttpRequest) -> HttpResponse:
    from django.db.models import Count

    role_rows = selectors.role_list().annotate(user_count=Count("users", distinct=True))
    return render(request, "identity/roles.html", {"nav": "roles", "roles": role_rows})


def _grant_rows(
    grants: dict[str, dict[str, Any]],
) -> list[dict[str, Any]]:
    """One row per permission entity for the role grid, with what is currently ticked."""
    from guanxi.identity.models import Scope

    action_labels = _action_labels()
    rows = []
    for ent in permissions.entities():
        grant = grants.get(ent.key, {})
        field_labels = _field_labels(ent.key)
        rows.append(
            {
                "key": ent.key,
                "label": ent.label,
                "actions": [
                    (a, action_labels[a], a in grant.get("actions", []))
                    for a in permissions.ACTIONS
                ],
                "scope": grant.get("scope", "own"),
                "scopes": Scope.choices,
                "masked": [
                    (f, field_labels[f], f in grant.get("masked_fields", [])) for f in ent.maskable
                ],
                "can_reveal": bool(grant.get("can_reveal")),
            }
        )
    return rows


def _grants_from_post(request: HttpRequest) -> dict[str, dict[str, Any]]:
    grants: dict[str, dict[str, Any]] = {}
    for ent in permissions.entities():
        actions = request.POST.getlist(f"grant-{ent.key}-actions")
        if not actions:
            continue
        grants[ent.key] = {
            "actions": actions,
            "scope": request.POST.get(f"grant-{ent.key}-scope", "own"),
            "masked_fields": request.POST.getlist(f"grant-{ent.key}-masked"),
            "can_reveal": request.POST.get(f"grant-{ent.key}-reveal") == "1",
        }
    return grants


def _role_page(request: HttpRequest, role: Role | None) -> HttpResponse:
    actor = _actor(request)
    current = (
        {
            g.entity: {
                "actions": g.actions,
                "scope": g.scope,
                "masked_fields": g.masked_fields,
                "can_reveal": g.can_reveal,
            }
            for g in role.grants.all()
        }
        if role
        else {}
    )
    initial = (
        {
            "code": role.code,
            "name_zh": role.name_zh,
            "name_en": role.name_en,
            "description": role.description,
        }
        if role
        else {}
    )
    form = RoleForm(request.POST or None, initial=initial)
    if role is not None and role.builtin:
        form.fields["code"].disabled = True
    status = 200
    if request.method == "POST":
        current = _grants_from_post(request)
        if form.is_valid():
            data = form.cleaned_data
            try:
                saved = services.role_save(
                    actor=actor,
                    role=role,
                    code=data["code"],
                    name_zh=data["name_zh"],
                    name_en=data["name_en"],
                    description=data["description"],
                    grants=None if role is not None and role.is_admin else current,
                )
            except ValidationFailed as exc:
                apply_domain_errors(form, exc)
            except DomainError as exc:
                flash_domain_error(request, exc)
            else:
                messages.success(request, _("Role “%(name)s” has been saved.") % {"name": saved})
                return redirect("identity:role_edit", pk=saved.pk)
        status = 400
    return render(
        request,
        "identity/role_edit.html",
        {"nav": "roles", "form": form, "role": role, "grid": _grant_rows(current)},
        status=status,
    )


@admin_required
def role_create(request: HttpRequest) -> HttpResponse:
    return _role_page(request, None)


@admin_required
def role_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _role_page(request, get_object_or_404(Role, pk=pk))


@admin_required
@require_POST
def role_delete(request: HttpRequest, pk: int) -> HttpResponse:
    role = get_object_or_404(Role, pk=pk)
    try:
        services.role_delete(actor=_actor(request), role=role)
    except DomainError as exc:
        flash_domain_error(request, exc)
        return redirect("identity:role_edit", pk=pk)
    messages.success(request, _("Role “%(name)s” has been deleted.") % {"name": role})
    return redirect("identity:roles")


# --- Audit trail ------------------------------------------------------------------------


def _audit_entity_choices() -> list[tuple[str, str]]:
    choices = [(e.key, str(e.label)) for e in permissions.entities()]
    known = {k for k, _label in choices}
    choices += [(k, str(v)) for k, v in EXTRA_ENTITY_LABELS.items() if k not in known]
    return choices


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


@admin_required
def audit(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    filters = AuditFilterForm(request.GET or None, entity_choices=_audit_entity_choices())
    args: dict[str, Any] = {}
    if filters.is_valid():
        data = filters.cleaned_data
        args = {
            "entity": data["entity"] or "",
            "action": data["action"] or "",
            "actor_id": data["actor"].pk if data["actor"] else None,
            "date_from": _day_start(data["date_from"]) if data["date_from"] else None,
            "date_to": _day_start(data["date_to"] + dt.timedelta(days=1))
            if data["date_to"]
            else None,
        }
    try:
        page = selectors.audit_list(actor=actor, page=request.GET.get("page", 1), **args)
    except ValidationFailed as exc:
        flash_domain_error(request, exc)
        page = selectors.audit_list(actor=actor, **args)
    return render(
        request, "identity/audit.html", {"nav": "audit", "filters": filters, "page": page}
    )


# --- Custom fields ----------------------------------------------------------------------


def _custom_entity_choices() -> list[tuple[str, str]]:
    return [(e.key, str(e.label)) for e in permissions.entities()]


@admin_required
def custom_fields(request: HttpRequest) -> HttpResponse:
    groups: dict[str, list[CustomField]] = {}
    for field in CustomField.objects.order_by("entity", "position", "id"):
        groups.setdefault(field.entity, []).append(field)
    return render(
        request,
        "identity/custom_fields.html",
        {"nav": "custom_fields", "groups": sorted(groups.items())},
    )


def _custom_field_page(request: HttpRequest, field: CustomField | None) -> HttpResponse:
    actor = _actor(request)
    initial: dict[str, Any] = {"active": True, "position": 0}
    if field is not None:
        initial = {
            "entity": field.entity,
            "key": field.key,
            "label_zh": field.label_zh,
            "label_en": field.label_en,
            "kind": field.kind,
            "required": field.required,
            "position": field.position,
            "options": options_to_lines(field.options),
            "help_text": field.help_text,
            "active": field.active,
        }
    form = CustomFieldForm(
        request.POST or None, initial=initial, entity_choices=_custom_entity_choices()
    )
    if field is not None:
        for name in ("entity", "key", "kind"):
            form.fields[name].disabled = True
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["options"] = options_from_lines(data.get("options") or "")
        data["position"] = data.get("position") or 0
        try:
            saved = core_services.customfield_save(actor=actor, field=field, data=data)
        except ValidationFailed as exc:
            apply_domain_errors(form, exc)
        except DomainError as exc:
            flash_domain_error(request, exc)
        else:
            messages.success(
                request, _("Custom field “%(name)s” has been saved.") % {"name": saved.label_zh}
            )
            return redirect("identity:custom_fields")
    return render(
        request,
        "identity/custom_field_form.html",
        {"nav": "custom_fields", "form": form, "field": field},
        status=400 if request.method == "POST" else 200,
    )


@admin_required
def custom_field_create(request: HttpRequest) -> HttpResponse:
    return _custom_field_page(request, None)


@admin_required
def custom_field_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _custom_field_page(request, get_object_or_404(CustomField, pk=pk))


@admin_required
@require_POST
def custom_field_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    field = get_object_or_404(CustomField, pk=pk)
    try:
        core_services.customfield_delete(actor=_actor(request), field=field)
    except DomainError as exc:
        flash_domain_error(request, exc)
    else:
        messages.success(
            request, _("Custom field “%(name)s” has been deactivated.") % {"name": field.label_zh}
        )
    return redirect("identity:custom_fields")
