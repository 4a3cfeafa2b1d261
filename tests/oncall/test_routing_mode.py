"""New tickets follow the procedure's two regimes: the on-site roster in business hours, the
person on call at night, at weekends and on public holidays."""

from __future__ import annotations

from datetime import date, time

import pytest

from opsdesk.core.clock import frozen_at
from opsdesk.oncall.services import rotation_add, schedule_create
from opsdesk.tickets.models import TimelineEvent
from tests.factories import make_contract, make_org, make_staff, make_ticket, team
from tests.oncall.helpers import seoul, weekly_oncall

pytestmark = pytest.mark.django_db


@pytest.fixture
def rosters():
    ops = team("service-operations")
    on_site = [make_staff(team=ops), make_staff(team=ops)]
    night = make_staff(team=ops)
    day_off = make_staff(team=ops)  # a member on neither roster today
    site = schedule_create(team=ops, name="on site", kind="on_site")
    rotation_add(
        schedule=site,
        participants=on_site,
        start_date=date(2026, 11, 30),
        handoff_time=time(9),
        length_hours=24,
    )
    weekly_oncall(ops, [night], start=date(2026, 11, 30))
    org = make_org()
    return {
        "on_site": on_site,
        "night": night,
        "day_off": day_off,
        "org": org,
        "contract": make_contract(org, ("iaas",)),
    }


def _mode(ticket) -> str:
    return TimelineEvent.objects.get(ticket=ticket, kind="created").data["mode"]


def test_business_hours_go_to_whoever_is_on_site_that_day(rosters):
    a, b = rosters["on_site"]
    with frozen_at(seoul(2026, 11, 30, 10)):  # Monday: a's day on site
        monday = make_ticket(rosters["org"], contract=rosters["contract"])
    with frozen_at(seoul(2026, 12, 1, 10)):  # Tuesday: b's day
        tuesday = [make_ticket(rosters["org"], contract=rosters["contract"]) for _ in range(2)]
    assert monday.assignee == a
    assert [t.assignee for t in tuesday] == [b, b]
    assert _mode(monday) == "business"


@pytest.mark.parametrize(
    "moment",
    [seoul(2026, 12, 6, 23), seoul(2026, 12, 2, 22), seoul(2026, 12, 25, 11)],
    ids=["sunday-night", "weekday-night", "christmas-holiday"],
)
def test_after_hours_go_to_the_person_on_call(rosters, moment):
    with frozen_at(moment):
        ticket = make_ticket(rosters["org"], contract=rosters["contract"])
    assert ticket.assignee == rosters["night"]
    assert _mode(ticket) == "after_hours"


def test_teams_without_schedules_keep_plain_round_robin():
    ops = team("service-operations")
    a, b = make_staff(team=ops), make_staff(team=ops)
    org = make_org()
    with frozen_at(seoul(2026, 12, 6, 23)):  # after hours, but nobody is on a schedule
        tickets = [make_ticket(org) for _ in range(4)]
    assert [t.assignee for t in tickets] in ([a, b, a, b], [b, a, b, a])
    assert _mode(tickets[0]) == "after_hours"
