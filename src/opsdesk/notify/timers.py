"""Delivery timer handler, registered with jobs.timers (docs/subsystems/notifications.md#outbox)."""

from __future__ import annotations

from opsdesk.jobs.models import Timer
from opsdesk.jobs.timers import timer_handler
from opsdesk.notify.outbox import DELIVERY_TIMER, delivery_run


@timer_handler(DELIVERY_TIMER)
def delivery_timer(timer: Timer) -> None:
    delivery_run(delivery_id=int(timer.payload["delivery"]))
