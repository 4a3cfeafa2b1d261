"""Periodic jobs: declared once, run by the workers' timer ticker. See docs/subsystems/jobs.md.

A job registers from its app's ``ready()`` with ``periodic_register(name=..., schedule=...,
run=...)``. Each job is one durable timer row (key ``periodic:<name>``, kind
``jobs.periodic``), so it survives restarts and runs on exactly one worker however many there
are: the row's unique key is the lock. When it runs, the handler calls the job and moves the
same row to the job's next time in the same transaction; a job that raises is logged, its
error kept on the row, and it runs again at its next time (a daily job does not retry five
times in ten minutes). Runs missed while every worker was down are not caught up one by one:
the overdue row runs once and then moves to the next time after now.

``periodic_ensure()`` (each worker at start and every few minutes) creates rows that are
missing, revives rows that were cancelled or failed, and moves a pending row whose schedule
changed in code; it leaves a live row alone, so N workers starting together do not multiply
a job or push it later.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction

from opsdesk.core.clock import now
from opsdesk.jobs.models import Timer, TimerState
from opsdesk.jobs.timers import timer_handler, timer_schedule

logger = logging.getLogger("opsdesk.jobs.periodic")

PERIODIC_TIMER = "jobs.periodic"
_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


class Schedule(Protocol):
    def next_after(self, moment: datetime) -> datetime: ...

    def describe(self) -> str: ...


@dataclass(frozen=True)
class Daily:
    """Every day at ``at`` wall-clock time in ``zone`` (Asia/Seoul has no daylight saving;
    elsewhere the wall-clock time is kept across the change)."""

    at: time
    zone: str = "Asia/Seoul"

    def next_after(self, moment: datetime) -> datetime:
        zone = ZoneInfo(self.zone)
        day = moment.astimezone(zone).date()
        candidate = datetime.combine(day, self.at, tzinfo=zone)
        if candidate <= moment:
            candidate = datetime.combine(day + timedelta(days=1), self.at, tzinfo=zone)
        return candidate

    def describe(self) -> str:
        return f"daily {self.at:%H:%M} {self.zone}"


@dataclass(frozen=True)
class Every:
    """Every ``seconds`` after the previous run finished (no drift catch-up)."""

    seconds: int

    def next_after(self, moment: datetime) -> datetime:
        return moment + timedelta(seconds=self.seconds)

    def describe(self) -> str:
        return f"every {self.seconds}s"


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    schedule: Schedule
    run: Callable[[], object]
    description: str = ""

    @property
    def key(self) -> str:
        return f"periodic:{self.name}"


_JOBS: dict[str, PeriodicJob] = {}


def periodic_register(
    *, name: str, schedule: Schedule, run: Callable[[], object], description: str = ""
) -> PeriodicJob:
    """Declare a periodic job (kebab-case ``name``). Registering the same name again replaces
    it, so a reloaded app does not add it twice. Keep a run well inside the timer lease
    (jobs.timers.LEASE, 20 s), or let it enqueue a task for longer work."""
    if not _NAME.match(name) or len(name) > 180:
        raise ValueError(f"periodic job names are kebab-case: {name!r}")
    job = PeriodicJob(name=name, schedule=schedule, run=run, description=description)
    _JOBS[name] = job
    return job


def periodic_jobs() -> list[PeriodicJob]:
    return sorted(_JOBS.values(), key=lambda job: job.name)


def periodic_get(name: str) -> PeriodicJob | None:
    return _JOBS.get(name)


def _schedule_next(job: PeriodicJob, *, after: datetime, last_run: str = "") -> Timer:
    payload = {"name": job.name, "spec": job.schedule.describe()}
    if last_run:
        payload["last_run"] = last_run
    return timer_schedule(
        key=job.key, kind=PERIODIC_TIMER, due_at=job.schedule.next_after(after), payload=payload
    )


def periodic_ensure() -> list[str]:
    """Create or revive the timer rows of registered jobs; returns the names (re)scheduled."""
    moment = now()
    rows = {t.key: t for t in Timer.objects.filter(key__in=[j.key for j in _JOBS.values()])}
    scheduled = []
    for job in _JOBS.values():
        row = rows.get(job.key)
        if row is not None and row.state == TimerState.RUNNING:
            continue  # its handler reschedules it with the current schedule when it ends
        if (
            row is not None
            and row.state == TimerState.PENDING
            and row.payload.get("spec") == job.schedule.describe()
        ):
            continue
        try:
            with transaction.atomic():
                _schedule_next(
                    job, after=moment, last_run=(row.payload if row else {}).get("last_run", "")
                )
        except IntegrityError:  # another worker created the row a moment ago
            continue
        scheduled.append(job.name)
    return scheduled


def periodic_run(job: PeriodicJob) -> str:
    """Run a job once now (the timer handler, and `opsdesk periodic run NAME`). Returns the
    error text, empty on success. A failing job rolls back alone (savepoint)."""
    try:
        with transaction.atomic():
            job.run()
    except Exception as exc:
        logger.exception("periodic job failed", extra={"job": job.name})
        return f"{exc.__class__.__name__}: {exc}"[:2000]
    return ""


@timer_handler(PERIODIC_TIMER)
def periodic_timer(timer: Timer) -> None:
    job = _JOBS.get(str(timer.payload.get("name")))
    if job is None:
        # Removed from the code: the row ends as done and is not rescheduled.
        logger.warning("unknown periodic job", extra={"timer": timer.key})
        return
    started = now()
    error = periodic_run(job)
    _schedule_next(job, after=now(), last_run=started.isoformat())
    if error:
        Timer.objects.filter(key=job.key).update(last_error=error)
