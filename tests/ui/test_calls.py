from __future__ import annotations

import pytest
from django.test import Client

from opsdesk.intake.models import PhoneCall
from opsdesk.intake.services import call_incoming
from opsdesk.tickets.enums import Channel, EventKind
from opsdesk.tickets.models import Ticket, TimelineEvent
from tests.factories import make_contact, make_ticket, team
from tests.ui.conftest import Desk

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("typed", ["010-0000-0001", "01000000001", "+82 10 0000 0001"])
def test_lookup_recognises_the_caller_in_any_format(desk: Desk, agent_client: Client, typed: str):
    open_ticket = make_ticket(
        desk.org, contract=desk.contract, contact=desk.contact, subject="Backup failed"
    )
    body = agent_client.get("/calls/lookup/", {"number": typed}).content.decode()
    assert 'id="caller-recognised"' in body
    assert desk.contact.name in body and desk.org.name in body
    assert open_ticket.reference in body and "Backup failed" in body


def test_lookup_shows_shared_number_and_unknown_and_office_line(desk: Desk, agent_client: Client):
    sharer = make_contact(desk.org, phones=("010-0000-0001",))
    shared = agent_client.get("/calls/lookup/", {"number": "010-0000-0001"}).content.decode()
    assert sharer.name in shared and "Others sharing this number" in shared
    office = agent_client.get("/calls/lookup/", {"number": "0200001000"}).content.decode()
    assert "Office line" in office and desk.org.name in office
    unknown = agent_client.get("/calls/lookup/", {"number": "010-0000-0999"}).content.decode()
    assert 'id="caller-unknown"' in unknown and desk.org.name in unknown  # organisation picker
    picked = agent_client.get(
        "/calls/lookup/", {"number": "010-0000-0999", "organisation": desk.org.code}
    ).content.decode()
    assert desk.contact.name in picked and desk.contract.name in picked
    bad = agent_client.get("/calls/lookup/", {"number": "hello"}).content.decode()
    assert "not a phone number" in bad


def _call(client: Client, **overrides: object):
    data = {
        "number": "+82 10-0000-0001",
        "notes": "Customer reports 502 on the web tier",
        "duration": "4:30",
        "target": "new",
        "subject": "Web tier 502",
        "kind": "incident",
        "priority": "high",
        "severity": "",
        "contract": "",
    }
    data.update(overrides)
    return client.post("/calls/new/", data)


def test_log_a_call_creates_a_ticket_with_a_call_event(desk: Desk, agent_client: Client):
    response = _call(agent_client, contract=desk.contract.pk)
    assert response.status_code == 302
    ticket = Ticket.objects.get(subject="Web tier 502")
    assert response["Location"] == f"/tickets/{ticket.reference}/"
    assert ticket.channel == Channel.PHONE and ticket.contact == desk.contact
    kinds = list(TimelineEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert kinds == [EventKind.CREATED, EventKind.CALL]
    call = PhoneCall.objects.get(ticket=ticket)
    assert call.duration_seconds == 270 and call.agent == desk.agent
    page = agent_client.get(response["Location"]).content.decode()
    assert "4:30" in page and "010-0000-0001" in page


def test_log_a_call_appends_to_an_open_ticket(desk: Desk, agent_client: Client):
    existing = make_ticket(desk.org, contract=desk.contract, contact=desk.contact)
    response = _call(
        agent_client, number="01000000001", target=existing.reference, subject="", duration="3"
    )
    assert response.status_code == 302 and response["Location"] == f"/tickets/{existing.reference}/"
    event = TimelineEvent.objects.filter(ticket=existing).last()
    assert event.kind == EventKind.CALL and event.data["duration_seconds"] == 180
    assert Ticket.objects.count() == 1


def test_log_a_call_completes_the_telephony_call_row(desk: Desk, agent_client: Client):
    call, _match = call_incoming(number="010-0000-0001")
    page = agent_client.get(f"/calls/new/?number={call.number}&call={call.pk}").content.decode()
    assert desk.contact.name in page and f'value="{call.pk}"' in page
    _call(agent_client, call=call.pk, contract=desk.contract.pk)
    call.refresh_from_db()
    assert call.ticket is not None and PhoneCall.objects.count() == 1


def test_log_a_call_errors_keep_what_was_typed(desk: Desk, agent_client: Client):
    response = _call(agent_client, duration="4 minutes", subject="")
    body = response.content.decode()
    assert response.status_code == 422
    assert "mm:ss" in body and "Give the new ticket a subject." in body
    assert "Customer reports 502 on the web tier" in body
    assert Ticket.objects.count() == 0


def test_unknown_caller_needs_a_customer(desk: Desk, agent_client: Client):
    response = _call(agent_client, number="010-0000-0999")
    assert response.status_code == 422
    assert "choose the customer" in response.content.decode()
    response = _call(
        agent_client,
        number="010-0000-0999",
        organisation=desk.org.code,
        contact=desk.contact.pk,
        contract=desk.contract.pk,
    )
    assert response.status_code == 302


def test_cannot_append_to_a_ticket_of_another_team(desk: Desk, agent_client: Client):
    hidden = make_ticket(desk.org, team=team("platform-service"), auto_assign=False)
    response = _call(agent_client, target=hidden.reference, subject="")
    assert response.status_code == 422 and "not available" in response.content.decode()
    assert TimelineEvent.objects.filter(ticket=hidden, kind=EventKind.CALL).count() == 0
