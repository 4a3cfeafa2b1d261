"""Who is on call, and the acknowledge page behind the signed link in notifications."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_http_methods

from opsdesk.core.clock import now
from opsdesk.core.errors import NotFound
from opsdesk.oncall.ical import person_ical, schedule_ical
from opsdesk.oncall.mobilise import escalation_answer
from opsdesk.oncall.models import Schedule
from opsdesk.oncall.selectors import oncall_mode, oncall_who, person_label
from opsdesk.oncall.services import ack_link_load
from opsdesk.tenancy.models import Team
from opsdesk.tenancy.selectors import staff_scope


@login_required
def who_page(request: HttpRequest) -> HttpResponse:
    staff_scope(user=request.user)
    at = now()
    rows = [
        (team, [person_label(p) for p in oncall_who(team=team, at=at)])
        for team in Team.objects.order_by("slug")
    ]
    return render(request, "oncall/who.html", {"rows": rows, "at": at, "mode": oncall_mode(at=at)})


@require_http_methods(["GET", "POST"])
def ack_page(request: HttpRequest, token: str) -> HttpResponse:
    """GET only shows a confirm button (link-preview bots fetch links); POST acknowledges.
    The signature identifies the person, so no sign-in is needed from a phone."""
    try:
        escalation, user = ack_link_load(token=token)
    except NotFound as exc:
        return render(request, "oncall/ack.html", {"error": str(exc)}, status=404)
    if request.method == "POST":
        response = "coming_in" if request.POST.get("response") == "coming_in" else "acknowledged"
        escalation = escalation_answer(escalation=escalation, user=user, response=response)
    context = {
        "escalation": escalation,
        "ticket": escalation.ticket,
        "person": person_label(user),
        "responses": escalation.responses.select_related("user").order_by("id"),
    }
    return render(request, "oncall/ack.html", context)


FEED_DAYS = 60


def _feed(body: bytes) -> HttpResponse:
    return HttpResponse(body, content_type="text/calendar; charset=utf-8")


@login_required
def schedule_feed(request: HttpRequest, schedule_id: int) -> HttpResponse:
    staff_scope(user=request.user)
    schedule = get_object_or_404(Schedule, pk=schedule_id)
    start = now() - timedelta(days=7)
    return _feed(
        schedule_ical(schedule=schedule, start=start, end=start + timedelta(days=FEED_DAYS))
    )


@login_required
def person_feed(request: HttpRequest, username: str) -> HttpResponse:
    staff_scope(user=request.user)
    person = get_object_or_404(User, username=username, is_active=True)
    start = now() - timedelta(days=7)
    return _feed(person_ical(user=person, start=start, end=start + timedelta(days=FEED_DAYS)))
