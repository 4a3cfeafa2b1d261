"""Phone intake API (/api/v1/calls): telephony (CTI) reports ringing calls here."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from opsdesk.api.auth import request_user
from opsdesk.intake.schemas import CallIncomingIn, CallIncomingOut
from opsdesk.intake.services import call_incoming
from opsdesk.tickets.selectors import ticket_open_for_organisation

router = Router(tags=["calls"])


@router.post("/incoming", response={201: CallIncomingOut}, url_name="call_incoming")
def call_incoming_api(request: HttpRequest, payload: CallIncomingIn) -> tuple[int, dict[str, Any]]:
    """Match the caller by number (any Korean form), record the call and put a notice on
    the agents' screens. Open tickets are the caller's organisation's, as far as the
    calling account may see them."""
    call, match = call_incoming(number=payload.number)
    open_tickets = (
        ticket_open_for_organisation(
            actor=request_user(request), organisation_id=match.organisation.pk
        )
        if match.organisation is not None
        else []
    )
    return 201, {
        "call_id": call.pk,
        "number": match.number,
        "recognised": match.recognised,
        "contact": match.contact,
        "organisation": match.organisation,
        "open_tickets": open_tickets,
    }
