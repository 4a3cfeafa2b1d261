from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone


class StaffTimezoneMiddleware:
    """Display times in the staff member's zone (Asia/Seoul unless they chose another)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        tz_name = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            profile = getattr(user, "staff_profile", None)
            tz_name = getattr(profile, "timezone", None)
        if tz_name:
            timezone.activate(tz_name)
        else:
            timezone.deactivate()
        return self.get_response(request)
