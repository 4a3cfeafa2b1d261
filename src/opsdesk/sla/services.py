"""Writes for SLA calendars (docs/subsystems/sla.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction
from django.db.models import QuerySet

from opsdesk.core import clock
from opsdesk.core.errors import InvalidInput
from opsdesk.jobs.timers import TimerSpec, timer_cancel, timers_schedule
from opsdesk.sla import calendar as bt
from opsdesk.sla.bulk import SlaInput, open_tickets, sla_inputs_bulk, sla_state_compute
from opsdesk.sla.clocks import Clock, TicketFacts, compute_clocks, nearest_deadline
from opsdesk.sla.enums import CalendarDayKind
from opsdesk.sla.models import CalendarDay
from opsdesk.sla.selectors import calendar_get, policy_snapshot_for, ticket_facts
from opsdesk.tickets.models import Ticket

RECOMPUTE_CHUNK = 500


@transaction.atomic
def calendar_day_set(
    *,
    calendar_name: str,
    day: date,
    kind: str,
    name: str = "",
    hours: list[list[str]] | None = None,
) -> CalendarDay:
    """Add or replace an admin day: a temporary holiday, a company day off, a special
    working day (``hours`` blank = the calendar's Monday hours)."""
    if kind not in CalendarDayKind.values:
        raise InvalidInput(f"unknown calendar day kind {kind!r}", field="kind")
    if hours and kind != CalendarDayKind.WORKING_DAY:
        raise InvalidInput("only working days have hours", field="hours")
    try:
        bt.parse_day_hours(hours or [])
    except ValueError as error:
        raise InvalidInput(str(error), field="hours") from None
    row, _ = CalendarDay.objects.update_or_create(
        calendar=calendar_get(name=calendar_name),
        date=day,
        defaults={"kind": kind, "name": name.strip(), "hours": hours or []},
    )
    return row


@transaction.atomic
def calendar_day_remove(*, calendar_name: str, day: date) -> None:
    CalendarDay.objects.filter(calendar=calendar_get(name=calendar_name), date=day).delete()


@dataclass(frozen=True)
class SlaSummary:
    due_at: datetime | None
    warn_at: datetime | None
    clocks: dict[str, Clock]


def _schedule_timers(
    ticket_id: int, due_at: datetime | None, warn_at: datetime | None, *, new: bool = False
) -> None:
    """One warning and one breach timer per ticket, moved whenever the deadline moves (one
    upsert for both). A ``new`` ticket has no timers to cancel."""
    payload = {"ticket": ticket_id, "due_at": due_at.isoformat() if due_at else None}
    specs = []
    for kind, at in (("warning", warn_at), ("breach", due_at)):
        key = f"sla:{kind}:{ticket_id}"
        if at is not None:
            specs.append(TimerSpec(key=key, kind=f"sla.{kind}", due_at=at, payload=payload))
        elif not new:
            timer_cancel(key=key)
    timers_schedule(specs)


def ticket_sla_open(*, ticket: Ticket) -> None:
    """The deadline of a ticket about to be inserted, set on the instance so that its INSERT
    carries it (no UPDATE after). Once the row exists, ``ticket_sla_timers_start``."""
    summary = _summary(ticket)
    ticket.due_at, ticket.sla_warn_at = summary.due_at, summary.warn_at


def ticket_sla_timers_start(*, ticket: Ticket) -> None:
    """Schedule the warning and breach timers of a ticket just inserted with the deadline
    ``ticket_sla_open`` set."""
    if ticket.due_at is not None or ticket.sla_warn_at is not None:
        _schedule_timers(ticket.pk, ticket.due_at, ticket.sla_warn_at, new=True)


def ticket_sla_refresh(*, ticket: Ticket, facts: TicketFacts | None = None) -> SlaSummary:
    """Recompute the ticket's clocks from its timeline and store the nearest due time and its
    warning instant on the ticket (what queues sort and filter on).

    Cheap on purpose, it runs after every write that can move a clock: the policy and its
    calendar come from the process cache (one query checks it, and reads the contract's
    policy when the contract is not loaded), the timeline is read only for a ticket that left
    ``new`` and only when the caller passes no ``facts``, and the row and its timers are
    written only when the deadline moved. So the stored ``due_at`` / ``sla_warn_at`` must
    only be written here (or by ``sla_recompute``): they tell whether the timers match."""
    summary = _summary(ticket, facts)
    if (ticket.due_at, ticket.sla_warn_at) != (summary.due_at, summary.warn_at):
        _schedule_timers(ticket.pk, summary.due_at, summary.warn_at)
        Ticket.objects.filter(pk=ticket.pk).update(
            due_at=summary.due_at, sla_warn_at=summary.warn_at
        )
        ticket.due_at, ticket.sla_warn_at = summary.due_at, summary.warn_at
    return summary


def _summary(ticket: Ticket, facts: TicketFacts | None = None) -> SlaSummary:
    """The ticket's clocks now and its nearest deadline, from its policy and ``facts`` (read
    from the ticket and, once it left ``new``, its timeline, when not given)."""
    policy = policy_snapshot_for(ticket=ticket)
    if policy is None:
        return SlaSummary(due_at=None, warn_at=None, clocks={})
    facts = facts or ticket_facts(ticket=ticket, trust_new=True)
    clocks = compute_clocks(policy, facts, clock.now())
    due_at, warn_at = nearest_deadline(policy, clocks)
    return SlaSummary(due_at=due_at, warn_at=warn_at, clocks=clocks)


@dataclass(frozen=True)
class RecomputeResult:
    checked: int
    changed: int


def sla_recompute(
    *,
    tickets: QuerySet[Ticket] | None = None,
    chunk_size: int = RECOMPUTE_CHUNK,
    dry_run: bool = False,
) -> RecomputeResult:
    """Recompute ``due_at`` / ``sla_warn_at`` of many tickets (default: every open one) from
    their timelines, after a change of policy, targets or calendar.

    Works in chunks of ``chunk_size`` tickets by id, each one transaction that locks its
    tickets, reads them with the bulk selector (two queries), computes, and writes only the
    tickets whose deadline moved (one ``bulk_update``) and their timers. A ticket a service
    changes meanwhile waits for the chunk, or is read afterwards from its new timeline.
    Running it twice changes nothing the second time (the stored values depend on the
    timeline, not on the time of the run)."""
    base = open_tickets() if tickets is None else tickets
    ids = list(base.order_by("id").values_list("id", flat=True))
    checked = changed = 0
    for first in range(0, len(ids), chunk_size):
        chunk = ids[first : first + chunk_size]
        with transaction.atomic():
            # Lock the chunk's rows as the ticket services do before they write.
            list(Ticket.objects.select_for_update().filter(id__in=chunk).values_list("id"))
            part = base.filter(id__gte=chunk[0], id__lte=chunk[-1])
            inputs = sla_inputs_bulk(tickets=part, stored=True)
            moved = _moved(inputs, clock.now())
            if not dry_run and moved:
                rows = [Ticket(pk=pk, due_at=due, sla_warn_at=warn) for pk, due, warn in moved]
                Ticket.objects.bulk_update(rows, ["due_at", "sla_warn_at"])
                for pk, due, warn in moved:
                    _schedule_timers(pk, due, warn)
        checked, changed = checked + len(inputs), changed + len(moved)
    return RecomputeResult(checked=checked, changed=changed)


def _moved(
    inputs: list[SlaInput], now: datetime
) -> list[tuple[int, datetime | None, datetime | None]]:
    """(ticket id, due, warning) of the tickets whose computed deadline differs from the row."""
    moved: list[tuple[int, datetime | None, datetime | None]] = []
    for item, clocks in sla_state_compute(inputs, now=now):
        due_at, warn_at = (
            (None, None) if item.policy is None else nearest_deadline(item.policy, clocks)
        )
        if (due_at, warn_at) != (item.due_at, item.warn_at):
            moved.append((item.ticket_id, due_at, warn_at))
    return moved
