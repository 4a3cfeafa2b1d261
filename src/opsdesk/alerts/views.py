"""Agent UI of the monitoring intake: silences and maintenance windows (list, create,
expire). Mapping rules are edited in the admin and the API. See docs/subsystems/alerts.md."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from opsdesk.alerts.enums import SilenceState
from opsdesk.alerts.forms import SilenceForm
from opsdesk.alerts.matching import matchers_text
from opsdesk.alerts.selectors import (
    alert_config_check,
    alert_config_editable,
    silence_get,
    silence_list,
    silence_state,
)
from opsdesk.alerts.services import silence_create, silence_expire
from opsdesk.core.errors import InvalidInput, NotFound, PermissionDenied
from opsdesk.tenancy.decorators import staff_required
from opsdesk.tickets.forms import add_service_error

EXPIRED_SHOWN = 20


def _rows(user: User, state: str) -> list[dict[str, Any]]:
    silences = silence_list(user=user, state=state).order_by("starts_at", "id")
    if state == SilenceState.EXPIRED:
        silences = silences.order_by("-ends_at", "-id")[:EXPIRED_SHOWN]
    return [
        {"silence": s, "state": silence_state(s), "matchers": matchers_text(s.matchers)}
        for s in silences
    ]


def _render(request: HttpRequest, form: SilenceForm, *, status: int = 200) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    context = {
        "nav": "silences",
        "form": form,
        "can_edit": alert_config_editable(user=user),
        "active": _rows(user, SilenceState.ACTIVE) + _rows(user, SilenceState.PENDING),
        "expired": _rows(user, SilenceState.EXPIRED),
    }
    htmx = request.htmx  # type: ignore[attr-defined]
    template = "alerts/_silences.html" if htmx else "alerts/silences.html"
    response = render(request, template, context, status=200 if htmx else status)
    if htmx and status != 200:
        response["HX-Reswap"] = "outerHTML"  # show the errors (htmx skips 4xx bodies)
    return response


@staff_required
@require_http_methods(["GET", "POST"])
def silence_page(request: HttpRequest) -> HttpResponse:
    """Silences and maintenance windows now and ahead, the latest expired, and (for
    administrators and team leads) the form for a new one."""
    if request.method != "POST":
        return _render(request, SilenceForm())
    user: User = request.user  # type: ignore[assignment]
    _check(user)
    form = SilenceForm(request.POST)
    if form.is_valid():
        starts_at, ends_at = form.times()
        try:
            silence_create(
                matchers=form.cleaned_data["matchers"],
                starts_at=starts_at,
                ends_at=ends_at,
                kind=form.cleaned_data["kind"],
                integration=form.cleaned_data["integration"],
                created_by=user,
                comment=form.cleaned_data["comment"],
            )
        except InvalidInput as exc:
            add_service_error(form, exc)
        else:
            if not request.htmx:  # type: ignore[attr-defined]
                return redirect("alerts:silences")
            return _render(request, SilenceForm())
    return _render(request, form, status=422)


@staff_required
@require_POST
def silence_expire_view(request: HttpRequest, silence_id: int) -> HttpResponse:
    _check(request.user)  # type: ignore[arg-type]
    try:
        silence = silence_get(silence_id=silence_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    silence_expire(silence=silence)
    if not request.htmx:  # type: ignore[attr-defined]
        return redirect("alerts:silences")
    return _render(request, SilenceForm())


def _check(user: User) -> None:
    try:
        alert_config_check(user=user)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(exc.message) from exc
