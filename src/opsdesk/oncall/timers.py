"""Escalation timer handlers and on-call periodic jobs, registered with jobs.timers and
jobs.periodic from OncallConfig.ready (docs/subsystems/oncall.md)."""

from __future__ import annotations

from datetime import time

from opsdesk.jobs.models import Timer
from opsdesk.jobs.periodic import Daily, Every, periodic_register
from opsdesk.jobs.timers import timer_handler
from opsdesk.oncall.audit import oncall_audit
from opsdesk.oncall.services import (
    DELIVERY_TIMER,
    NOTIFY_TIMER,
    STEP_TIMER,
    delivery_run,
    escalation_audit,
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


# Team leads read the coverage notice at the start of the working day, with a week to fix it.
periodic_register(
    name="oncall-audit",
    schedule=Daily(at=time(9, 0), zone="Asia/Seoul"),
    run=oncall_audit,
    description="Gaps in on-call coverage in the next 7 days; escalations missing a timer.",
)
# A chain whose step timer failed or was cancelled by hand would otherwise stay silent until
# the next morning's audit.
periodic_register(
    name="escalation-repair",
    schedule=Every(seconds=300),
    run=escalation_audit,
    description="Reschedule active escalations whose step timer is gone.",
)
