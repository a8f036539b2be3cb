"""The permission layer on the real 'user' entity: scopes, actions, roles, masking, reveal."""

from __future__ import annotations

import pytest

from guanxi.core import permissions
from guanxi.core.errors import NotPermitted, OutOfScope, ValidationFailed
from guanxi.core.models import AuditEvent
from guanxi.core.services import field_reveal
from guanxi.identity import services
from guanxi.identity.models import User
from guanxi.tests_support import org as org_support

pytestmark = pytest.mark.django_db


@pytest.fixture
def org() -> org_support.Org:
    return org_support.build()


def _visible(user: User) -> set[int]:
    return set(permissions.scoped_queryset(user, "user").values_list("id", flat=True))


def _grant(org: org_support.Org, scope: str, actions: list[str] | None = None, **extra) -> User:
    role = org_support.role(
        org.admin, {"user": {"actions": actions or ["view"], "scope": scope, **extra}}
    )
    return org.give(org.actor, role)


# --- scopes ---------------------------------------------------------------------------


def test_own_scope_sees_only_oneself(org):
    # given a role that sees own users only
    actor = _grant(org, "own")
    # when / then
    assert _visible(actor) == {actor.pk}


def test_department_scope_sees_own_department_only(org):
    actor = _grant(org, "department")
    assert _visible(actor) == {actor.pk, org.peer.pk}


def test_subtree_scope_sees_department_and_sub_departments(org):
    actor = _grant(org, "subtree")
    assert _visible(actor) == {actor.pk, org.peer.pk, org.east.pk}


def test_subtree_scope_from_the_root_sees_everyone_in_the_tree(org):
    role = org_support.role(org.admin, {"user": {"actions": ["view"], "scope": "subtree"}})
    boss = org.give(org.boss, role)
    assert _visible(boss) == org.everyone()


def test_all_scope_sees_everyone(org):
    actor = _grant(org, "all")
    assert _visible(actor) == org.everyone()


@pytest.mark.parametrize(
    ("scope", "visible", "hidden"),
    [
        ("own", [], ["peer", "east", "service", "boss"]),
        ("department", ["peer"], ["east", "service", "boss"]),
        ("subtree", ["peer", "east"], ["service", "boss"]),
        ("all", ["peer", "east", "service", "boss"], []),
    ],
)
def test_get_for_user_raises_out_of_scope_outside_the_scope(org, scope, visible, hidden):
    actor = _grant(org, scope)
    for name in visible:
        target = getattr(org, name)
        assert permissions.get_for_user(actor, "user", target.pk) == target
        assert permissions.in_scope(actor, "user", target)
    for name in hidden:
        target = getattr(org, name)
        with pytest.raises(OutOfScope):
            permissions.get_for_user(actor, "user", target.pk)
        assert not permissions.in_scope(actor, "user", target)


def test_get_for_user_missing_or_malformed_pk_is_out_of_scope(org):
    actor = _grant(org, "all")
    with pytest.raises(OutOfScope):
        permissions.get_for_user(actor, "user", 999_999)
    with pytest.raises(OutOfScope):
        permissions.get_for_user(actor, "user", "not-a-number")


def test_user_without_department_sees_only_themselves(org):
    actor = _grant(org, "department")
    User.objects.filter(pk=actor.pk).update(department=None)
    actor = User.objects.get(pk=actor.pk)
    assert _visible(actor) == {actor.pk}


# --- actions --------------------------------------------------------------------------


@pytest.mark.parametrize("action", permissions.ACTIONS)
def test_each_action_is_allowed_only_when_granted(org, action):
    # given a role that grants exactly this action (plus view, to have a scope)
    granted = _grant(org, "all", sorted({"view", action}))
    assert permissions.can(granted, "user", action)
    permissions.require(granted, "user", action)
    # and a role that grants every other action but this one
    others = [a for a in permissions.ACTIONS if a != action]
    role = org_support.role(org.admin, {"user": {"actions": others, "scope": "all"}})
    denied = org.give(org.peer, role)
    assert not permissions.can(denied, "user", action)
    with pytest.raises(NotPermitted):
        permissions.require(denied, "user", action)
    with pytest.raises(NotPermitted):
        permissions.scoped_queryset(denied, "user", action)


def test_no_grant_for_the_entity_means_nothing(org):
    role = org_support.role(org.admin, {"note": {"actions": ["view"], "scope": "all"}})
    actor = org.give(org.actor, role)
    for action in permissions.ACTIONS:
        assert not permissions.can(actor, "user", action)
    with pytest.raises(NotPermitted):
        permissions.scoped_queryset(actor, "user")
    with pytest.raises(NotPermitted):
        permissions.get_for_user(actor, "user", actor.pk)
    assert permissions.scope_of(actor, "user") is None


def test_unknown_action_is_a_programming_error(org):
    with pytest.raises(ValueError):
        permissions.can(org.actor, "user", "fly")


def test_unknown_entity_is_a_programming_error():
    with pytest.raises(KeyError):
        permissions.entity("spaceship")


# --- roles combined -------------------------------------------------------------------


def test_multiple_roles_take_the_widest_scope_and_union_of_actions(org):
    narrow = org_support.role(org.admin, {"user": {"actions": ["view", "edit"], "scope": "own"}})
    wide = org_support.role(
        org.admin, {"user": {"actions": ["view", "export"], "scope": "subtree"}}
    )
    actor = org.give(org.actor, narrow, wide)
    assert permissions.scope_of(actor, "user") == "subtree"
    assert _visible(actor) == {actor.pk, org.peer.pk, org.east.pk}
    assert permissions.can(actor, "user", "edit")
    assert permissions.can(actor, "user", "export")
    assert not permissions.can(actor, "user", "delete")


def test_scope_of_a_role_without_view_does_not_widen(org):
    viewer = org_support.role(org.admin, {"user": {"actions": ["view"], "scope": "own"}})
    editor = org_support.role(org.admin, {"user": {"actions": ["edit"], "scope": "all"}})
    actor = org.give(org.actor, viewer, editor)
    assert permissions.scope_of(actor, "user") == "own"
    assert _visible(actor) == {actor.pk}


def test_field_is_masked_only_if_every_viewing_role_masks_it(org):
    both = org_support.role(
        org.admin,
        {"user": {"actions": ["view"], "scope": "own", "masked_fields": ["mobile", "email"]}},
    )
    mobile_only = org_support.role(
        org.admin, {"user": {"actions": ["view"], "scope": "own", "masked_fields": ["mobile"]}}
    )
    actor = org.give(org.actor, both)
    assert permissions.masked_fields(actor, "user") == {"mobile", "email"}
    actor = org.give(org.actor, both, mobile_only)
    assert permissions.masked_fields(actor, "user") == {"mobile"}
    unmasked = org_support.role(org.admin, {"user": {"actions": ["view"], "scope": "own"}})
    actor = org.give(org.actor, both, mobile_only, unmasked)
    assert permissions.masked_fields(actor, "user") == set()


def test_without_a_view_grant_every_maskable_field_is_masked(org):
    actor = org.give(org.actor)
    assert permissions.masked_fields(actor, "user") == {"mobile", "email"}


def test_builtin_sales_role_sees_department_with_mobile_masked(org):
    assert permissions.scope_of(org.peer, "user") == "department"
    assert _visible(org.peer) == {org.actor.pk, org.peer.pk}
    assert permissions.masked_fields(org.peer, "user") == {"mobile"}
    assert not permissions.can(org.peer, "user", "create")


# --- admin, inactive, moves -----------------------------------------------------------


def test_admin_sees_all_unmasked_and_may_do_everything(org):
    assert permissions.is_admin(org.admin)
    assert _visible(org.admin) == org.everyone()
    assert permissions.masked_fields(org.admin, "user") == set()
    assert permissions.can_reveal(org.admin, "user")
    assert all(permissions.can(org.admin, "user", a) for a in permissions.ACTIONS)


def test_superuser_without_roles_is_admin(org):
    User.objects.filter(pk=org.actor.pk).update(is_superuser=True)
    actor = User.objects.get(pk=org.actor.pk)
    assert permissions.is_admin(actor)
    assert _visible(actor) == org.everyone()


def test_inactive_user_can_do_nothing(org):
    # given an active user with every action on every record
    actor = _grant(org, "all", list(permissions.ACTIONS))
    assert permissions.can(actor, "user", "view")
    # when deactivated
    services.user_set_active(actor=org.admin, user=actor, active=False)
    actor = User.objects.get(pk=actor.pk)
    # then
    assert not any(permissions.can(actor, "user", a) for a in permissions.ACTIONS)
    with pytest.raises(NotPermitted):
        permissions.scoped_queryset(actor, "user")
    assert not permissions.is_admin(actor)


def test_inactive_admin_is_not_admin(org):
    User.objects.filter(pk=org.admin.pk).update(is_active=False)
    admin = User.objects.get(pk=org.admin.pk)
    assert not permissions.is_admin(admin)
    assert not permissions.can(admin, "user", "view")


def test_user_moved_between_departments_sees_the_new_department(org):
    # given a salesperson in 销售部 who sees colleagues there
    assert _visible(org.peer) == {org.actor.pk, org.peer.pk}
    # when an administrator moves them to 客服部
    moved = services.user_update(
        actor=org.admin, user=org.peer, data={"department": org.service_dept}
    )
    # then the updated instance, and a freshly loaded one, see 客服部 and no longer 销售部
    assert _visible(moved) == {org.peer.pk, org.service.pk}
    fresh = User.objects.get(pk=org.peer.pk)
    assert _visible(fresh) == {org.peer.pk, org.service.pk}


def test_role_change_takes_effect_after_forget(org):
    actor = _grant(org, "own")
    assert _visible(actor) == {actor.pk}
    wide = org_support.role(org.admin, {"user": {"actions": ["view"], "scope": "all"}})
    actor.roles.set([wide])
    assert _visible(actor) == {actor.pk}  # cached on this instance
    permissions.forget(actor)
    assert _visible(actor) == org.everyone()


def test_scoping_adds_no_query_of_its_own(org, django_assert_num_queries):
    actor = _grant(org, "subtree")
    permissions.is_admin(actor)  # load grants
    with django_assert_num_queries(1):
        list(permissions.scoped_queryset(actor, "user"))


def test_visible_users_unions_entities(org):
    role = org_support.role(
        org.admin,
        {
            "user": {"actions": ["view"], "scope": "own"},
            "note": {"actions": ["view"], "scope": "department"},
        },
    )
    actor = org.give(org.actor, role)
    assert permissions.visible_users(actor, ["user", "note"]) == {actor.pk, org.peer.pk}
    assert permissions.scope_user_ids(actor, "subtree") is not None
    assert set(permissions.scope_user_ids(actor, "subtree") or []) == {
        actor.pk,
        org.peer.pk,
        org.east.pk,
    }
    assert permissions.scope_user_ids(actor, "all") is None


# --- masking --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value", "masked"),
    [
        ("phone", "13800138000", "138****8000"),
        ("phone", "+8613800138000", "+86****8000"),
        ("phone", "138 0013 8000", "138****8000"),
        ("phone", "12345", "****"),
        ("email", "zhang.wei@qq.com", "z***@qq.com"),
        ("email", "not-an-email", "***"),
        ("id_number", "110101199003071234", "110***********1234"),
        ("phone", "", ""),
        ("phone", None, None),
        ("other", "secret", "****"),
    ],
)
def test_mask_value(kind, value, masked):
    assert permissions.mask_value(kind, value) == masked


def test_apply_mask_masks_the_field_and_its_e164_copy(org):
    actor = org.peer  # built-in sales: mobile masked
    data = {"mobile": "13800138000", "mobile_e164": "+8613800138000", "email": "a@b.cn"}
    out = permissions.apply_mask(actor, "user", data)
    assert out == {"mobile": "138****8000", "mobile_e164": "+86****8000", "email": "a@b.cn"}


def test_apply_mask_with_explicit_empty_mask_changes_nothing(org):
    data = {"mobile": "13800138000"}
    assert permissions.apply_mask(org.peer, "user", dict(data), set()) == data


# --- revealing a masked field ---------------------------------------------------------


def test_field_reveal_returns_value_and_records_event(org):
    role = org_support.role(
        org.admin,
        {
            "user": {
                "actions": ["view"],
                "scope": "department",
                "masked_fields": ["mobile"],
                "can_reveal": True,
            }
        },
    )
    actor = org.give(org.actor, role)
    before = AuditEvent.objects.count()
    value = field_reveal(actor=actor, entity_key="user", obj=org.peer, field="mobile")
    assert value == org.peer.mobile
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.order_by("-id").first()
    assert event is not None
    assert (event.action, event.entity, event.object_id) == ("reveal", "user", str(org.peer.pk))
    assert event.actor_id == actor.pk
    assert event.changes == {"field": "mobile"}


def test_field_reveal_without_can_reveal_is_refused_and_not_recorded(org):
    before = AuditEvent.objects.count()
    with pytest.raises(NotPermitted):
        field_reveal(actor=org.peer, entity_key="user", obj=org.actor, field="mobile")
    assert AuditEvent.objects.count() == before


def test_field_reveal_out_of_scope_is_refused_and_not_recorded(org):
    role = org_support.role(
        org.admin,
        {
            "user": {
                "actions": ["view"],
                "scope": "department",
                "masked_fields": ["mobile"],
                "can_reveal": True,
            }
        },
    )
    actor = org.give(org.actor, role)
    before = AuditEvent.objects.count()
    with pytest.raises(OutOfScope):
        field_reveal(actor=actor, entity_key="user", obj=org.service, field="mobile")
    assert AuditEvent.objects.count() == before


def test_field_reveal_of_a_never_masked_field_is_invalid(org):
    with pytest.raises(ValidationFailed):
        field_reveal(actor=org.admin, entity_key="user", obj=org.peer, field="username")
