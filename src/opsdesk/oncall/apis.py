"""On-call API (/api/v1/oncall): who is on call, acknowledge an escalation. Thin handlers."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router

from opsdesk.core.clock import now
from opsdesk.oncall.mobilise import escalation_answer, incident_mobilise
from opsdesk.oncall.models import Escalation
from opsdesk.oncall.schemas import (
    EscalationOut,
    MobiliseIn,
    PersonOut,
    RespondIn,
    WhoOut,
    WhoQuery,
)
from opsdesk.oncall.selectors import (
    access_escalation,
    oncall_mode,
    oncall_who,
    person_label,
    team_for_who,
)
from opsdesk.oncall.services import escalation_acknowledge
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
            PersonOut(id=p.pk, username=p.get_username(), display_name=person_label(p))
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
