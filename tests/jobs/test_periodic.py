"""Periodic jobs: declared once, one durable timer row each, rescheduled after every run,
never multiplied by several workers or restarts."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from opsdesk.core.clock import frozen_at, now
from opsdesk.jobs.models import Timer, TimerState
from opsdesk.jobs.periodic import (
    PERIODIC_TIMER,
    Daily,
    Every,
    periodic_ensure,
    periodic_get,
    periodic_register,
)
from opsdesk.jobs.timers import timer_cancel, timers_run_due

SEOUL = ZoneInfo("Asia/Seoul")
RUNS: list[str] = []


def _record() -> None:
    RUNS.append("ran")


def _explode() -> None:
    Timer.objects.create(
        key="written-by-a-failing-job", kind="x", due_at=now(), token="t", created_at=now()
    )
    raise RuntimeError("report server down")


periodic_register(name="test-daily", schedule=Daily(at=time(9, 0)), run=_record)
periodic_register(name="test-failing", schedule=Every(seconds=600), run=_explode)


@pytest.fixture(autouse=True)
def _clear() -> None:
    RUNS.clear()


def test_daily_next_time_is_the_next_wall_clock_0900_in_seoul():
    daily = Daily(at=time(9, 0), zone="Asia/Seoul")
    assert daily.next_after(datetime(2026, 12, 7, 8, 59, tzinfo=SEOUL)) == datetime(
        2026, 12, 7, 9, 0, tzinfo=SEOUL
    )
    assert daily.next_after(datetime(2026, 12, 7, 9, 0, tzinfo=SEOUL)) == datetime(
        2026, 12, 8, 9, 0, tzinfo=SEOUL
    )
    # 23:30 UTC on the 6th is already 08:30 on the 7th in Seoul.
    assert daily.next_after(datetime(2026, 12, 6, 23, 30, tzinfo=UTC)) == datetime(
        2026, 12, 7, 9, 0, tzinfo=SEOUL
    )
    assert Every(seconds=300).next_after(datetime(2026, 1, 1, tzinfo=UTC)) == datetime(
        2026, 1, 1, 0, 5, tzinfo=UTC
    )


def test_names_are_kebab_case():
    with pytest.raises(ValueError, match="kebab-case"):
        periodic_register(name="Bad_Name", schedule=Every(seconds=60), run=_record)


@pytest.mark.django_db
def test_ensure_creates_one_row_and_a_second_worker_or_restart_leaves_it_alone():
    start = datetime(2026, 12, 7, 7, 0, tzinfo=SEOUL)
    with frozen_at(start):
        assert "test-daily" in periodic_ensure()
    row = Timer.objects.get(key="periodic:test-daily")
    assert row.kind == PERIODIC_TIMER
    assert row.due_at == datetime(2026, 12, 7, 9, 0, tzinfo=SEOUL)
    with frozen_at(start + timedelta(minutes=30)):
        assert "test-daily" not in periodic_ensure()  # a second worker starting
    again = Timer.objects.get(key="periodic:test-daily")
    assert (again.token, again.due_at) == (row.token, row.due_at)
    assert Timer.objects.filter(kind=PERIODIC_TIMER, key="periodic:test-daily").count() == 1


@pytest.mark.django_db
def test_a_cancelled_row_is_revived_and_a_changed_schedule_moves_the_row():
    with frozen_at(datetime(2026, 12, 7, 7, 0, tzinfo=SEOUL)):
        periodic_ensure()
        timer_cancel(key="periodic:test-daily")
        assert "test-daily" in periodic_ensure()
        assert Timer.objects.get(key="periodic:test-daily").state == TimerState.PENDING
        job = periodic_get("test-daily")
        assert job is not None
        try:
            periodic_register(name="test-daily", schedule=Daily(at=time(18, 0)), run=_record)
            assert "test-daily" in periodic_ensure()
            moved = Timer.objects.get(key="periodic:test-daily")
            assert moved.due_at == datetime(2026, 12, 7, 18, 0, tzinfo=SEOUL)
        finally:
            periodic_register(name=job.name, schedule=job.schedule, run=job.run)


@pytest.mark.django_db
def test_the_job_runs_once_when_due_on_one_of_two_workers_and_reschedules_itself():
    with frozen_at(datetime(2026, 12, 7, 7, 0, tzinfo=SEOUL)):
        periodic_ensure()
    with frozen_at(datetime(2026, 12, 7, 8, 59, tzinfo=SEOUL)):
        timers_run_due(worker_id="w1")
    assert RUNS == []
    # Both workers tick after 09:00; the worker that was down overnight runs it once, late.
    with frozen_at(datetime(2026, 12, 7, 11, 0, tzinfo=SEOUL)):
        timers_run_due(worker_id="w1")
        timers_run_due(worker_id="w2")
    assert RUNS == ["ran"]
    row = Timer.objects.get(key="periodic:test-daily")
    assert row.state == TimerState.PENDING
    assert row.due_at == datetime(2026, 12, 8, 9, 0, tzinfo=SEOUL)
    assert row.payload["last_run"].startswith("2026-12-07T11:00")
    with frozen_at(datetime(2026, 12, 8, 9, 0, 1, tzinfo=SEOUL)):
        timers_run_due(worker_id="w2")
    assert RUNS == ["ran", "ran"]


@pytest.mark.django_db
def test_a_failing_job_keeps_its_error_rolls_back_alone_and_runs_again_next_time():
    start = datetime(2026, 12, 7, 7, 0, tzinfo=SEOUL)
    with frozen_at(start):
        periodic_ensure()
    with frozen_at(start + timedelta(minutes=10)):
        timers_run_due(worker_id="w1")
    row = Timer.objects.get(key="periodic:test-failing")
    assert row.state == TimerState.PENDING
    assert "report server down" in row.last_error
    assert row.due_at == start + timedelta(minutes=20)
    assert not Timer.objects.filter(key="written-by-a-failing-job").exists()
    # The other job ran meanwhile, unaffected.
    assert Timer.objects.get(key="periodic:test-daily").state == TimerState.PENDING


@pytest.mark.django_db
def test_cli_lists_jobs_and_runs_one_now():
    with frozen_at(datetime(2026, 12, 7, 7, 0, tzinfo=SEOUL)):
        call_command("periodic", "ensure", stdout=StringIO())
    out = StringIO()
    call_command("periodic", stdout=out)
    lines = out.getvalue().splitlines()
    assert any(
        line.startswith("oncall-audit\tdaily 09:00 Asia/Seoul\tnext 2026-12-07T00:00:00+00:00")
        for line in lines
    ), lines
    call_command("periodic", "run", "test-daily", stdout=StringIO())
    assert RUNS == ["ran"]
