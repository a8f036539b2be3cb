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


def test_username_with_at_sign_logs_in_by_username(client):
    factories.user("sales", username="li@sales", email="li@example.com", password="Right-pass-123")
    r = client.post("/login/", {"username": "li@sales", "password": "Right-pass-123"})
    assert r.status_code == 302
    client.logout()
    r = client.post("/login/", {"username": "LI@example.com", "password": "Right-pass-123"})
    assert r.status_code == 302
