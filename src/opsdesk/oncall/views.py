"""Who is on call, the acknowledge page behind the signed link in notifications, the ticket
panel's Acknowledge button, and calendar feeds (session and signed links)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from opsdesk.core.clock import now
from opsdesk.core.errors import NotFound
from opsdesk.core.people import display_name
from opsdesk.oncall.feeds import feed_access, feed_key_get, feed_key_rotate, feed_url
from opsdesk.oncall.ical import person_ical, schedule_ical
from opsdesk.oncall.mobilise import escalation_answer
from opsdesk.oncall.models import Schedule
from opsdesk.oncall.panels import PANEL_TEMPLATE, escalation_panel_context
from opsdesk.oncall.selectors import access_escalation, oncall_mode, oncall_who, schedule_list
from opsdesk.oncall.services import ack_link_load, escalation_acknowledge
from opsdesk.tenancy.decorators import staff_required
from opsdesk.tenancy.models import Team
from opsdesk.tenancy.selectors import staff_scope


@login_required
def who_page(request: HttpRequest) -> HttpResponse:
    staff_scope(user=request.user)
    at = now()
    rows = [
        (team, [display_name(p) for p in oncall_who(team=team, at=at)])
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
        "person": display_name(user),
        "responses": escalation.responses.select_related("user").order_by("id"),
    }
    return render(request, "oncall/ack.html", context)


@require_POST
@staff_required
def panel_ack(request: HttpRequest, escalation_id: int) -> HttpResponse:
    """The ticket panel's Acknowledge button: htmx gets the panel back, a plain form post goes
    back to the ticket page."""
    try:
        escalation = access_escalation(actor=request.user, escalation_id=escalation_id)  # type: ignore[arg-type]
    except NotFound as exc:
        raise Http404(exc.message) from exc
    escalation_acknowledge(escalation=escalation, user=request.user)  # type: ignore[arg-type]
    ticket = escalation.ticket
    if not request.htmx:  # type: ignore[attr-defined]
        return redirect(reverse("tickets:detail", args=[ticket.reference]))
    panel = escalation_panel_context(ticket, request.user)
    return render(request, PANEL_TEMPLATE, {"panel": panel, "ticket": ticket})


# --- calendar feeds --------------------------------------------------------------------

# A feed covers a week back and 60 days from there.
FEED_BACK = timedelta(days=7)
FEED_SPAN = timedelta(days=60)


def _feed(body: bytes) -> HttpResponse:
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response


def _schedule_feed(schedule: Schedule) -> HttpResponse:
    start = now() - FEED_BACK
    return _feed(schedule_ical(schedule=schedule, start=start, end=start + FEED_SPAN))


def _person_feed(person: User) -> HttpResponse:
    start = now() - FEED_BACK
    return _feed(person_ical(user=person, start=start, end=start + FEED_SPAN))


@login_required
def schedule_feed(request: HttpRequest, schedule_id: int) -> HttpResponse:
    staff_scope(user=request.user)
    return _schedule_feed(get_object_or_404(Schedule, pk=schedule_id))


@login_required
def person_feed(request: HttpRequest, username: str) -> HttpResponse:
    staff_scope(user=request.user)
    return _person_feed(get_object_or_404(User, username=username, is_active=True))


def _signed(user_id: int, signature: str, scope: str, object_id: int) -> None:
    try:
        feed_access(user_id=user_id, signature=signature, scope=scope, object_id=object_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def schedule_feed_signed(
    request: HttpRequest, user_id: int, signature: str, schedule_id: int
) -> HttpResponse:
    """For calendar apps: no session; the signed link is the credential."""
    _signed(user_id, signature, "schedule", schedule_id)
    return _schedule_feed(get_object_or_404(Schedule, pk=schedule_id))


def person_feed_signed(
    request: HttpRequest, user_id: int, signature: str, person_id: int
) -> HttpResponse:
    _signed(user_id, signature, "person", person_id)
    return _person_feed(get_object_or_404(User, pk=person_id, is_active=True))


@require_http_methods(["GET", "POST"])
@staff_required
def feeds_page(request: HttpRequest) -> HttpResponse:
    """Your calendar links; POST makes new ones and revokes the old."""
    user: User = request.user  # type: ignore[assignment]
    if request.method == "POST":
        feed_key_rotate(user=user)
        return redirect(reverse("oncall:feeds"))
    key = feed_key_get(user=user)
    schedules = [
        (schedule, feed_url(user=user, scope="schedule", object_id=schedule.pk))
        for schedule in schedule_list()
    ]
    context = {
        "person_url": feed_url(user=user, scope="person", object_id=user.pk),
        "schedules": schedules,
        "rotated_at": key.rotated_at,
    }
    return render(request, "oncall/feeds.html", context)
