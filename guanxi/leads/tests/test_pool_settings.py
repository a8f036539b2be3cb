"""The pool settings page and API: administrators only, every value checked, audited."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from guanxi.core.errors import NotPermitted, ValidationFailed
from guanxi.core.models import AuditEvent
from guanxi.leads import pool
from guanxi.leads.models import Pool, PoolSettings
from guanxi.tests_support import factories

pytestmark = pytest.mark.django_db

VALID = {
    "form": "settings",
    "max_owned": "400",
    "max_locked": "10",
    "max_owned_accounts": "150",
    "max_locked_accounts": "5",
    "cooldown_days": "14",
}


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_page_is_for_administrators_only() -> None:
    sales = _client(factories.user("sales"))
    assert sales.get(reverse("pool:settings")).status_code == 403
    assert sales.post(reverse("pool:settings"), VALID).status_code == 403
    assert not PoolSettings.objects.exists()
    with pytest.raises(NotPermitted):
        pool.settings_save(actor=factories.user("manager"), data={"cooldown_days": 1})


def test_page_saves_valid_values_and_audits_each_change() -> None:
    admin = factories.admin()
    web = _client(admin)
    page = web.get(reverse("pool:settings"))
    assert page.status_code == 200 and 'name="max_owned_accounts"' in page.content.decode()
    resp = web.post(reverse("pool:settings"), VALID)
    assert resp.status_code == 302
    conf = PoolSettings.current()
    assert (conf.max_owned, conf.max_owned_accounts, conf.max_locked_accounts) == (400, 150, 5)
    assert conf.cooldown_days == 14
    event = AuditEvent.objects.get(entity="pool_settings")
    assert event.actor_id == admin.pk
    assert event.changes["cooldown_days"] == [7, 14]
    assert event.changes["max_owned_accounts"] == [300, 150]
    # Saving the same values again changes nothing and records nothing.
    web.post(reverse("pool:settings"), VALID)
    assert AuditEvent.objects.filter(entity="pool_settings").count() == 1
    assert PoolSettings.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [("cooldown_days", "-1"), ("cooldown_days", "366"), ("max_owned", "0"), ("max_locked", "x")],
)
def test_page_rejects_bad_values_next_to_the_field(field: str, value: str) -> None:
    web = _client(factories.admin())
    resp = web.post(reverse("pool:settings"), {**VALID, field: value})
    assert resp.status_code == 422
    form = resp.context["form"]
    assert field in form.errors
    assert not PoolSettings.objects.exists()


def test_service_validates_like_the_page() -> None:
    admin = factories.admin()
    with pytest.raises(ValidationFailed) as err:
        pool.settings_save(actor=admin, data={"cooldown_days": -3, "max_owned": "12a", "colour": 1})
    assert sorted(e.field for e in err.value.errors) == ["colour", "cooldown_days", "max_owned"]
    assert pool.settings_save(actor=admin, data={"cooldown_days": "0"}).cooldown_days == 0


def test_api_reads_and_patches_settings(api_client: Any) -> None:
    sales = factories.user("sales")
    assert api_client.login(sales).get("pool/settings").json()["max_owned_accounts"] == 300
    assert api_client.login(sales).patch("pool/settings", {"cooldown_days": 1}).status_code == 403
    api = api_client.login(factories.admin())
    bad = api.patch("pool/settings", {"max_locked_accounts": -1})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "max_locked_accounts"
    nulled = api.patch("pool/settings", {"max_owned": None})
    assert nulled.status_code == 422 and nulled.json()["errors"][0]["field"] == "max_owned"
    ok = api.patch("pool/settings", {"max_owned_accounts": 99})
    assert ok.status_code == 200 and ok.json()["max_owned_accounts"] == 99
    assert PoolSettings.current().max_owned_accounts == 99


def test_department_pools_are_managed_on_the_page() -> None:
    east = factories.department("华东区")
    web = _client(factories.admin(language="en"))
    resp = web.post(reverse("pool:settings"), {"form": "pool", "department": east.pk, "name": ""})
    assert resp.status_code == 302
    assert Pool.objects.get(department=east).name == "华东区 pool"
    dup = web.post(reverse("pool:settings"), {"form": "pool", "department": east.pk})
    assert dup.status_code == 422 and "already has a pool" in dup.content.decode()
    resp = web.post(reverse("pool:remove", args=[east.pk]))
    assert resp.status_code == 302 and not Pool.objects.exists()
    assert (
        _client(factories.user("sales")).post(reverse("pool:remove", args=[1])).status_code == 403
    )
