from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from opsdesk.tenancy.selectors import signed_in_profile


class StaffTimezoneMiddleware:
    """Display times in the staff member's zone (Asia/Seoul unless they chose another).

    The first to ask about the signed-in user on a page: their staff profile comes with their
    team ids in one statement, which staff_scope then finds (tenancy.selectors)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        tz_name = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            profile = signed_in_profile(user)
            tz_name = profile.timezone if profile is not None else None
        if tz_name:
            timezone.activate(tz_name)
        else:
            timezone.deactivate()
        return self.get_response(request)
