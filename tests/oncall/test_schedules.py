"""Who is on call: rotations across handoffs, layers, overrides, business/after-hours."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from io import StringIO

import icalendar
import pytest
from django.core.management import call_command
from django.test import Client

from opsdesk.core.clock import frozen_at
from opsdesk.core.errors import InvalidInput
from opsdesk.oncall.models import Schedule
from opsdesk.oncall.rotation import Cover, Layer, schedule_on_call, schedule_shifts
from opsdesk.oncall.selectors import oncall_mode, oncall_who, schedule_who
from opsdesk.oncall.services import override_add, rotation_add, schedule_create
from tests.api.conftest import client_for
from tests.factories import make_staff, team
from tests.oncall.helpers import SEOUL, seoul, weekly_oncall

START = datetime(2026, 11, 30, 9, tzinfo=SEOUL)  # a Monday 09:00 handoff


def test_layer_turns_follow_handoffs_and_wrap():
    layer = Layer(order=0, participants=(1, 2, 3), first_handoff=START, length=timedelta(days=7))
    assert schedule_on_call([layer], [], START - timedelta(seconds=1)) == []
    assert schedule_on_call([layer], [], START) == [1]
    assert schedule_on_call([layer], [], START + timedelta(days=7) - timedelta(seconds=1)) == [1]
    assert schedule_on_call([layer], [], START + timedelta(days=7)) == [2]
    assert schedule_on_call([layer], [], START + timedelta(days=21)) == [1]


def test_higher_layer_wins_where_it_has_someone_and_overrides_win_over_layers():
    base = Layer(order=0, participants=(1, 2), first_handoff=START, length=timedelta(days=1))
    weekend = Layer(
        order=1,
        participants=(9,),
        first_handoff=START + timedelta(days=5),
        length=timedelta(days=2),
    )
    assert schedule_on_call([weekend, base], [], START + timedelta(days=1)) == [2]
    assert schedule_on_call([weekend, base], [], START + timedelta(days=5, hours=1)) == [9]
    cover = Cover(user_id=7, starts_at=START, ends_at=START + timedelta(hours=2))
    assert schedule_on_call([weekend, base], [cover], START + timedelta(hours=1)) == [7]
    assert schedule_on_call([weekend, base], [cover], START + timedelta(hours=2)) == [1]


@pytest.mark.django_db
def test_schedule_who_with_custom_length_and_a_swap():
    ops = team("service-support")
    a, b = make_staff(team=ops, role="engineer"), make_staff(team=ops, role="engineer")
    schedule = schedule_create(team=ops, name="12h", kind="on_call")
    rotation_add(
        schedule=schedule,
        participants=[a, b],
        start_date=date(2026, 11, 30),
        handoff_time=time(9),
        length_hours=12,
    )
    assert schedule_who(schedule=schedule, at=seoul(2026, 11, 30, 20)) == [a]
    assert schedule_who(schedule=schedule, at=seoul(2026, 11, 30, 21)) == [b]
    # A swap: b takes a's Tuesday morning, a takes b's Tuesday night.
    override_add(
        schedule=schedule,
        user=b,
        starts_at=seoul(2026, 12, 1, 9),
        ends_at=seoul(2026, 12, 1, 21),
        reason="swap",
    )
    override_add(
        schedule=schedule,
        user=a,
        starts_at=seoul(2026, 12, 1, 21),
        ends_at=seoul(2026, 12, 2, 9),
        reason="swap",
    )
    assert schedule_who(schedule=schedule, at=seoul(2026, 12, 1, 10)) == [b]
    assert schedule_who(schedule=schedule, at=seoul(2026, 12, 1, 23)) == [a]
    assert schedule_who(schedule=schedule, at=seoul(2026, 12, 2, 10)) == [a]


@pytest.mark.django_db
def test_rotation_and_override_validation():
    ops = team("service-support")
    schedule = schedule_create(team=ops, name="x", kind="on_call")
    with pytest.raises(InvalidInput):
        rotation_add(
            schedule=schedule, participants=[], start_date=date(2026, 1, 1), handoff_time=time(9)
        )
    with pytest.raises(InvalidInput):
        override_add(schedule=schedule, user=make_staff(), starts_at=START, ends_at=START)


@pytest.mark.django_db
def test_on_site_roster_in_business_hours_on_call_rotation_after_hours():
    ops = team("service-support")
    desk, night = make_staff(team=ops, role="engineer"), make_staff(team=ops, role="engineer")
    on_site = schedule_create(team=ops, name="desk", kind="on_site")
    rotation_add(
        schedule=on_site,
        participants=[desk],
        start_date=date(2026, 11, 1),
        handoff_time=time(0),
        length_days=1,
    )
    weekly_oncall(ops, [night], start=date(2026, 11, 2))
    monday_10 = seoul(2026, 12, 7, 10)
    sunday_23 = seoul(2026, 12, 6, 23)
    assert oncall_mode(at=monday_10) == "business"
    assert oncall_mode(at=sunday_23) == "after_hours"
    assert oncall_who(team=ops, at=monday_10) == [desk]
    assert oncall_who(team=ops, at=sunday_23) == [night]


@pytest.mark.django_db
def test_cli_and_api_answer_who_is_on_call():
    ops = team("service-support")
    a, b = make_staff(team=ops, role="engineer"), make_staff(team=ops, role="engineer")
    weekly_oncall(ops, [a, b], start=date(2026, 11, 30))
    out = StringIO()
    call_command(
        "oncall",
        "who",
        "--team",
        ops.slug,
        "--at",
        "2026-12-13T23:00",
        stdout=out,
        stderr=StringIO(),
    )
    assert out.getvalue().split("\t")[0] == b.username
    api = client_for(make_staff(team=team("service-operations")))
    response = api.get("/oncall/who", team=ops.slug, at="2026-12-06T14:00:00Z")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["mode"] == "after_hours"
    assert [p["username"] for p in body["people"]] == [a.username]
    assert api.get("/oncall/who", team="nope").status_code == 404


def test_shifts_merge_and_break_at_handoffs_and_overrides():
    layer = Layer(order=0, participants=(1, 2), first_handoff=START, length=timedelta(days=1))
    cover = Cover(
        user_id=3, starts_at=START + timedelta(hours=2), ends_at=START + timedelta(hours=4)
    )
    shifts = schedule_shifts([layer], [cover], START, START + timedelta(days=2))
    assert [(s.user_id, s.starts_at - START, s.ends_at - START) for s in shifts] == [
        (1, timedelta(0), timedelta(hours=2)),
        (3, timedelta(hours=2), timedelta(hours=4)),
        (1, timedelta(hours=4), timedelta(days=1)),
        (2, timedelta(days=1), timedelta(days=2)),
    ]
    solo = Layer(order=0, participants=(1,), first_handoff=START, length=timedelta(days=1))
    assert len(schedule_shifts([solo], [], START, START + timedelta(days=3))) == 1


@pytest.mark.django_db
def test_ical_feeds_per_schedule_and_per_person(client):
    support = team("service-support")
    a, b = make_staff(team=support, role="engineer"), make_staff(team=support, role="engineer")
    schedule = weekly_oncall(support, [a, b], start=date(2026, 11, 2))
    client.force_login(make_staff(team=support))
    response = client.get(f"/oncall/schedules/{schedule.pk}.ics")
    assert response.status_code == 200
    cal = icalendar.Calendar.from_ical(response.content)
    events = list(cal.walk("VEVENT"))
    assert len(events) >= 8
    for event in events:
        assert event.decoded("DTEND") - event.decoded("DTSTART") <= timedelta(days=7)
    mine = icalendar.Calendar.from_ical(client.get(f"/oncall/people/{a.username}.ics").content)
    mine_events = list(mine.walk("VEVENT"))
    assert mine_events and all(
        a.staff_profile.display_name in str(e["SUMMARY"]) for e in mine_events
    )
    assert len(mine_events) < len(events)
    assert Client().get(f"/oncall/schedules/{schedule.pk}.ics").status_code == 302


@pytest.mark.django_db
def test_who_page_lists_the_people_on_call(client):
    support = team("service-support")
    engineer = make_staff(team=support, role="engineer")
    weekly_oncall(support, [engineer], start=date(2026, 1, 5))
    on_site = schedule_create(team=support, name="desk", kind="on_site")
    rotation_add(
        schedule=on_site,
        participants=[engineer],
        start_date=date(2026, 1, 5),
        handoff_time=time(0),
        length_days=1,
    )
    client.force_login(make_staff(team=support))
    response = client.get("/oncall/")
    assert response.status_code == 200
    assert engineer.staff_profile.display_name in response.content.decode()


@pytest.mark.django_db
def test_who_was_on_call_sees_overrides_that_have_ended_and_new_ones_at_once():
    # oncall_who answers from a per-process cache holding current and future overrides;
    # a moment in the past reads the ended ones from the database, and an override added
    # now is seen by the next question.
    ops = team("service-support")
    a, b, c = (make_staff(team=ops, role="engineer") for _ in range(3))
    weekly_oncall(ops, [a], start=date(2026, 11, 30))
    schedule = Schedule.objects.get(team=ops)
    override_add(
        schedule=schedule, user=b, starts_at=seoul(2026, 12, 1, 20), ends_at=seoul(2026, 12, 2, 8)
    )
    night = seoul(2026, 12, 1, 23)
    with frozen_at(seoul(2026, 12, 3, 12)):
        assert oncall_who(team=ops, at=night, mode="after_hours") == [b]
        assert oncall_who(team=ops, at=seoul(2026, 12, 3, 23), mode="after_hours") == [a]
        override_add(
            schedule=schedule,
            user=c,
            starts_at=seoul(2026, 12, 3, 20),
            ends_at=seoul(2026, 12, 4, 8),
        )
        assert oncall_who(team=ops, at=seoul(2026, 12, 3, 23), mode="after_hours") == [c]
