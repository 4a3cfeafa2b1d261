"""iCal feeds of on-call shifts, per schedule and per person (docs/subsystems/oncall.md)."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import User
from icalendar import Calendar, Event

from opsdesk.core.people import display_name
from opsdesk.oncall.models import Schedule
from opsdesk.oncall.selectors import schedule_shift_list


def _calendar(name: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", "-//OpsDesk//On call//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    return cal


def _event(schedule: Schedule, user: User, starts_at: datetime, ends_at: datetime) -> Event:
    event = Event()
    event.add("uid", f"oncall-{schedule.pk}-{user.pk}-{int(starts_at.timestamp())}@opsdesk")
    event.add("summary", f"{schedule.name}: {display_name(user)}")
    # Lets `oncall import-ical` read our own feeds back (oncall/ical_import.py).
    event.add("x-opsdesk-username", user.get_username())
    event.add("dtstart", starts_at)
    event.add("dtend", ends_at)
    event.add("dtstamp", starts_at)
    return event


def schedule_ical(*, schedule: Schedule, start: datetime, end: datetime) -> bytes:
    cal = _calendar(schedule.name)
    shifts = schedule_shift_list(schedule=schedule, start=start, end=end)
    people = User.objects.in_bulk({s.user_id for s in shifts})
    for shift in shifts:
        if shift.user_id in people:
            cal.add_component(
                _event(schedule, people[shift.user_id], shift.starts_at, shift.ends_at)
            )
    return cal.to_ical()


def person_ical(*, user: User, start: datetime, end: datetime) -> bytes:
    cal = _calendar(display_name(user))
    for schedule in Schedule.objects.order_by("id"):
        for shift in schedule_shift_list(schedule=schedule, start=start, end=end):
            if shift.user_id == user.pk:
                cal.add_component(_event(schedule, user, shift.starts_at, shift.ends_at))
    return cal.to_ical()
