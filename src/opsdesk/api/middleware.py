"""The API's short path through Django for calls with a bearer token (docs/subsystems/tickets.md,
"Speed").

A call that carries ``Authorization: Bearer …`` under the API's prefix is authenticated by
its token alone (api/auth.py: a bad token is a 401, never a fall-through to the session), so
the browser's middleware does nothing for it: sessions, CSRF (ninja checks CSRF only for
cookie authentication), authentication, messages, htmx and the staff time zone (token calls
get the site's zone, as an anonymous request does). Measured in-process on PostgreSQL, that
chain was about 0.18 ms of an API ticket create's 2.2 ms of CPU.

What still applies is what changes the answer: the language from ``Accept-Language``
(``LocaleMiddleware``: error messages and timeline entries are written in it),
``CommonMiddleware`` and ``X-Frame-Options``. ``SecurityMiddleware`` runs before this one.
Anything else, a session-authenticated API call included, goes down the normal chain.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.handlers.exception import convert_exception_to_response
from django.http import HttpRequest, HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.common import CommonMiddleware
from django.middleware.locale import LocaleMiddleware
from django.urls import NoReverseMatch, resolve, reverse
from django.utils import timezone

Handler = Callable[[HttpRequest], HttpResponse]


def _view(request: HttpRequest) -> HttpResponse:
    """What Django's handler does between the middleware and the view, for ninja's views:
    resolve, call, and refuse a view that answers nothing. (No view middleware runs: the
    only one in the chain is CSRF's, which ninja's views are exempt from.)"""
    match = resolve(request.path_info)
    request.resolver_match = match
    response = match.func(request, *match.args, **match.kwargs)
    if not isinstance(response, HttpResponse):
        raise TypeError(f"The view {match.view_name} did not return an HttpResponse.")
    return response


def _api_prefix() -> str | None:
    try:
        docs = reverse("api:openapi-json")
    except NoReverseMatch:
        return None
    return docs.rsplit("/", 1)[0] + "/"


class ApiTokenMiddleware:
    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response
        handler: Any = convert_exception_to_response(_view)
        for middleware in (XFrameOptionsMiddleware, CommonMiddleware, LocaleMiddleware):
            handler = convert_exception_to_response(middleware(handler))
        self.short_path: Handler = handler  # sync all the way: the chain is built sync
        # A site that wraps every request in a transaction keeps the normal path, which
        # does that; this one would not.
        self.enabled = not any(db.get("ATOMIC_REQUESTS") for db in settings.DATABASES.values())
        self.prefix: str | None = None
        self.resolved = False  # the URLconf is read on the first request, not at start-up

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.enabled and request.META.get("HTTP_AUTHORIZATION", "").startswith("Bearer "):
            if not self.resolved:
                self.prefix, self.resolved = _api_prefix(), True
            if self.prefix and request.path_info.startswith(self.prefix):
                timezone.deactivate()  # what StaffTimezoneMiddleware does without a session
                return self.short_path(request)
        return self.get_response(request)
