"""Durable timers: time-travel tests of scheduling, claiming, retries and recovery."""

from __future__ import annotations

from datetime import timedelta

import pytest

from opsdesk.core.clock import frozen_at, now
from opsdesk.jobs.models import Timer, TimerState
from opsdesk.jobs.timers import (
    LEASE,
    MAX_ATTEMPTS,
    timer_cancel,
    timer_handler,
    timer_schedule,
    timers_run_due,
)

pytestmark = pytest.mark.django_db

CALLS: list[tuple[str, str]] = []


@timer_handler("test.record")
def _record(timer: Timer) -> None:
    CALLS.append((timer.key, timer.token))


@timer_handler("test.fail")
def _fail(timer: Timer) -> None:
    raise RuntimeError("provider down")


@pytest.fixture(autouse=True)
def _clear():
    CALLS.clear()


def test_timer_fires_once_when_due_and_not_before():
    start = now()
    timer_schedule(key="t1", kind="test.record", due_at=start + timedelta(minutes=5))
    with frozen_at(start + timedelta(minutes=4)):
        assert timers_run_due(worker_id="w1") == 0
    with frozen_at(start + timedelta(minutes=5)):
        assert timers_run_due(worker_id="w1") == 1
        assert timers_run_due(worker_id="w1") == 0
    assert [key for key, _ in CALLS] == ["t1"]
    assert Timer.objects.get(key="t1").state == TimerState.DONE


def test_rescheduling_moves_the_one_live_timer_and_changes_its_token():
    start = now()
    first = timer_schedule(key="t2", kind="test.record", due_at=start + timedelta(minutes=1))
    moved = timer_schedule(key="t2", kind="test.record", due_at=start + timedelta(minutes=10))
    assert Timer.objects.filter(key="t2").count() == 1
    assert moved.token != first.token
    with frozen_at(start + timedelta(minutes=2)):
        assert timers_run_due(worker_id="w1") == 0
    timer_cancel(key="t2")
    with frozen_at(start + timedelta(minutes=11)):
        assert timers_run_due(worker_id="w1") == 0
    assert Timer.objects.get(key="t2").state == TimerState.CANCELLED


def test_failures_are_recorded_retried_with_backoff_then_failed():
    start = now()
    timer_schedule(key="t3", kind="test.fail", due_at=start)
    moment = start
    for attempt in range(1, MAX_ATTEMPTS + 1):
        with frozen_at(moment):
            assert timers_run_due(worker_id="w1") == 1
        timer = Timer.objects.get(key="t3")
        assert timer.attempts == attempt
        assert "provider down" in timer.last_error
        moment = max(moment, timer.due_at) + timedelta(seconds=1)
    assert timer.state == TimerState.FAILED


def test_a_dead_workers_claim_is_taken_back_after_the_lease():
    start = now()
    timer_schedule(key="t4", kind="test.record", due_at=start)
    # A worker claims it and dies before running it.
    Timer.objects.filter(key="t4").update(
        state=TimerState.RUNNING, claimed_by="dead", claimed_at=start
    )
    with frozen_at(start + LEASE - timedelta(seconds=1)):
        assert timers_run_due(worker_id="w2") == 0
    with frozen_at(start + LEASE + timedelta(seconds=1)):
        assert timers_run_due(worker_id="w2") == 1
    assert [key for key, _ in CALLS] == ["t4"]


def test_unknown_kind_is_recorded_not_lost():
    timer_schedule(key="t5", kind="test.nobody", due_at=now())
    assert timers_run_due(worker_id="w1") == 1
    assert "no handler" in Timer.objects.get(key="t5").last_error
