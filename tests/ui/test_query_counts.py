from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from opsdesk.tickets.services import (
    ticket_assign,
    ticket_note_add,
    ticket_status_change,
    ticket_update,
)
from tests.factories import make_contact, make_staff, make_ticket, team
from tests.ui.conftest import Desk

pytestmark = pytest.mark.django_db


def _count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _grow(desk: Desk, n: int) -> None:
    for i in range(n):
        contact = make_contact(desk.org)
        make_ticket(desk.org, contract=desk.contract, contact=contact, subject=f"T{i}")


def test_queue_and_organisation_pages_do_not_grow_with_rows(desk: Desk, agent_client: Client):
    _grow(desk, 5)
    small = (
        _count(agent_client, "/tickets/?queue=all"),
        _count(agent_client, f"/organisations/{desk.org.code}/"),
    )
    _grow(desk, 45)
    large = (
        _count(agent_client, "/tickets/?queue=all"),
        _count(agent_client, f"/organisations/{desk.org.code}/"),
    )
    assert small == large


def test_ticket_detail_with_many_events_is_constant(desk: Desk, agent_client: Client):
    ops = team("service-operations")
    people = [make_staff(team=ops) for _ in range(3)]
    ticket = make_ticket(desk.org, contract=desk.contract)
    for i in range(2):
        ticket_note_add(ticket=ticket, actor=people[i], body=f"note {i}")
    few = _count(agent_client, f"/tickets/{ticket.reference}/")
    for i in range(30):
        who = people[i % 3]
        ticket_note_add(ticket=ticket, actor=who, body=f"more {i}")
        ticket_assign(ticket=ticket, actor=who, assignee=people[(i + 1) % 3])
        ticket_update(ticket=ticket, actor=who, changes={"priority": ["low", "high"][i % 2]})
    ticket_status_change(ticket=ticket, actor=desk.agent, status="open")
    assert _count(agent_client, f"/tickets/{ticket.reference}/") == few
