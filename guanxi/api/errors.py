"""The one mapping from domain errors to API responses (DESIGN §3)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError

from guanxi.core.errors import Conflict, DuplicateRecord, NotPermitted, OutOfScope, ValidationFailed


def install(api: NinjaAPI) -> None:
    @api.exception_handler(ValidationFailed)
    def _validation(request: HttpRequest, exc: ValidationFailed) -> HttpResponse:
        return api.create_response(
            request,
            {"detail": exc.message, "errors": [e.as_dict() for e in exc.errors]},
            status=422,
        )

    @api.exception_handler(NinjaValidationError)
    def _schema(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        errors: list[dict[str, Any]] = []
        for err in exc.errors:
            loc = [
                str(p)
                for p in err.get("loc", [])
                if p not in ("body", "payload", "query", "path", "form")
            ]
            errors.append({"field": ".".join(loc) or "body", "message": err.get("msg", "invalid")})
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "Invalid input."
        return api.create_response(request, {"detail": detail, "errors": errors}, status=422)

    @api.exception_handler(DuplicateRecord)
    def _duplicate(request: HttpRequest, exc: DuplicateRecord) -> HttpResponse:
        dup = exc.duplicate
        body: dict[str, Any] = {
            "detail": exc.message,
            "duplicate_of": {"type": dup.type, "id": dup.id if dup.visible else None},
            "match": dup.match,
        }
        if not dup.visible:
            body["duplicate_of"]["visible"] = False
        return api.create_response(request, body, status=409)

    @api.exception_handler(Conflict)
    def _conflict(request: HttpRequest, exc: Conflict) -> HttpResponse:
        return api.create_response(request, {"detail": exc.message}, status=409)

    @api.exception_handler(OutOfScope)
    def _not_found(request: HttpRequest, exc: OutOfScope) -> HttpResponse:
        return api.create_response(request, {"detail": exc.message}, status=404)

    @api.exception_handler(NotPermitted)
    def _forbidden(request: HttpRequest, exc: NotPermitted) -> HttpResponse:
        return api.create_response(request, {"detail": exc.message}, status=403)

    @api.exception_handler(AuthenticationError)
    def _unauthorised(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = api.create_response(
            request,
            {"detail": "Authentication required: send 'Authorization: Bearer <token>'."},
            status=401,
        )
        response["WWW-Authenticate"] = "Bearer"
        return response
