"""The agent-UI gate: every agent page is wrapped in ``staff_required``."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from opsdesk.core.errors import PermissionDenied
from opsdesk.tenancy.selectors import staff_scope

View = Callable[..., HttpResponseBase]


def staff_required(view: View) -> View:
    """Anonymous visitors go to the login page; signed-in non-staff (customer contacts,
    deactivated staff) get 403. The scope is left on ``request.staff_scope``."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        try:
            request.staff_scope = staff_scope(user=request.user)  # type: ignore[attr-defined]
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(exc.message) from exc
        return view(request, *args, **kwargs)

    return wrapper
