"""SLA state of many tickets at once (docs/subsystems/sla.md, "Many tickets at once").

Reads are set-based: one query for the tickets (with their contract's policy), one for the
status changes of those of them that left ``new`` (a ticket still ``new`` has none: no
transition leads back to it, see ``selectors.ticket_facts``), both streamed in chunks;
policies and calendars come frozen from the process cache. The clocks are the same pure
``clocks.compute_clocks`` as for one ticket, so the results are those of
``selectors.ticket_clocks`` ticket by ticket (a test holds the two paths to each other).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import NamedTuple

from django.db.models import QuerySet

from opsdesk.core import clock
from opsdesk.sla import calendar as bt
from opsdesk.sla.clocks import Clock, PolicySnapshot, TicketFacts, compute_clocks
from opsdesk.sla.selectors import KNOWN_STATUSES, PolicySet, policy_set, status_changes_query
from opsdesk.tickets.enums import OPEN_STATUSES, Status
from opsdesk.tickets.models import Ticket

CHUNK = 5_000
NEW = Status.NEW.value

_TICKET_COLUMNS = (
    "id",
    "kind",
    "priority",
    "severity",
    "status",
    "created_at",
    "first_response_at",
    "resolved_at",
    "contract__sla_policy_id",
)
_STORED_COLUMNS = ("due_at", "sla_warn_at")


class SlaInput(NamedTuple):
    """One ticket as the clocks need it, with the deadline it stores now (when asked for)."""

    ticket_id: int
    policy: PolicySnapshot | None
    facts: TicketFacts
    due_at: datetime | None
    warn_at: datetime | None


def open_tickets() -> QuerySet[Ticket]:
    return Ticket.objects.filter(status__in=OPEN_STATUSES)


def _status_changes(
    tickets: QuerySet[Ticket], chunk_size: int
) -> dict[int, list[tuple[datetime, str]]]:
    """Status changes per ticket, in timeline order, of the tickets that left ``new``."""
    rows = (
        status_changes_query("ticket_id", "created_at")
        .filter(ticket__in=tickets.exclude(status=NEW).order_by().values("id"))
        .order_by("ticket_id", "created_at", "id")
        .iterator(chunk_size=chunk_size)
    )
    changes: dict[int, list[tuple[datetime, str]]] = {}
    for ticket_id, at, status in rows:
        if status in KNOWN_STATUSES:
            changes.setdefault(ticket_id, []).append((at, status))
    return changes


@contextmanager
def _gc_paused() -> Iterator[None]:
    """A bulk read makes several small containers per ticket and keeps them all; the cyclic
    garbage collector would scan the growing heap again and again (a quarter of the read's
    CPU for 100,000 tickets). Nothing here makes reference cycles, so it waits until the end."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def sla_inputs_bulk(
    *, tickets: QuerySet[Ticket] | None = None, stored: bool = False, chunk_size: int = CHUNK
) -> list[SlaInput]:
    """The read half: every ticket of ``tickets`` (default: the open ones) with its facts and
    policy, in id order; with ``stored`` also its stored ``due_at`` / ``sla_warn_at``. Two
    queries plus the configuration check, however many tickets."""
    tickets = open_tickets() if tickets is None else tickets
    policies = policy_set()
    with _gc_paused():
        return _read(tickets, policies, stored, chunk_size)


def _read(
    tickets: QuerySet[Ticket], policies: PolicySet, stored: bool, chunk_size: int
) -> list[SlaInput]:
    changes = _status_changes(tickets, chunk_size)
    columns = _TICKET_COLUMNS + _STORED_COLUMNS if stored else _TICKET_COLUMNS
    rows = tickets.order_by("id").values_list(*columns).iterator(chunk_size=chunk_size)
    inputs: list[SlaInput] = []
    by_policy_id: dict[int | None, PolicySnapshot | None] = {}
    for row in rows:
        pk, kind, priority, severity, status, created, responded, resolved, policy_id = row[:9]
        history = tuple(changes.get(pk, ())) if status != NEW else ()
        facts = TicketFacts(
            kind=kind,
            priority=priority,
            severity=severity,
            created_at=created,
            first_response_at=responded,
            resolved_at=resolved,
            status_changes=history,
        )
        if policy_id not in by_policy_id:
            by_policy_id[policy_id] = policies.for_contract(policy_id)
        due_at, warn_at = row[9:] if stored else (None, None)
        inputs.append(SlaInput(pk, by_policy_id[policy_id], facts, due_at, warn_at))
    return inputs


def _prepare_calendars(inputs: Sequence[SlaInput], now: datetime) -> None:
    """Index each calendar once over the whole span (oldest ticket .. now), instead of growing
    it every time an older ticket comes along."""
    oldest: dict[int, tuple[bt.BusinessCalendar, datetime]] = {}
    for item in inputs:
        if item.policy is not None and not item.policy.calendar.is_24x7:
            cal, created = item.policy.calendar, item.facts.created_at
            known = oldest.get(id(cal))
            if known is None or created < known[1]:
                oldest[id(cal)] = (cal, created)
    for cal, created in oldest.values():
        first = created.astimezone(cal.zone).date().toordinal()
        cal.index_covering(first, max(first, now.astimezone(cal.zone).date().toordinal()))


def sla_state_compute(
    inputs: Sequence[SlaInput], *, now: datetime
) -> Iterator[tuple[SlaInput, dict[str, Clock]]]:
    """The compute half: every ticket's clocks at ``now`` (an empty dict without a policy)."""
    _prepare_calendars(inputs, now)
    for item in inputs:
        if item.policy is None:
            yield item, {}
        else:
            yield item, compute_clocks(item.policy, item.facts, now)


def sla_state_bulk(
    *, tickets: QuerySet[Ticket] | None = None, now: datetime | None = None
) -> dict[int, dict[str, Clock]]:
    """Every SLA clock of many tickets (default: all open ones), keyed by ticket id."""
    moment = now or clock.now()
    inputs = sla_inputs_bulk(tickets=tickets)
    return {item.ticket_id: clocks for item, clocks in sla_state_compute(inputs, now=moment)}
