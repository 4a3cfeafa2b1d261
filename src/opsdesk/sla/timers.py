"""SLA warning and breach timers (docs/subsystems/sla.md).

``ticket_sla_refresh`` keeps two durable timers per ticket (jobs.timers): one at the nearest
deadline's warning instant, one at the deadline. When one fires, the clocks are recomputed
from the timeline; only if the same deadline still stands is the warning or breach
announced: a timeline entry and the escalation hook. Announcements are unique per deadline.
"""

from __future__ import annotations

from datetime import datetime

from opsdesk.jobs.models import Timer
from opsdesk.jobs.timers import timer_handler
from opsdesk.sla.announce import sla_announce
from opsdesk.tickets.models import Ticket


def _ticket_and_deadline(timer: Timer) -> tuple[Ticket | None, datetime | None]:
    ticket = (
        Ticket.objects.select_related("contract").filter(pk=timer.payload.get("ticket")).first()
    )
    raw = timer.payload.get("due_at")
    return ticket, datetime.fromisoformat(raw) if raw else None


@timer_handler("sla.warning")
def sla_warning_timer(timer: Timer) -> None:
    ticket, due_at = _ticket_and_deadline(timer)
    if ticket is not None and due_at is not None:
        sla_announce(ticket=ticket, kind="warning", due_at=due_at)


@timer_handler("sla.breach")
def sla_breach_timer(timer: Timer) -> None:
    ticket, due_at = _ticket_and_deadline(timer)
    if ticket is not None and due_at is not None:
        sla_announce(ticket=ticket, kind="breach", due_at=due_at)
