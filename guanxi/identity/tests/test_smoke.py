import pytest

from guanxi.tests_support import factories

pytestmark = pytest.mark.django_db


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok"}


def test_me_with_token(api_client):
    sales = factories.user("sales", display_name="张伟")
    r = api_client.login(sales).get("me")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["username"] == sales.username
    assert body["display_name"] == "张伟"
    assert body["roles"] == ["sales"]


def test_no_token_is_401(client):
    r = client.get("/api/v1/me")
    assert r.status_code == 401
    assert "detail" in r.json()
