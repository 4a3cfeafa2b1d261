"""On-call test data, built through the services."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User

from opsdesk.jobs.timers import timers_run_due
from opsdesk.oncall.models import Schedule
from opsdesk.oncall.services import rotation_add, schedule_create
from opsdesk.tenancy.models import Team

SEOUL = ZoneInfo("Asia/Seoul")


def seoul(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SEOUL)


def weekly_oncall(team: Team, people: list[User], *, start: date, order: int = 0) -> Schedule:
    schedule = schedule_create(team=team, name=f"{team.slug} on call", kind="on_call")
    rotation_add(
        schedule=schedule, participants=people, start_date=start, handoff_time=time(9), order=order
    )
    return schedule


def drain(worker: str = "w1", rounds: int = 10) -> int:
    """Tick until nothing is due (deliveries are timers scheduled by step timers)."""
    total = 0
    for _ in range(rounds):
        ran = timers_run_due(worker_id=worker)
        if ran == 0:
            return total
        total += ran
    return total
