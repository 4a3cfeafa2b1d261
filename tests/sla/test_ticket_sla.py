"""SLA clocks wired to tickets: due times follow the timeline (issue: business calendars)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from opsdesk.core.clock import frozen_at
from opsdesk.sla.selectors import ticket_clocks
from opsdesk.tickets.enums import Status
from opsdesk.tickets.services import ticket_reply_add, ticket_status_change
from tests.factories import make_contract, make_org, make_staff, make_ticket, team

pytestmark = pytest.mark.django_db
SEOUL = ZoneInfo("Asia/Seoul")


def kst(*args: int) -> datetime:
    return datetime(*args, tzinfo=SEOUL)


def test_complex_incident_friday_1700_before_chuseok_2024():
    agent = make_staff(team=team("service-operations"))
    org = make_org()
    contract = make_contract(org, ("iaas",))
    with frozen_at(kst(2024, 9, 13, 17, 0)):
        ticket = make_ticket(org, contract=contract, kind="incident", severity="complex")
    # First response (60 business minutes) is the nearest deadline: Friday 18:00.
    assert ticket.due_at == kst(2024, 9, 13, 18, 0)
    assert ticket.sla_warn_at == kst(2024, 9, 13, 17, 45)
    with frozen_at(kst(2024, 9, 13, 17, 20)):
        ticket_reply_add(ticket=ticket, actor=agent, body="확인 중입니다")
    ticket.refresh_from_db()
    # Then recovery, 240 business minutes: 60 used by Friday 18:00, Chuseok Mon-Wed is off,
    # so the other 180 run from Thursday 09:00 -> 12:00.
    assert ticket.due_at == kst(2024, 9, 19, 12, 0)
    clocks = ticket_clocks(ticket=ticket, now=kst(2024, 9, 13, 17, 30))
    assert clocks["first_response"].state == "met"
    assert clocks["recovery"].remaining_minutes == 210


def test_waiting_on_the_customer_pauses_and_resolution_stops_the_clocks():
    agent = make_staff(team=team("service-operations"))
    with frozen_at(kst(2025, 11, 3, 10, 0)):  # a Monday
        ticket = make_ticket(kind="incident", severity="complex")
    with frozen_at(kst(2025, 11, 3, 10, 10)):
        ticket_reply_add(ticket=ticket, actor=agent, body="로그를 보내 주세요")
        ticket = ticket_status_change(ticket=ticket, actor=agent, status=Status.PENDING_CUSTOMER)
    assert ticket.due_at is None  # paused: no running deadline to chase
    with frozen_at(kst(2025, 11, 4, 10, 10)):
        ticket = ticket_status_change(ticket=ticket, actor=agent, status=Status.OPEN)
    # 10 recovery minutes were used before the pause; 230 remain from Tuesday 10:10.
    assert ticket.due_at == kst(2025, 11, 4, 14, 0)
    with frozen_at(kst(2025, 11, 4, 11, 0)):
        ticket = ticket_status_change(ticket=ticket, actor=agent, status=Status.RESOLVED)
    assert ticket.due_at is None and ticket.sla_warn_at is None


def test_live_and_recomputed_clocks_agree():
    with frozen_at(kst(2025, 11, 5, 9, 30)):
        ticket = make_ticket(kind="incident", severity="complex")
    ticket.refresh_from_db()
    recomputed = ticket_clocks(ticket=ticket, now=kst(2025, 11, 5, 9, 30))
    running = [c for c in recomputed.values() if c.stopped_at is None]
    assert ticket.due_at == min(c.due_at for c in running)


def test_queue_and_api_sort_and_filter_by_sla(client):
    from datetime import timedelta

    from opsdesk.api.services import api_token_create
    from opsdesk.core.clock import now

    agent = make_staff(team=team("service-operations"))
    start = now().astimezone(SEOUL)
    # Urgent first response is 15 calendar minutes, so the arithmetic does not depend on
    # today's business hours.
    with frozen_at(start - timedelta(minutes=30)):
        overdue = make_ticket(priority="urgent", team=team("service-operations"))
    with frozen_at(start - timedelta(minutes=13)):
        soon = make_ticket(priority="urgent", team=team("service-operations"))
    with frozen_at(start - timedelta(minutes=1)):
        fresh = make_ticket(priority="urgent", team=team("service-operations"))
    _, token = api_token_create(user=agent)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    def refs(query):
        body = client.get(f"/api/v1/tickets?{query}", **auth).json()
        return [item["reference"] for item in body["items"]]

    assert refs("sort=due") == [overdue.reference, soon.reference, fresh.reference]
    assert refs("sla=breached") == [overdue.reference]
    assert refs("sla=warning") == [soon.reference]
    assert set(refs("due_within=5")) == {overdue.reference, soon.reference}
    assert client.get("/api/v1/tickets?sla=late", **auth).status_code == 422
    clocks = client.get(f"/api/v1/tickets/{overdue.reference}/sla", **auth).json()
    assert {c["metric"]: c["state"] for c in clocks}["first_response"] == "breached"
    client.force_login(agent)
    page = client.get("/tickets/?queue=open&sort=due&sla=breached").content.decode()
    assert overdue.reference in page and soon.reference not in page
    assert "sla-breached" in page
