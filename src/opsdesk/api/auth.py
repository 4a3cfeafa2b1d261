"""Who is calling the API: a bearer token or the browser's session, and only staff.

Without credentials: 401. With credentials of someone who is not support-centre staff: 403
(tenancy.selectors.staff_scope decides). Session requests must pass Django's CSRF check for
unsafe methods; token requests carry no cookies and need none.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from opsdesk.api.selectors import api_token_user
from opsdesk.api.types import is_clean_text
from opsdesk.tenancy.selectors import staff_scope

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class StaffTokenAuth(HttpBearer):
    """``Authorization: Bearer odk_…``. A header with an unknown or revoked token is a 401,
    not a fall-through to the session."""

    def authenticate(self, request: HttpRequest, token: str) -> User:
        raw = token.strip()
        user = api_token_user(raw=raw) if is_clean_text(raw, max_length=200) else None
        if user is None:
            raise AuthenticationError(401, _("Invalid or revoked API token."))
        staff_scope(user=user)
        request.user = user
        return user


class StaffSessionAuth(APIKeyCookie):
    """The browser UI's Django session, CSRF-checked for unsafe methods.

    ninja's own SessionAuth runs the CSRF check before it knows whether anyone is signed in,
    which turns an anonymous POST into a 403; here anonymous stays 401.
    """

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self) -> None:
        super().__init__(csrf=True)

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = request.user
        if not user.is_authenticated:
            return None
        if (
            request.method not in SAFE_METHODS
            and not getattr(request, "_ninja_csrf_exempt", False)
            and check_csrf(request) is not None
        ):
            raise HttpError(403, _("CSRF check failed."))
        staff_scope(user=user)
        return user


def request_user(request: HttpRequest) -> User:
    """The authenticated staff user of an API request."""
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)  # noqa: S101 - the auth classes only ever set a User
    return user
