from __future__ import annotations

import pytest
from django.test import Client

from opsdesk.tickets.enums import EventKind, Status
from opsdesk.tickets.models import Ticket, TimelineEvent
from opsdesk.tickets.services import ticket_call_record, ticket_status_change, ticket_update
from tests.factories import make_ticket
from tests.ui.conftest import Desk, htmx

pytestmark = pytest.mark.django_db


def _kinds(ticket: Ticket) -> list[str]:
    return list(TimelineEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))


def test_reply_note_assign_status_posts_append_events(desk: Desk, agent_client: Client):
    ticket = make_ticket(desk.org, contract=desk.contract, contact=desk.contact)
    base = f"/tickets/{ticket.reference}"

    r = htmx(agent_client, f"{base}/reply/", {"reply-body": "We are looking at it."})
    assert r.status_code == 200 and 'id="ticket-main"' in r.content.decode()
    assert "We are looking at it." in r.content.decode()
    assert "<html" not in r.content.decode()

    r = htmx(agent_client, f"{base}/note/", {"note-body": "Checked the LB logs."})
    body = r.content.decode()
    assert "Checked the LB logs." in body and "ev-note" in body

    r = htmx(
        agent_client, f"{base}/assign/", {"assign-assignee": desk.colleague.pk, "assign-team": ""}
    )
    assert desk.colleague.staff_profile.display_name in r.content.decode()

    r = htmx(
        agent_client, f"{base}/status/", {"status-status": "pending_customer", "status-comment": ""}
    )
    assert "Waiting on customer" in r.content.decode()

    r = htmx(
        agent_client, f"{base}/fields/", {"fields-priority": "urgent", "fields-severity": "complex"}
    )
    assert "Urgent" in r.content.decode()

    ticket.refresh_from_db()
    assert ticket.assignee == desk.colleague
    assert ticket.status == Status.PENDING_CUSTOMER
    assert (ticket.priority, ticket.severity) == ("urgent", "complex")
    assert _kinds(ticket) == [
        EventKind.CREATED,
        EventKind.REPLY,
        EventKind.NOTE,
        EventKind.ASSIGNED,
        EventKind.STATUS_CHANGED,
        EventKind.FIELD_CHANGED,
    ]


def test_assign_to_me_button(desk: Desk, agent_client: Client):
    ticket = make_ticket(desk.org, contract=desk.contract, auto_assign=False)
    htmx(
        agent_client,
        f"/tickets/{ticket.reference}/assign/",
        {"assign-assignee": "", "assign-team": "", "assign_to_me": "1"},
    )
    ticket.refresh_from_db()
    assert ticket.assignee == desk.agent


def test_illegal_status_move_shows_error_and_changes_nothing(desk: Desk, agent_client: Client):
    ticket = make_ticket(desk.org, contract=desk.contract)
    r = htmx(
        agent_client,
        f"/tickets/{ticket.reference}/status/",
        {"status-status": "closed", "status-comment": "typed comment stays"},
    )
    body = r.content.decode()
    assert r.status_code == 200
    assert "cannot go from" in body
    assert "typed comment stays" in body
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW
    assert _kinds(ticket) == [EventKind.CREATED]


def test_only_allowed_next_statuses_are_offered(desk: Desk, agent_client: Client):
    ticket = make_ticket(desk.org, contract=desk.contract)
    ticket_status_change(ticket=ticket, actor=desk.agent, status="resolved")
    body = agent_client.get(f"/tickets/{ticket.reference}/").content.decode()
    options = body.split('name="status-status"')[1].split("</select>")[0]
    assert 'value="open"' in options and 'value="closed"' in options
    assert 'value="pending_vendor"' not in options


def test_empty_reply_keeps_the_note_draft_and_shows_inline_error(desk: Desk, agent_client: Client):
    ticket = make_ticket(desk.org, contract=desk.contract)
    r = htmx(agent_client, f"/tickets/{ticket.reference}/note/", {"note-body": "   "})
    body = r.content.decode()
    assert "A note cannot be empty." in body and "field-error" in body
    assert _kinds(ticket) == [EventKind.CREATED]


def test_plain_post_redirects_back_to_the_ticket(desk: Desk, agent_client: Client):
    ticket = make_ticket(desk.org, contract=desk.contract)
    r = agent_client.post(f"/tickets/{ticket.reference}/note/", {"note-body": "no js"})
    assert r.status_code == 302 and r["Location"] == f"/tickets/{ticket.reference}/"


def test_timeline_renders_every_event_kind_readably(desk: Desk, agent_client: Client):
    ticket = make_ticket(desk.org, contract=desk.contract, actor=desk.agent)
    ticket_update(ticket=ticket, actor=desk.agent, changes={"subject": "Renamed subject"})
    ticket_call_record(
        ticket=ticket,
        actor=desk.agent,
        number="+821000000001",
        notes="Called",
        duration_seconds=95,
        call_id=1,
    )
    ticket_status_change(ticket=ticket, actor=desk.agent, status="open")
    body = agent_client.get(f"/tickets/{ticket.reference}/").content.decode()
    assert "Server unreachable" in body and "Renamed subject" in body  # before -> after
    assert "010-0000-0001" in body and "1:35" in body  # call number and duration
    assert 'New</span> → <span class="after">In progress' in body
    assert "Opened the ticket" in body
