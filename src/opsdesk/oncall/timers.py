"""Escalation timer handlers and on-call periodic jobs, registered with jobs.timers and
jobs.periodic from OncallConfig.ready (docs/subsystems/oncall.md)."""

from __future__ import annotations

from datetime import time

from opsdesk.jobs.models import Timer
from opsdesk.jobs.periodic import Daily, Every, periodic_register
from opsdesk.jobs.timers import timer_handler
from opsdesk.notify.outbox import delivery_run
from opsdesk.oncall.audit import oncall_audit
from opsdesk.oncall.services import (
    NOTIFY_TIMER,
    STEP_TIMER,
    escalation_audit,
    escalation_notify_run,
    escalation_step_run,
)

# Escalation deliveries go through the notify outbox (kind notify.delivery); rows queued
# before that, by an older version, still carry this kind.
LEGACY_DELIVERY_TIMER = "oncall.delivery"


@timer_handler(STEP_TIMER)
def escalation_step_timer(timer: Timer) -> None:
    escalation_step_run(escalation_id=int(timer.payload["escalation"]), payload=timer.payload)


@timer_handler(NOTIFY_TIMER)
def escalation_notify_timer(timer: Timer) -> None:
    escalation_notify_run(payload=timer.payload)


@timer_handler(LEGACY_DELIVERY_TIMER)
def legacy_delivery_timer(timer: Timer) -> None:
    """Deliveries queued before escalations moved to the notify outbox: the outbox runs them
    (and reschedules a retry under its own kind, same key)."""
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
