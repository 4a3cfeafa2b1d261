"""How the API reports errors: the domain errors of opsdesk.core.errors as HTTP statuses,
with field errors in the same ``{"detail": [{"loc": [...], "msg": ...}]}`` shape ninja uses
for validation errors."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.main import Exc

from opsdesk.core.errors import Conflict, InvalidInput, NotFound, OpsDeskError, PermissionDenied

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Every handler names its JSON body argument ``payload``.
BODY_ARGUMENT = "payload"


def field_error(request: HttpRequest, *, field: str | None, msg: str, kind: str) -> dict[str, Any]:
    where = "query" if request.method in SAFE_METHODS else "body"
    return {"loc": [where, field] if field else [where], "msg": msg, "type": kind}


def install_error_handlers(api: NinjaAPI) -> None:
    def invalid_input(request: HttpRequest, exc: Exc[InvalidInput]) -> HttpResponse:
        error = field_error(request, field=exc.field, msg=exc.message, kind="invalid_input")
        return api.create_response(request, {"detail": [error]}, status=422)

    def domain_error(request: HttpRequest, exc: Exc[OpsDeskError]) -> HttpResponse:
        return api.create_response(request, {"detail": exc.message}, status=exc.status_code)

    def unauthenticated(request: HttpRequest, exc: Exc[AuthenticationError]) -> HttpResponse:
        response = api.create_response(
            request, {"detail": str(exc) or "Unauthorized"}, status=exc.status_code
        )
        response["WWW-Authenticate"] = 'Bearer realm="opsdesk"'
        return response

    def http_error(request: HttpRequest, exc: Exc[HttpError]) -> HttpResponse:
        # ninja answers an unparsable body with 400; the API answers every bad body with 422.
        if exc.status_code == 400 and str(exc).startswith("Cannot parse request body"):
            error = {
                "loc": ["body"],
                "msg": _("The body is not valid JSON."),
                "type": "json_invalid",
            }
            return api.create_response(request, {"detail": [error]}, status=422)
        return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)

    def validation_error(request: HttpRequest, exc: Exc[ValidationError]) -> HttpResponse:
        # ninja puts the handler's argument name in body locations (["body", "payload",
        # "subject"]); drop it so every body error reads ["body", field, ...].
        errors = []
        for error in exc.errors:
            loc = list(error.get("loc", ()))
            if len(loc) >= 2 and loc[0] == "body" and loc[1] == BODY_ARGUMENT:
                loc.pop(1)
            errors.append({**error, "loc": loc})
        return api.create_response(request, {"detail": errors}, status=422)

    def integrity_error(request: HttpRequest, exc: Exc[IntegrityError]) -> HttpResponse:
        # Two requests raced past a service's uniqueness check; the database said no.
        return api.create_response(
            request, {"detail": _("The change conflicts with existing data.")}, status=409
        )

    api.add_exception_handler(InvalidInput, invalid_input)
    for cls in (NotFound, PermissionDenied, Conflict, OpsDeskError):
        api.add_exception_handler(cls, domain_error)
    api.add_exception_handler(AuthenticationError, unauthenticated)
    api.add_exception_handler(HttpError, http_error)
    api.add_exception_handler(ValidationError, validation_error)
    api.add_exception_handler(IntegrityError, integrity_error)
