"""The monitoring webhook, answered before Django when it can be. See
docs/subsystems/alerts.md ("The webhook").

Nearly every call a monitoring system makes is well formed, and most only repeat alerts
OpsDesk already holds (one UPDATE). Django's request handling around it (request and
response objects, signals, the middleware chain, the API's view) cost as much CPU as a
repeat itself (profiled). :class:`WebhookFastPath` wraps the WSGI application `opsdesk
serve` runs: for ``POST`` to the webhook it reads the body and asks ``webhook_accept`` —
the integration, the adapter's authentication and parsing, then ``alert_ingest`` as the
API would call it — and answers with the API's body and SecurityMiddleware's headers. A
call that service would refuse (unknown token, bad signature, malformed body: answered and
dead-lettered by Django's path, once) or an SNS subscription goes to Django with the body
as read and nothing written, as do calls with no ``Content-Length``, a body over
``DATA_UPLOAD_MAX_MEMORY_SIZE``, or that Django would redirect to HTTPS. A database error
(the 503 an overloaded database gets) also goes to Django: its transaction rolled back.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any, cast

from django.conf import settings
from django.db import DatabaseError, close_old_connections
from django.http import HttpRequest, HttpResponse, parse_cookie
from django.middleware.security import SecurityMiddleware
from django.utils import timezone, translation

from opsdesk.alerts.apis import ingest_answer
from opsdesk.alerts.middleware import WebhookRoute
from opsdesk.alerts.services import webhook_accept

log = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class WebhookFastPath:
    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        self.route = WebhookRoute()
        # SecurityMiddleware's headers, over HTTP and over HTTPS: read from the settings on
        # first use, as Django's middleware reads them when it loads.
        self.security: dict[bool, list[tuple[str, str]]] = {}

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        found = self.route.match(environ.get("REQUEST_METHOD"), environ.get("PATH_INFO", ""))
        if found is not None:
            answer = self._answer(environ, kind=found[0], token=found[1])
            if answer is not None:
                start_response("200 OK", self._headers(environ, len(answer)))
                return [answer]
        return self.app(environ, start_response)

    def _headers(self, environ: dict[str, Any], length: int) -> list[tuple[str, str]]:
        secure = _secure(environ)
        if secure not in self.security:
            self.security[secure] = _security_headers(secure=secure)
        return [
            ("Content-Type", "application/json"),
            ("Content-Length", str(length)),
            *self.security[secure],
        ]

    def _answer(self, environ: dict[str, Any], *, kind: str, token: str) -> bytes | None:
        """The answer to a call ``webhook_accept`` takes, or None (the body put back for
        Django)."""
        if _redirected(environ):
            return None
        try:
            size = int(environ.get("CONTENT_LENGTH") or "")
        except ValueError:
            return None
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if size <= 0 or (limit is not None and size > limit):
            return None
        body = environ["wsgi.input"].read(size)
        environ["wsgi.input"] = io.BytesIO(body)
        # What Django's request_started does for the database: drop a connection past its
        # age or broken by an earlier request. (Its request_finished does the same after the
        # answer; here the next call's start does it, and Django's path when it takes over.)
        close_old_connections()
        # As alerts.middleware does: timeline entries are written in the request's language,
        # and no staff time zone applies; both restored afterwards.
        source = cast(HttpRequest, _LanguageSource(environ))  # reads COOKIES and META only
        language = translation.get_language_from_request(source)
        try:
            with translation.override(language), timezone.override(None):
                outcome = webhook_accept(
                    kind=kind, token=token, body=body, headers=_request_headers(environ)
                )
        except DatabaseError:
            # Django's path answers it (503 when the database is overloaded).
            log.warning("alert webhook: the fast path passed the call on", exc_info=True)
            return None
        except Exception:  # a shortcut must never fail a call that Django would take
            log.exception("alert webhook: the fast path failed; Django takes the call")
            return None
        if outcome is None:
            return None
        # The API's answer (IngestOut), byte for byte as JsonResponse writes it.
        return json.dumps(ingest_answer(outcome)).encode()


class _LanguageSource:
    """What translation.get_language_from_request reads of a request: the language cookie
    and Accept-Language."""

    def __init__(self, environ: dict[str, Any]) -> None:
        self.COOKIES = parse_cookie(environ.get("HTTP_COOKIE", ""))
        self.META = environ


def _request_headers(environ: dict[str, Any]) -> dict[str, str]:
    headers = {
        key[5:].replace("_", "-").lower(): value
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = environ[key]
    return headers


def _secure(environ: dict[str, Any]) -> bool:
    """HttpRequest.is_secure() on the environ."""
    if settings.SECURE_PROXY_SSL_HEADER:
        header, secure_value = settings.SECURE_PROXY_SSL_HEADER
        value = environ.get(header)
        if value is not None:
            return bool(value.split(",")[0].strip() == secure_value)
    return bool(environ.get("wsgi.url_scheme") == "https")


def _redirected(environ: dict[str, Any]) -> bool:
    """Django's SecurityMiddleware would send this call to HTTPS instead."""
    return bool(settings.SECURE_SSL_REDIRECT) and not _secure(environ)


class _Scheme(HttpRequest):
    """A request that is over HTTPS or not, for asking SecurityMiddleware its headers."""

    def __init__(self, *, secure: bool) -> None:
        super().__init__()
        self.secure = secure

    def _get_scheme(self) -> str:
        return "https" if self.secure else "http"


def _security_headers(*, secure: bool) -> list[tuple[str, str]]:
    """The headers Django's SecurityMiddleware adds to an answer, asked of the middleware
    itself (once per scheme, see WebhookFastPath._headers)."""
    response = HttpResponse(content_type="application/json")
    plain = set(response.headers)
    SecurityMiddleware(lambda request: response).process_response(_Scheme(secure=secure), response)
    return [(name, value) for name, value in response.items() if name not in plain]
