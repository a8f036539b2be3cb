"""The Ninja API object at /api/v1/: each app contributes a router."""

from __future__ import annotations

from django.conf import settings
from ninja import NinjaAPI

from guanxi.api import errors
from guanxi.api.auth import BrowserSessionAuth, TokenAuth

api = NinjaAPI(
    title="Guanxi CRM API",
    version="1.0.0",
    description=(
        "Open API of Guanxi. Authenticate with `Authorization: Bearer <token>` "
        "(create a token with `guanxi token create USERNAME` or on the API tokens page). "
        "Errors: 422 `{detail, errors: [{field, message}]}`, 409 duplicates with `duplicate_of`, "
        "404 outside your data scope, 403 missing permission, 401 no or bad token.\n\n"
        "Domain events (for automation rules and webhooks) are listed by `GET /api/v1/events`; "
        "each carries the record as this API shows it, the changes (`{field: [old, new]}`) "
        "and the actor."
    ),
    auth=[TokenAuth(), BrowserSessionAuth(csrf=True)],
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
errors.install(api)


def _routers() -> None:
    from guanxi.identity.api import router as identity_router

    api.add_router("", identity_router)
    for module in getattr(settings, "GUANXI_API_ROUTERS", []):
        from importlib import import_module

        mod = import_module(module)
        api.add_router(getattr(mod, "PREFIX", ""), mod.router)


_routers()
