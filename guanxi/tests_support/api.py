"""A test client for the JSON API that authenticates with a real API token."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from guanxi.identity.models import User
from guanxi.identity.services import token_create


class ApiClient:
    def __init__(self) -> None:
        self.client = Client()
        self.headers: dict[str, str] = {}

    def login(self, user: User) -> ApiClient:
        _token, raw = token_create(actor=None, user=user, name="tests")
        self.headers = {"Authorization": f"Bearer {raw}"}
        return self

    def _call(self, method: str, path: str, data: Any = None, **params: Any) -> Any:
        url = path if path.startswith("/") else f"/api/v1/{path}"
        fn = getattr(self.client, method)
        if method in ("get", "delete"):
            return fn(url, data=params or data, headers=self.headers)
        return fn(
            url, data=json.dumps(data or {}), content_type="application/json", headers=self.headers
        )

    def get(self, path: str, **params: Any) -> Any:
        return self._call("get", path, **params)

    def post(self, path: str, data: Any = None) -> Any:
        return self._call("post", path, data)

    def patch(self, path: str, data: Any = None) -> Any:
        return self._call("patch", path, data)

    def put(self, path: str, data: Any = None) -> Any:
        return self._call("put", path, data)

    def delete(self, path: str) -> Any:
        return self._call("delete", path)
