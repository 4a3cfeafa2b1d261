"""SLA state of many tickets at once: the bulk selector, `sla_recompute` and `opsdesk sla`."""

from __future__ import annotations

from datetime import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from opsdesk.core.clock import frozen_at
from opsdesk.jobs.models import Timer
from opsdesk.sla.bulk import sla_inputs_bulk, sla_state_bulk
from opsdesk.sla.clocks import nearest_deadline
from opsdesk.sla.models import BusinessCalendar, SlaPolicy, SlaTarget
from opsdesk.sla.selectors import policy_set, ticket_clocks
from opsdesk.sla.services import sla_recompute
from opsdesk.tickets.enums import Status
from opsdesk.tickets.models import Ticket
from opsdesk.tickets.services import ticket_reply_add, ticket_status_change
from tests.factories import make_contract, make_org, make_staff, make_ticket, team

pytestmark = pytest.mark.django_db
SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2025, 11, 5, 12, 0, tzinfo=SEOUL)


def kst(*args: int) -> datetime:
    return datetime(*args, tzinfo=SEOUL)


def _night_contract():
    """A contract on a policy with after-hours targets and the 24x7 calendar for resolution."""
    night = SlaPolicy.objects.create(
        name="Night", calendar=BusinessCalendar.objects.get(name="default"), warn_at_percent=50
    )
    for metric, minutes, after in (("first_response", 60, 30), ("recovery", 240, 120)):
        SlaTarget.objects.create(
            policy=night, metric=metric, minutes=minutes, after_hours_minutes=after
        )
    SlaTarget.objects.create(
        policy=night, metric="resolution", minutes=1440, business_time=False, pause_on_vendor=True
    )
    org = make_org()
    contract = make_contract(org)
    contract.sla_policy = night
    contract.save()
    return org, contract


def _mixed_tickets() -> list[Ticket]:
    """Tickets through the services: in and after hours, over holidays, paused, reopened,
    resolved and closed, on the Standard policy and on a contract's own policy."""
    agent = make_staff(team=team("service-operations"))
    night_org, night = _night_contract()
    made: list[Ticket] = []

    def at(moment: datetime, org=None, **kwargs) -> Ticket:
        with frozen_at(moment):
            ticket = make_ticket(org, **kwargs)
        made.append(ticket)
        return ticket

    def step(moment: datetime, ticket: Ticket, status: str | None = None, reply: bool = False):
        with frozen_at(moment):
            if reply:
                ticket_reply_add(ticket=ticket, actor=agent, body="확인 중입니다")
            if status:
                ticket_status_change(ticket=ticket, actor=agent, status=status)

    at(kst(2025, 11, 3, 10, 0))  # new, in hours
    at(kst(2025, 11, 1, 23, 0), kind="incident", severity="complex")  # Saturday night
    chuseok = at(kst(2024, 9, 13, 17, 0), kind="incident", severity="complex")
    step(kst(2024, 9, 13, 17, 20), chuseok, reply=True)
    at(kst(2025, 10, 3, 11, 0), kind="incident", severity="urgent")  # 개천절
    paused = at(kst(2025, 11, 3, 10, 0), kind="incident", severity="complex")
    step(kst(2025, 11, 3, 10, 10), paused, Status.PENDING_CUSTOMER, reply=True)
    step(kst(2025, 11, 4, 10, 10), paused, Status.OPEN)
    waiting = at(kst(2025, 11, 4, 9, 30), kind="incident", severity="simple")
    step(kst(2025, 11, 4, 9, 40), waiting, Status.PENDING_VENDOR, reply=True)
    reopened = at(kst(2025, 11, 3, 16, 0))
    step(kst(2025, 11, 3, 16, 5), reopened, Status.RESOLVED)
    step(kst(2025, 11, 4, 9, 0), reopened, Status.OPEN)
    resolved = at(kst(2025, 11, 4, 11, 0), kind="incident", severity="urgent")
    step(kst(2025, 11, 4, 11, 30), resolved, Status.RESOLVED)
    closed = at(kst(2025, 11, 3, 11, 0))
    step(kst(2025, 11, 3, 11, 5), closed, Status.RESOLVED)
    step(kst(2025, 11, 3, 12, 0), closed, Status.CLOSED)
    # On the Night policy: after hours (Sunday 02:00), in hours, waiting on a vendor.
    at(kst(2025, 11, 2, 2, 0), org=night_org, contract=night, kind="incident")
    in_hours = at(kst(2025, 11, 3, 9, 0), org=night_org, contract=night)
    step(kst(2025, 11, 3, 9, 30), in_hours, Status.PENDING_VENDOR, reply=True)
    at(kst(2025, 11, 5, 11, 48), priority="urgent")  # 12 of 15 minutes: warning
    return made


def _per_ticket(tickets, now):
    return {t.pk: ticket_clocks(ticket=Ticket.objects.get(pk=t.pk), now=now) for t in tickets}


def test_bulk_equals_the_per_ticket_path_for_a_mixed_set():
    made = _mixed_tickets()
    expected = _per_ticket(made, NOW)
    states = {c.state for clocks in expected.values() for c in clocks.values()}
    assert states == {"running", "warning", "paused", "met", "breached"}
    assert any(c.after_hours for clocks in expected.values() for c in clocks.values())
    everything = sla_state_bulk(tickets=Ticket.objects.all(), now=NOW)
    assert everything == expected
    open_ids = {t.pk for t in made if Ticket.objects.get(pk=t.pk).is_open}
    assert len(open_ids) == len(made) - 2
    assert sla_state_bulk(now=NOW) == {pk: expected[pk] for pk in open_ids}


def test_stored_deadlines_are_what_the_bulk_path_recomputes():
    _mixed_tickets()
    for item in sla_inputs_bulk(stored=True):
        clocks = sla_state_bulk(tickets=Ticket.objects.filter(pk=item.ticket_id), now=NOW)
        assert item.policy is not None
        assert nearest_deadline(item.policy, clocks[item.ticket_id]) == (
            item.due_at,
            item.warn_at,
        )


def test_bulk_reads_with_a_fixed_number_of_queries():
    _mixed_tickets()
    policy_set()  # warm the process cache
    with CaptureQueriesContext(connection) as few:
        sla_state_bulk(tickets=Ticket.objects.filter(pk__lte=3), now=NOW)
    with CaptureQueriesContext(connection) as many:
        sla_state_bulk(tickets=Ticket.objects.all(), now=NOW)
    # The configuration check, the status changes, the tickets.
    assert len(few) == len(many) == 3


def test_recompute_after_a_policy_change_moves_deadlines_and_timers():
    with frozen_at(kst(2025, 11, 3, 10, 0)):  # Monday
        ticket = make_ticket()
    assert ticket.due_at == kst(2025, 11, 3, 11, 0)  # first response: 60 business minutes
    target = SlaTarget.objects.get(
        policy__name="Standard", metric="first_response", priority="", severity=""
    )
    target.minutes = 30
    target.save()
    with frozen_at(kst(2025, 11, 3, 10, 5)):
        assert sla_recompute(dry_run=True).changed == 1
        ticket.refresh_from_db()
        assert ticket.due_at == kst(2025, 11, 3, 11, 0)
        result = sla_recompute(chunk_size=1)
    assert (result.checked, result.changed) == (1, 1)
    ticket.refresh_from_db()
    assert ticket.due_at == kst(2025, 11, 3, 10, 30)
    assert ticket.sla_warn_at == kst(2025, 11, 3, 10, 23)
    breach = Timer.objects.get(key=f"sla:breach:{ticket.pk}")
    assert (breach.due_at, breach.state) == (kst(2025, 11, 3, 10, 30), "pending")
    assert Timer.objects.get(key=f"sla:warning:{ticket.pk}").due_at == kst(2025, 11, 3, 10, 23)
    # The stored values depend on the timeline only: a later run has nothing to move.
    with frozen_at(kst(2025, 11, 3, 10, 17, 31)):
        assert sla_recompute().changed == 0


def test_the_command_recomputes_open_tickets_of_a_policy():
    night_org, night = _night_contract()
    with frozen_at(kst(2025, 11, 3, 10, 0)):
        standard = make_ticket()
        on_night = make_ticket(night_org, contract=night)
    Ticket.objects.filter(pk__in=[standard.pk, on_night.pk]).update(due_at=None, sla_warn_at=None)
    out = StringIO()
    call_command("sla", "recompute", "--policy", "Night", "--dry-run", stdout=out)
    assert "checked 1 open tickets, would move 1 deadlines" in out.getvalue()
    call_command("sla", "recompute", "--policy", "Standard", stdout=out)
    assert "checked 1 open tickets, moved 1 deadlines" in out.getvalue()
    assert Ticket.objects.get(pk=standard.pk).due_at == kst(2025, 11, 3, 11, 0)
    assert Ticket.objects.get(pk=on_night.pk).due_at is None
    call_command("sla", "recompute", "--all-open", stdout=out)
    assert "checked 2 open tickets, moved 1 deadlines" in out.getvalue()
    assert Ticket.objects.get(pk=on_night.pk).due_at == kst(2025, 11, 3, 11, 0)
    with pytest.raises(CommandError, match="no SLA policy named"):
        call_command("sla", "recompute", "--policy", "Nope", stdout=out)


def test_timers_follow_recompute_without_a_policy():
    with frozen_at(kst(2025, 11, 3, 10, 0)):
        ticket = make_ticket()
    SlaPolicy.objects.filter(name="Standard").update(name="Renamed")
    SlaPolicy.objects.get(name="Renamed").save()  # a save, as the admin does
    with frozen_at(kst(2025, 11, 3, 10, 5)):
        assert sla_recompute().changed == 1
    ticket.refresh_from_db()
    assert (ticket.due_at, ticket.sla_warn_at) == (None, None)
    assert Timer.objects.get(key=f"sla:breach:{ticket.pk}").state == "cancelled"
