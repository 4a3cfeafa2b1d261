"""Writes for SLA calendars (docs/subsystems/sla.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction

from opsdesk.core import clock
from opsdesk.core.errors import InvalidInput
from opsdesk.jobs.timers import timer_cancel, timer_schedule
from opsdesk.sla import calendar as bt
from opsdesk.sla.clocks import BREACHED, RUNNING, WARNING, Clock, PolicySnapshot, compute_clocks
from opsdesk.sla.enums import CalendarDayKind
from opsdesk.sla.models import CalendarDay
from opsdesk.sla.selectors import (
    calendar_get,
    policy_for_contract,
    policy_snapshot,
    ticket_facts,
)
from opsdesk.tickets.models import Ticket


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


def _warn_at(policy: PolicySnapshot, clock_: Clock, now: datetime) -> datetime:
    """When a running clock reaches the policy's warning share of its target."""
    goal = -(-clock_.target_minutes * policy.warn_at_percent // 100)  # ceiling
    minutes = max(0, goal - clock_.elapsed_minutes)
    if clock_.business_time and not clock_.after_hours:
        return bt.add_business_minutes(policy.calendar, now, minutes)
    return now + timedelta(minutes=minutes)


def _summarise(policy: PolicySnapshot, clocks: dict[str, Clock], now: datetime) -> SlaSummary:
    running = [c for c in clocks.values() if c.state in (RUNNING, WARNING, BREACHED)]
    running = [c for c in running if c.stopped_at is None]
    if not running:
        return SlaSummary(due_at=None, warn_at=None, clocks=clocks)
    nearest = min(running, key=lambda c: c.due_at)
    return SlaSummary(due_at=nearest.due_at, warn_at=_warn_at(policy, nearest, now), clocks=clocks)


def _schedule_timers(ticket: Ticket, summary: SlaSummary) -> None:
    """One warning and one breach timer per ticket, moved whenever the deadline moves."""
    payload = {
        "ticket": ticket.pk,
        "due_at": summary.due_at.isoformat() if summary.due_at else None,
    }
    for kind, at in (("warning", summary.warn_at), ("breach", summary.due_at)):
        key = f"sla:{kind}:{ticket.pk}"
        if at is None:
            timer_cancel(key=key)
        else:
            timer_schedule(key=key, kind=f"sla.{kind}", due_at=at, payload=payload)


def ticket_sla_refresh(*, ticket: Ticket) -> SlaSummary:
    """Recompute the ticket's clocks from its timeline and store the nearest due time and its
    warning instant on the ticket (what queues sort and filter on)."""
    now = clock.now()
    contract_policy_id = (
        ticket.contract.sla_policy_id if ticket.contract_id and ticket.contract else None
    )
    policy_row = policy_for_contract(contract_policy_id=contract_policy_id)
    if policy_row is None:
        summary = SlaSummary(due_at=None, warn_at=None, clocks={})
    else:
        policy = policy_snapshot(policy=policy_row)
        clocks = compute_clocks(policy, ticket_facts(ticket=ticket), now)
        summary = _summarise(policy, clocks, now)
    _schedule_timers(ticket, summary)
    if (ticket.due_at, ticket.sla_warn_at) != (summary.due_at, summary.warn_at):
        Ticket.objects.filter(pk=ticket.pk).update(
            due_at=summary.due_at, sla_warn_at=summary.warn_at
        )
        ticket.due_at, ticket.sla_warn_at = summary.due_at, summary.warn_at
    return summary
