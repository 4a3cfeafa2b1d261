"""Deliveries as durable work: queue one (after the person's quiet hours when it is not
urgent), run it with retries, withdraw queued ones (docs/subsystems/notifications.md#outbox).

Each delivery is one timer ``delivery:<id>``: whoever queues messages commits them once, and
a slow provider never holds the caller's locks.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils.translation import gettext as _

from opsdesk.core.clock import now
from opsdesk.jobs.timers import timer_cancel, timer_schedule
from opsdesk.notify.channels.delivery import QUIET_EXEMPT_CHANNELS, delivery_attempt
from opsdesk.notify.models import Delivery, DeliveryStatus
from opsdesk.notify.selectors import quiet_hours_end
from opsdesk.tickets.enums import Status
from opsdesk.tickets.services import ticket_system_event_add

DELIVERY_TIMER = "notify.delivery"
DELIVERY_BACKOFF = timedelta(seconds=30)
_CLOSED = (Status.RESOLVED, Status.CLOSED)


def _timer_key(delivery: Delivery) -> str:
    return f"delivery:{delivery.pk}"


def delivery_queue(*, delivery: Delivery) -> None:
    """Schedule the delivery's attempt: now, or at ``not_before`` (end of quiet hours)."""
    moment = now()
    due = max(moment, delivery.not_before) if delivery.not_before else moment
    timer_schedule(
        key=_timer_key(delivery), kind=DELIVERY_TIMER, due_at=due, payload={"delivery": delivery.pk}
    )


def delivery_cancel(*, source: str, urgent: bool | None = None) -> int:
    """Withdraw the still-queued deliveries of ``source`` (``escalation:12`` once it is
    acknowledged); ``urgent=False``: only the non-urgent ones. Returns how many."""
    queued = Delivery.objects.filter(source=source, status=DeliveryStatus.QUEUED)
    if urgent is not None:
        queued = queued.filter(urgent=urgent)
    withdrawn = list(queued)
    for delivery in withdrawn:
        _withdraw(delivery)
    return len(withdrawn)


def delivery_expedite(*, source: str) -> int:
    """Make the still-queued non-urgent deliveries of ``source`` urgent (an escalation that
    became urgent); those waiting for quiet hours to end go now. Returns how many."""
    waiting = list(
        Delivery.objects.filter(source=source, status=DeliveryStatus.QUEUED, urgent=False)
    )
    for delivery in waiting:
        deferred = delivery.not_before is not None
        delivery.urgent = True
        delivery.not_before = None
        delivery.updated_at = now()
        delivery.save(update_fields=["urgent", "not_before", "updated_at"])
        if deferred:  # the others are due now or waiting for a retry: leave their timer
            delivery_queue(delivery=delivery)
    return len(waiting)


def _withdraw(delivery: Delivery) -> None:
    delivery.status = DeliveryStatus.CANCELLED
    delivery.updated_at = now()
    delivery.save(update_fields=["status", "updated_at"])
    timer_cancel(key=_timer_key(delivery))


def _still_quiet(delivery: Delivery) -> bool:
    """A non-urgent delivery whose person is (again, or still) in quiet hours waits for the
    end of that window; checked when it is due, so a changed window counts."""
    if delivery.urgent or delivery.user is None or delivery.channel in QUIET_EXEMPT_CHANNELS:
        return False
    end = quiet_hours_end(user=delivery.user, at=now())
    if end is None:
        return False
    delivery.not_before = end
    delivery.save(update_fields=["not_before"])
    delivery_queue(delivery=delivery)
    return True


def delivery_run(*, delivery_id: int) -> None:
    """Attempt one delivery; retry later if the provider may recover, else record the failure
    on the ticket's timeline. A deferred notice about a ticket resolved meanwhile is dropped."""
    delivery = Delivery.objects.select_related("ticket", "user").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != DeliveryStatus.QUEUED:
        return
    if delivery.not_before and delivery.ticket and delivery.ticket.status in _CLOSED:
        _withdraw(delivery)
        return
    if _still_quiet(delivery):
        return
    result = delivery_attempt(delivery=delivery)
    if result.ok:
        return
    if result.retryable:
        wait = max(DELIVERY_BACKOFF * delivery.attempts, timedelta(seconds=result.retry_after))
        timer_schedule(
            key=_timer_key(delivery),
            kind=DELIVERY_TIMER,
            due_at=now() + wait,
            payload={"delivery": delivery.pk},
        )
        return
    if delivery.ticket is not None:
        ticket_system_event_add(
            ticket=delivery.ticket,
            actor_label=_("Notification failed"),
            body=_("%(channel)s to %(user)s failed: %(error)s")
            % {"channel": delivery.channel, "user": delivery.user, "error": delivery.error},
            data={"delivery": delivery.pk, "channel": delivery.channel, "status": "failed"},
        )
