"""Escalation timer handlers, registered with jobs.timers (docs/subsystems/oncall.md)."""

from __future__ import annotations

from opsdesk.jobs.models import Timer
from opsdesk.jobs.timers import timer_handler
from opsdesk.oncall.services import (
    DELIVERY_TIMER,
    NOTIFY_TIMER,
    STEP_TIMER,
    delivery_run,
    escalation_notify_run,
    escalation_step_run,
)


@timer_handler(STEP_TIMER)
def escalation_step_timer(timer: Timer) -> None:
    escalation_step_run(escalation_id=int(timer.payload["escalation"]), payload=timer.payload)


@timer_handler(NOTIFY_TIMER)
def escalation_notify_timer(timer: Timer) -> None:
    escalation_notify_run(payload=timer.payload)


@timer_handler(DELIVERY_TIMER)
def delivery_timer(timer: Timer) -> None:
    delivery_run(delivery_id=int(timer.payload["delivery"]))
