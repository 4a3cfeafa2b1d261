"""`ticket_sla_refresh` runs after every clock-moving ticket write: it stays cheap."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from opsdesk.core.clock import frozen_at
from opsdesk.jobs.models import Timer
from opsdesk.sla.models import CalendarDay, SlaTarget
from opsdesk.sla.selectors import ticket_facts
from opsdesk.sla.services import calendar_day_set, ticket_sla_refresh
from opsdesk.tickets.enums import Status
from opsdesk.tickets.models import Ticket
from opsdesk.tickets.services import ticket_status_change
from tests.factories import make_contract, make_org, make_staff, make_ticket, team

pytestmark = pytest.mark.django_db
SEOUL = ZoneInfo("Asia/Seoul")
MONDAY_10 = datetime(2025, 11, 3, 10, 0, tzinfo=SEOUL)
TUESDAY = date(2025, 11, 4)


def _sql(captured: CaptureQueriesContext) -> list[str]:
    return [query["sql"] for query in captured.captured_queries]


def _about(statements: list[str], *tables: str) -> list[str]:
    return [sql for sql in statements if any(f'"{table}"' in sql for table in tables)]


def test_ticket_create_reads_the_sla_configuration_once_and_never_the_timeline():
    org = make_org()
    contract = make_contract(org)
    with frozen_at(MONDAY_10):
        make_ticket(org, contract=contract)  # warms the process cache
        with CaptureQueriesContext(connection) as captured:
            ticket = make_ticket(org, contract=contract)
    statements = _sql(captured)
    sla_tables = ("sla_slapolicy", "sla_slatarget", "sla_businesscalendar", "sla_calendarday")
    # Only the configuration stamp, once: routing (the calendar, rules, rosters) and the SLA
    # share it inside the opening's config_scope; no policy/target/calendar reads.
    sla_reads = _about(statements, *sla_tables)
    assert len(sla_reads) == 1
    assert sla_reads[0].startswith("SELECT (SELECT COUNT(*)")
    timeline_reads = [
        sql for sql in _about(statements, "tickets_timelineevent") if sql.startswith("SELECT")
    ]
    assert timeline_reads == []
    # The deadline goes in with the INSERT, not in an UPDATE after it, and both SLA timers
    # are one upsert.
    due_updates = [sql for sql in statements if sql.startswith("UPDATE") and "due_at" in sql]
    assert due_updates == []
    timer_writes = [sql for sql in statements if '"jobs_timer"' in sql]
    assert len(timer_writes) == 1
    assert ticket.due_at == datetime(2025, 11, 3, 11, 0, tzinfo=SEOUL)
    stored = Ticket.objects.get(pk=ticket.pk)
    assert (stored.due_at, stored.sla_warn_at) == (ticket.due_at, ticket.sla_warn_at)
    assert set(
        Timer.objects.filter(key__endswith=f":{ticket.pk}").values_list("key", "due_at")
    ) == {
        (f"sla:breach:{ticket.pk}", ticket.due_at),
        (f"sla:warning:{ticket.pk}", ticket.sla_warn_at),
    }


@pytest.mark.parametrize("contract_loaded", [True, False])
def test_a_refresh_that_moves_nothing_is_one_query(contract_loaded):
    org = make_org()
    with frozen_at(MONDAY_10):
        ticket = make_ticket(org, contract=make_contract(org))
        fresh = ticket if contract_loaded else Ticket.objects.get(pk=ticket.pk)
        with CaptureQueriesContext(connection) as captured:
            summary = ticket_sla_refresh(ticket=fresh)
    assert len(captured) == 1
    assert summary.due_at == ticket.due_at


def test_a_ticket_that_left_new_reads_its_timeline_unless_the_caller_knows_it():
    agent = make_staff(team=team("service-operations"))
    with frozen_at(MONDAY_10):
        ticket = make_ticket(kind="incident", severity="complex")
        ticket = ticket_status_change(ticket=ticket, actor=agent, status=Status.OPEN)
        facts = ticket_facts(ticket=ticket)
        with CaptureQueriesContext(connection) as reading:
            ticket_sla_refresh(ticket=ticket)
        with CaptureQueriesContext(connection) as knowing:
            ticket_sla_refresh(ticket=ticket, facts=facts)
    assert len(reading) == 2
    assert len(knowing) == 1


def test_configuration_changes_are_seen_at_the_next_refresh():
    with frozen_at(MONDAY_10):
        ticket = make_ticket()
        assert ticket.due_at == datetime(2025, 11, 3, 11, 0, tzinfo=SEOUL)
        target = SlaTarget.objects.get(
            policy__name="Standard", metric="first_response", priority="", severity=""
        )
        target.minutes = 90
        target.save()
        assert ticket_sla_refresh(ticket=ticket).due_at == datetime(
            2025, 11, 3, 11, 30, tzinfo=SEOUL
        )
    # A company day off on the Tuesday: the 2,880-minute resolution target moves by a day.
    target.minutes = 60
    target.save()
    with frozen_at(MONDAY_10):
        before = ticket_sla_refresh(ticket=ticket).clocks["resolution"].due_at
        calendar_day_set(calendar_name="default", day=TUESDAY, kind="holiday")
        after = ticket_sla_refresh(ticket=ticket).clocks["resolution"].due_at
        CalendarDay.objects.filter(date=TUESDAY).delete()
        again = ticket_sla_refresh(ticket=ticket).clocks["resolution"].due_at
    assert before == datetime(2025, 11, 10, 13, 0, tzinfo=SEOUL)
    assert after == datetime(2025, 11, 11, 13, 0, tzinfo=SEOUL)
    assert again == before
