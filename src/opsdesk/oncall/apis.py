"""On-call API (/api/v1/oncall): who is on call, acknowledge an escalation, import a rotation
from iCal, signed calendar-feed links. Thin handlers."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest
from ninja import File, Form, Query, Router
from ninja.files import UploadedFile

from opsdesk.core.clock import now
from opsdesk.core.people import display_name
from opsdesk.oncall.feeds import feed_key_rotate, feed_url
from opsdesk.oncall.ical_import import IcalImportError, schedule_ical_import
from opsdesk.oncall.mobilise import escalation_answer, incident_mobilise
from opsdesk.oncall.models import Escalation
from opsdesk.oncall.schemas import (
    EscalationOut,
    FeedsOut,
    IcalImportOut,
    ImportedOverrideOut,
    MobiliseIn,
    PersonOut,
    ProblemOut,
    ProblemsOut,
    RespondIn,
    ScheduleFeedOut,
    WhoOut,
    WhoQuery,
)
from opsdesk.oncall.selectors import (
    access_escalation,
    access_schedule_manage,
    oncall_mode,
    oncall_who,
    schedule_list,
    team_for_who,
)
from opsdesk.oncall.services import escalation_acknowledge
from opsdesk.tenancy.selectors import staff_scope
from opsdesk.tickets.selectors import access_ticket

router = Router(tags=["oncall"])


@router.get("/who", response=WhoOut, url_name="oncall_who")
def oncall_who_api(request: HttpRequest, params: Query[WhoQuery]) -> WhoOut:
    team = team_for_who(actor=request.user, slug=params.team)  # type: ignore[arg-type]
    at = params.at or now()
    people = oncall_who(team=team, at=at)
    return WhoOut(
        team=team.slug,
        at=at,
        mode=oncall_mode(at=at),
        people=[
            PersonOut(id=p.pk, username=p.get_username(), display_name=display_name(p))
            for p in people
        ],
    )


def _out(escalation: Escalation) -> EscalationOut:
    by = escalation.acknowledged_by
    return EscalationOut(
        id=escalation.pk,
        ticket=escalation.ticket.reference,
        state=escalation.state,
        step_index=escalation.step_index,
        cycle=escalation.cycle,
        acknowledged_by=by.get_username() if by is not None else None,
        acknowledged_at=escalation.acknowledged_at,
        bridge=escalation.bridge,
    )


@router.post("/escalations/{escalation_id}/ack", response=EscalationOut, url_name="oncall_ack")
def escalation_ack_api(request: HttpRequest, escalation_id: int) -> EscalationOut:
    escalation = access_escalation(actor=request.user, escalation_id=escalation_id)  # type: ignore[arg-type]
    return _out(escalation_acknowledge(escalation=escalation, user=request.user))  # type: ignore[arg-type]


@router.post(
    "/escalations/{escalation_id}/respond", response=EscalationOut, url_name="oncall_respond"
)
def escalation_respond_api(
    request: HttpRequest, escalation_id: int, data: RespondIn
) -> EscalationOut:
    escalation = access_escalation(actor=request.user, escalation_id=escalation_id)  # type: ignore[arg-type]
    answered = escalation_answer(escalation=escalation, user=request.user, response=data.response)  # type: ignore[arg-type]
    return _out(answered)


@router.post("/mobilise", response={201: EscalationOut}, url_name="oncall_mobilise")
def incident_mobilise_api(request: HttpRequest, data: MobiliseIn) -> tuple[int, EscalationOut]:
    ticket = access_ticket(actor=request.user, reference=data.ticket)
    escalation = incident_mobilise(ticket=ticket, bridge=data.bridge, actor=request.user)  # type: ignore[arg-type]
    return 201, _out(escalation)


@router.post(
    "/schedules/{schedule_id}/ical",
    response={200: IcalImportOut, 422: ProblemsOut},
    url_name="oncall_ical_import",
)
def schedule_ical_import_api(
    request: HttpRequest,
    schedule_id: int,
    file: File[UploadedFile],
    dry_run: Form[bool] = False,
) -> tuple[int, IcalImportOut | ProblemsOut]:
    """Multipart upload of an .ics file; each event becomes an override. All or nothing: any
    unknown person or unreadable event answers 422 with one problem per event."""
    schedule = access_schedule_manage(actor=request.user, schedule_id=schedule_id)  # type: ignore[arg-type]
    try:
        report = schedule_ical_import(schedule=schedule, data=file.read(), dry_run=dry_run)
    except IcalImportError as exc:
        problems = [
            ProblemOut(loc=["body", "file"], msg=p, type="ical_problem") for p in exc.problems
        ]
        return 422, ProblemsOut(detail=problems)
    created = [
        ImportedOverrideOut(
            username=c.user.get_username(), starts_at=c.starts_at, ends_at=c.ends_at
        )
        for c in report.created
    ]
    return 200, IcalImportOut(
        dry_run=dry_run,
        created=created,
        existing=report.existing,
        past=report.past,
        cancelled=report.cancelled,
    )


def _feeds(user: User) -> FeedsOut:
    return FeedsOut(
        person=feed_url(user=user, scope="person", object_id=user.pk),
        schedules=[
            ScheduleFeedOut(
                id=s.pk,
                name=s.name,
                team=s.team.slug,
                url=feed_url(user=user, scope="schedule", object_id=s.pk),
            )
            for s in schedule_list()
        ],
    )


@router.get("/feeds", response=FeedsOut, url_name="oncall_feeds")
def feeds_api(request: HttpRequest) -> FeedsOut:
    """Your signed calendar-feed links (your shifts, each schedule) for calendar apps."""
    staff_scope(user=request.user)
    return _feeds(request.user)  # type: ignore[arg-type]


@router.post("/feeds/rotate", response=FeedsOut, url_name="oncall_feeds_rotate")
def feeds_rotate_api(request: HttpRequest) -> FeedsOut:
    """Revoke all your feed links and answer the new ones."""
    staff_scope(user=request.user)
    feed_key_rotate(user=request.user)  # type: ignore[arg-type]
    return _feeds(request.user)  # type: ignore[arg-type]
