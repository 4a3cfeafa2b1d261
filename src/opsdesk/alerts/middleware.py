"""The monitoring webhook's short path through Django. See docs/subsystems/alerts.md ("Speed").

``POST /api/v1/integrations/{kind}/{token}/`` is answered here, right after
``SecurityMiddleware``, by the same handler the API router mounts
(``apis.integration_webhook_api``) and with the API's own error answers
(``NinjaAPI.on_exception``). It skips what does nothing for a monitoring system but costs
about half of a repeat's CPU: sessions, CSRF (the route is CSRF-exempt anyway),
authentication, messages, htmx, the URL resolver and the ninja operation. The language is
still taken from the request (timeline entries are written in it) and the staff time zone
is reset, as the skipped middleware would have done for an anonymous caller. Refusals are
logged to ``django.request`` as Django would, but with the token masked.

Anything else, an unknown kind included (its 404 comes from the router as before), goes
down the normal chain.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, get_script_prefix, reverse
from django.utils import timezone, translation

from opsdesk.alerts.apis import integration_webhook_api
from opsdesk.alerts.sources import ADAPTERS
from opsdesk.api.api import api

log = logging.getLogger("django.request")


def webhook_path_pattern() -> re.Pattern[str] | None:
    """The webhook's path (without the script prefix) as the URLconf mounts it, with ``kind``
    and ``token`` groups; None when the URLconf has no webhook."""
    try:
        path = reverse("api:integration_webhook", kwargs={"kind": "KIND", "token": "TOKEN"})
    except NoReverseMatch:
        return None
    path = "/" + path.removeprefix(get_script_prefix())
    prefix = path.removesuffix("KIND/TOKEN/")
    return re.compile(re.escape(prefix) + r"(?P<kind>[^/]+)/(?P<token>[^/]+)/\Z")


class WebhookRoute:
    """Which POST is the webhook's: its kind and token, or None. The URLconf is read on the
    first call, not at start-up. Shared by this middleware and alerts/fastpath.py."""

    def __init__(self) -> None:
        self.pattern: re.Pattern[str] | None = None
        self.resolved = False

    def match(self, method: str | None, path_info: str) -> tuple[str, str] | None:
        if method != "POST":
            return None
        if not self.resolved:
            self.pattern, self.resolved = webhook_path_pattern(), True
        found = self.pattern.match(path_info) if self.pattern else None
        if found is None or found["kind"] not in ADAPTERS:
            return None
        return found["kind"], found["token"]


class WebhookMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.route = WebhookRoute()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        found = self.route.match(request.method, request.path_info)
        if found is not None:
            return _webhook(request, kind=found[0], token=found[1])
        return self.get_response(request)


def _webhook(request: HttpRequest, *, kind: str, token: str) -> HttpResponse:
    translation.activate(translation.get_language_from_request(request))
    timezone.deactivate()  # what StaffTimezoneMiddleware does for an anonymous caller
    try:
        response = integration_webhook_api(request, kind, token)
    except Exception as exc:
        response = api.on_exception(request, exc)
    if response.status_code >= 400:
        _refusal_logged(request, response, token=token)
    return response


def _refusal_logged(request: HttpRequest, response: HttpResponse, *, token: str) -> None:
    """Django logs every 4xx/5xx answer with its path (``django.request``), which here holds
    the integration's secret token: log it with the token masked instead."""
    path = request.path.replace(f"/{token}/", "/***/")
    level = logging.ERROR if response.status_code >= 500 else logging.WARNING
    log.log(
        level, "%s: %s", response.reason_phrase, path, extra={"status_code": response.status_code}
    )
    response._has_been_logged = True  # type: ignore[attr-defined]  # Django's own marker
