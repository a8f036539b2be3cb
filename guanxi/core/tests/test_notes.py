"""Notes: the small real entity behind the permission layer and the custom fields engine."""

from __future__ import annotations

import pytest

from guanxi.core import events, permissions, selectors, services
from guanxi.core.errors import NotPermitted, OutOfScope, ValidationFailed
from guanxi.core.models import AuditEvent, CustomField, Note
from guanxi.core.services import customfield_save
from guanxi.identity.models import User
from guanxi.tests_support import org as org_support
from guanxi.tests_support.api import ApiClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def org() -> org_support.Org:
    return org_support.build()


@pytest.fixture
def notes(org) -> dict[str, Note]:
    """One note owned by each member of the organisation, plus one in the public pool."""
    made = {
        name: Note.objects.create(title=f"{name} note", owner=getattr(org, name))
        for name in ("actor", "peer", "east", "service", "boss")
    }
    made["pool"] = Note.objects.create(title="pool note", owner=None)
    return made


def _note_role(org, scope: str, actions: list[str]) -> User:
    role = org_support.role(org.admin, {"note": {"actions": actions, "scope": scope}})
    return org.give(org.actor, role)


def _ids(notes: dict[str, Note], *names: str) -> set[int]:
    return {notes[n].pk for n in names}


SCOPES = {
    "own": ("actor",),
    "department": ("actor", "peer"),
    "subtree": ("actor", "peer", "east"),
    "all": ("actor", "peer", "east", "service", "boss", "pool"),
}
ALL_NAMES = ("actor", "peer", "east", "service", "boss", "pool")


# --- scope × action -------------------------------------------------------------------


@pytest.mark.parametrize("scope", list(SCOPES))
def test_list_shows_exactly_the_scope(org, notes, scope):
    actor = _note_role(org, scope, ["view"])
    page = selectors.note_list(actor=actor)
    assert {n.pk for n in page.items} == _ids(notes, *SCOPES[scope])
    assert page.count == len(SCOPES[scope])


@pytest.mark.parametrize("scope", list(SCOPES))
def test_get_outside_the_scope_is_out_of_scope(org, notes, scope):
    actor = _note_role(org, scope, ["view"])
    for name in ALL_NAMES:
        if name in SCOPES[scope]:
            assert selectors.note_get_for_user(actor=actor, pk=notes[name].pk) == notes[name]
        else:
            with pytest.raises(OutOfScope):
                selectors.note_get_for_user(actor=actor, pk=notes[name].pk)


@pytest.mark.parametrize("scope", list(SCOPES))
def test_edit_only_within_the_scope(org, notes, scope):
    actor = _note_role(org, scope, ["view", "edit"])
    for name in ALL_NAMES:
        note = notes[name]
        if name in SCOPES[scope]:
            services.note_update(actor=actor, note=note, data={"title": "edited"})
            assert Note.objects.get(pk=note.pk).title == "edited"
        else:
            with pytest.raises(OutOfScope):
                services.note_update(actor=actor, note=note, data={"title": "edited"})
            assert Note.objects.get(pk=note.pk).title == f"{name} note"


@pytest.mark.parametrize("scope", list(SCOPES))
def test_delete_only_within_the_scope(org, notes, scope):
    actor = _note_role(org, scope, ["view", "delete"])
    for name in ALL_NAMES:
        note = notes[name]
        if name in SCOPES[scope]:
            services.note_delete(actor=actor, note=note)
            assert not Note.objects.filter(pk=note.pk).exists()
        else:
            with pytest.raises(OutOfScope):
                services.note_delete(actor=actor, note=note)
            assert Note.objects.filter(pk=note.pk).exists()


def test_create_needs_the_create_action(org):
    viewer = _note_role(org, "all", ["view", "edit", "delete"])
    with pytest.raises(NotPermitted):
        services.note_create(actor=viewer, data={"title": "hi"})
    assert not Note.objects.exists()
    creator = _note_role(org, "own", ["view", "create"])
    note = services.note_create(actor=creator, data={"title": " hi "})
    assert (note.title, note.owner_id, note.created_by_id) == ("hi", creator.pk, creator.pk)


def test_edit_and_delete_need_their_actions(org, notes):
    viewer = _note_role(org, "all", ["view", "create"])
    with pytest.raises(NotPermitted):
        services.note_update(actor=viewer, note=notes["actor"], data={"title": "x"})
    with pytest.raises(NotPermitted):
        services.note_delete(actor=viewer, note=notes["actor"])
    assert Note.objects.get(pk=notes["actor"].pk).title == "actor note"


def test_handover_needs_transfer(org, notes):
    editor = _note_role(org, "department", ["view", "edit"])
    with pytest.raises(NotPermitted):
        services.note_update(actor=editor, note=notes["actor"], data={"owner": org.peer})
    assert Note.objects.get(pk=notes["actor"].pk).owner_id == org.actor.pk
    mover = _note_role(org, "department", ["view", "edit", "transfer"])
    services.note_update(actor=mover, note=notes["actor"], data={"owner": org.peer})
    assert Note.objects.get(pk=notes["actor"].pk).owner_id == org.peer.pk
    event = AuditEvent.objects.get(entity="note", action="transfer")
    assert event.changes == {"owner": [org.actor.pk, org.peer.pk]}


@pytest.mark.parametrize("action", ["export", "import"])
def test_other_actions_are_granted_per_role(org, action):
    without = _note_role(org, "all", ["view"])
    assert not permissions.can(without, "note", action)
    with_it = _note_role(org, "all", ["view", action])
    assert permissions.can(with_it, "note", action)


def test_builtin_sales_role_has_no_note_grant(org, notes):
    with pytest.raises(NotPermitted):
        selectors.note_list(actor=org.peer)


def test_admin_sees_every_note(org, notes):
    assert {n.pk for n in selectors.note_list(actor=org.admin).items} == _ids(notes, *ALL_NAMES)


# --- services: validation, audit, events ----------------------------------------------


def _fields(org) -> None:
    customfield_save(
        actor=org.admin,
        field=None,
        data={
            "entity": "note",
            "key": "region",
            "label_zh": "区域",
            "kind": "select",
            "options": [{"value": "east"}, {"value": "north"}, {"value": "south"}],
        },
    )
    for key, kind in [
        ("size", "number"),
        ("budget", "decimal"),
        ("due", "date"),
        ("urgent", "boolean"),
        ("topic", "text"),
        ("tags", "multi_select"),
    ]:
        customfield_save(
            actor=org.admin,
            field=None,
            data={
                "entity": "note",
                "key": key,
                "label_zh": key,
                "kind": kind,
                "options": [{"value": "a"}, {"value": "b"}] if kind == "multi_select" else [],
            },
        )


def test_create_validates_custom_and_records_audit_and_event(
    org, django_capture_on_commit_callbacks
):
    _fields(org)
    received: list[events.Event] = []
    events.subscribe("note.created", received.append)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            note = services.note_create(
                actor=org.admin, data={"title": "周会", "custom": {"region": "east", "size": "3"}}
            )
    finally:
        events.unsubscribe("note.created", received.append)
    assert note.custom == {"region": "east", "size": 3}
    event = AuditEvent.objects.get(entity="note", action="create")
    assert event.object_id == str(note.pk)
    assert event.changes["custom.region"] == [None, "east"]
    assert event.changes["title"] == [None, "周会"]
    assert [(e.name, e.payload["id"], e.actor_id) for e in received] == [
        ("note.created", note.pk, org.admin.pk)
    ]


def test_create_with_invalid_input_changes_nothing(org):
    _fields(org)
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        services.note_create(
            actor=org.admin, data={"title": "", "custom": {"region": "mars", "colour": "red"}}
        )
    assert sorted(e.field for e in exc.value.errors) == [
        "custom.colour",
        "custom.region",
        "title",
    ]
    assert not Note.objects.exists()
    assert AuditEvent.objects.count() == before


def test_update_merges_custom_and_audits_the_diff(org):
    _fields(org)
    note = services.note_create(
        actor=org.admin, data={"title": "a", "custom": {"region": "east", "size": 1}}
    )
    services.note_update(actor=org.admin, note=note, data={"custom": {"size": 2}})
    note.refresh_from_db()
    assert note.custom == {"region": "east", "size": 2}
    event = AuditEvent.objects.get(entity="note", action="update")
    assert event.changes == {"custom.size": [1, 2]}


def test_update_without_changes_records_nothing(org):
    note = services.note_create(actor=org.admin, data={"title": "a"})
    before = AuditEvent.objects.count()
    services.note_update(actor=org.admin, note=note, data={"title": "a"})
    assert AuditEvent.objects.count() == before


def test_delete_is_audited(org):
    note = services.note_create(actor=org.admin, data={"title": "bye"})
    services.note_delete(actor=org.admin, note=note)
    event = AuditEvent.objects.get(entity="note", action="delete")
    assert (event.object_id, event.changes) == (str(note.pk), {"title": ["bye", None]})


# --- filter and sort by custom values (SQLite and PostgreSQL) ----------------------------


@pytest.fixture
def catalogue(org) -> dict[str, Note]:
    _fields(org)
    rows = {
        "n1": {
            "region": "east",
            "size": 2,
            "budget": "9.5",
            "due": "2024-03-01",
            "urgent": True,
            "topic": "华东 周会",
            "tags": ["a"],
        },
        "n2": {
            "region": "north",
            "size": 10,
            "budget": "10",
            "due": "2024-01-15",
            "urgent": False,
            "topic": "北方",
            "tags": ["a", "b"],
        },
        "n3": {
            "region": "east",
            "size": 7,
            "budget": "100.25",
            "due": "2024-12-31",
            "urgent": False,
            "tags": ["b"],
        },
        "n4": {},
    }
    return {
        name: services.note_create(actor=org.admin, data={"title": name, "custom": custom})
        for name, custom in rows.items()
    }


def _titles(org, **kwargs) -> list[str]:
    return [n.title for n in selectors.note_list(actor=org.admin, **kwargs).items]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"region": "east"}, {"n1", "n3"}),
        ({"size": "10"}, {"n2"}),
        ({"size__gte": "7"}, {"n2", "n3"}),
        ({"size__lte": 7}, {"n1", "n3"}),
        ({"budget__gte": "10"}, {"n2", "n3"}),
        ({"budget__lte": "9.5"}, {"n1"}),
        ({"budget": "10.00"}, {"n2"}),
        ({"due__gte": "2024-02-01"}, {"n1", "n3"}),
        ({"due__lte": "2024-03-01"}, {"n1", "n2"}),
        ({"urgent": "是"}, {"n1"}),
        ({"urgent": "否"}, {"n2", "n3"}),
        ({"topic": "周会"}, {"n1"}),
        ({"topic__contains": "北"}, {"n2"}),
        ({"tags": "b"}, {"n2", "n3"}),
        ({"region": "east", "size__gte": 5}, {"n3"}),
    ],
)
def test_filter_by_custom_values(org, catalogue, filters, expected):
    assert set(_titles(org, custom=filters)) == expected


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"colour": "red"}, "custom.colour"),
        ({"size__near": 1}, "custom.size__near"),
        ({"size": "abc"}, "custom.size"),
    ],
)
def test_filter_by_unknown_key_or_bad_value_is_an_error(org, catalogue, filters, field):
    with pytest.raises(ValidationFailed) as exc:
        selectors.note_list(actor=org.admin, custom=filters)
    assert [e.field for e in exc.value.errors] == [field]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("custom.size", ["n1", "n3", "n2", "n4"]),
        ("-custom.size", ["n2", "n3", "n1", "n4"]),
        ("custom.budget", ["n1", "n2", "n3", "n4"]),
        ("-custom.budget", ["n3", "n2", "n1", "n4"]),
        ("custom.due", ["n2", "n1", "n3", "n4"]),
        ("custom.region", ["n3", "n1", "n2", "n4"]),
        ("title", ["n1", "n2", "n3", "n4"]),
        ("-title", ["n4", "n3", "n2", "n1"]),
    ],
)
def test_sort_by_custom_values_with_empty_last(org, catalogue, sort, expected):
    assert _titles(org, sort=sort) == expected


def test_sort_by_unknown_field_is_an_error(org, catalogue):
    for sort in ("custom.colour", "password"):
        with pytest.raises(ValidationFailed) as exc:
            selectors.note_list(actor=org.admin, sort=sort)
        assert [e.field for e in exc.value.errors] == ["sort"]


def test_filter_respects_the_scope(org, catalogue):
    # given the catalogue is owned by the administrator, outside the actor's department
    actor = _note_role(org, "department", ["view"])

    def east_titles() -> list[str]:
        page = selectors.note_list(actor=actor, custom={"region": "east"})
        return [n.title for n in page.items]

    assert east_titles() == []
    # when one eastern note moves to a colleague
    Note.objects.filter(title="n1").update(owner=org.peer)
    # then only that one matches
    assert east_titles() == ["n1"]


def test_values_of_a_deactivated_field_survive_updates(org, catalogue):
    field = CustomField.objects.get(entity="note", key="size")
    services.customfield_delete(actor=org.admin, field=field)
    note = catalogue["n1"]
    services.note_update(actor=org.admin, note=note, data={"custom": {"region": "north"}})
    note.refresh_from_db()
    assert note.custom["size"] == 2
    assert note.custom["region"] == "north"


# --- the /notes API -------------------------------------------------------------------


def _api(user: User) -> ApiClient:
    return ApiClient().login(user)


def test_api_create_get_patch_delete(org):
    _fields(org)
    role = org_support.role(
        org.admin, {"note": {"actions": ["view", "create", "edit", "delete"], "scope": "own"}}
    )
    actor = org.give(org.actor, role)
    client = _api(actor)
    r = client.post("notes", {"title": "周报", "body": "内容", "custom": {"region": "east"}})
    assert r.status_code == 201, r.content
    body = r.json()
    assert set(body) == {"id", "title", "body", "owner", "custom", "created_at", "updated_at"}
    assert body["owner"] == {"id": actor.pk, "username": "actor"}
    assert body["custom"] == {"region": "east"}
    note_id = body["id"]
    assert client.get(f"notes/{note_id}").json()["title"] == "周报"
    r = client.patch(f"notes/{note_id}", {"custom": {"size": "5"}})
    assert r.status_code == 200, r.content
    assert r.json()["custom"] == {"region": "east", "size": 5}
    assert client.delete(f"notes/{note_id}").status_code == 204
    assert client.get(f"notes/{note_id}").status_code == 404


def test_api_pool_note_has_null_owner(org, notes):
    r = _api(org.admin).get(f"notes/{notes['pool'].pk}")
    assert r.json()["owner"] is None


def test_api_validation_error_names_the_custom_field(org):
    _fields(org)
    r = _api(org.admin).post("notes", {"title": "x", "custom": {"size": "many"}})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "custom.size"
    r = _api(org.admin).post("notes", {"body": "no title"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "title"
    assert not Note.objects.exists()


def test_api_out_of_scope_is_404_and_missing_permission_403(org, notes):
    role = org_support.role(org.admin, {"note": {"actions": ["view"], "scope": "department"}})
    client = _api(org.give(org.actor, role))
    assert client.get(f"notes/{notes['peer'].pk}").status_code == 200
    assert client.get(f"notes/{notes['east'].pk}").status_code == 404
    assert client.patch(f"notes/{notes['east'].pk}", {"title": "x"}).status_code == 404
    assert client.patch(f"notes/{notes['peer'].pk}", {"title": "x"}).status_code == 403
    assert client.delete(f"notes/{notes['peer'].pk}").status_code == 403
    assert client.post("notes", {"title": "x"}).status_code == 403
    assert Note.objects.get(pk=notes["peer"].pk).title == "peer note"
    assert Note.objects.count() == len(notes)
    # the built-in sales role has no grant on notes at all
    assert _api(org.peer).get("notes").status_code == 403


def test_api_list_filters_and_sorts_by_custom(org, catalogue):
    client = _api(org.admin)
    r = client.get("notes", **{"custom.region": "east", "sort": "-custom.budget"})
    assert r.status_code == 200, r.content
    assert [n["title"] for n in r.json()["items"]] == ["n3", "n1"]
    r = client.get("notes", **{"custom.size__gte": "5", "sort": "custom.size"})
    assert [n["title"] for n in r.json()["items"]] == ["n3", "n2"]
    r = client.get("notes", **{"custom.colour": "red"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "custom.colour"
    r = client.get("notes", sort="custom.colour")
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "sort"


def test_api_list_page_size_limit(org):
    r = _api(org.admin).get("notes", page_size=500)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "page_size"


def test_api_notes_list_query_count(org, notes, django_assert_max_num_queries):
    for i in range(20):
        Note.objects.create(title=f"bulk {i}", owner=org.peer)
    role = org_support.role(org.admin, {"note": {"actions": ["view"], "scope": "subtree"}})
    client = _api(org.give(org.actor, role))
    client.get("me")  # stamps last_used_at once
    with django_assert_max_num_queries(5):
        r = client.get("notes", page_size=10)
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 23
    assert len(body["items"]) == 10


def test_multi_select_filter_matches_chinese_options(org):
    """SQLite stores non-ASCII JSON escaped; the filter must still find 华东 in a list."""
    admin = org.admin
    customfield_save(
        actor=admin,
        field=None,
        data={
            "entity": "note",
            "key": "regions",
            "label_zh": "区域",
            "kind": "multi_select",
            "options": [{"value": "华东"}, {"value": "华南"}, {"value": "east"}],
        },
    )
    east = services.note_create(
        actor=admin, data={"title": "一", "custom": {"regions": ["华东", "east"]}}
    )
    services.note_create(actor=admin, data={"title": "二", "custom": {"regions": ["华南"]}})
    page = selectors.note_list(actor=admin, custom={"regions": "华东"})
    assert [n.pk for n in page.items] == [east.pk]
    page = selectors.note_list(actor=admin, custom={"regions": "east"})
    assert [n.pk for n in page.items] == [east.pk]
