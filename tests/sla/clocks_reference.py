"""The per-ticket clocks as first written (datetimes, one target search per clock): the oracle
that tests/sla/test_clocks_fast.py holds the optimised opsdesk.sla.clocks to. Do not optimise."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from opsdesk.sla import calendar as bt
from opsdesk.sla.clocks import Clock, PolicySnapshot, TargetSnapshot, TicketFacts

FIRST_RESPONSE, RECOVERY, RESOLUTION = "first_response", "recovery", "resolution"
METRICS = (FIRST_RESPONSE, RECOVERY, RESOLUTION)
RUNNING, WARNING, PAUSED, MET, BREACHED = "running", "warning", "paused", "met", "breached"
PENDING_CUSTOMER, PENDING_VENDOR = "pending_customer", "pending_vendor"
STOPPED_STATUSES = frozenset({"resolved", "closed"})
INITIAL_STATUS = "new"
US = timedelta(microseconds=1)
MINUTE_US = 60_000_000


def select_target(policy: PolicySnapshot, facts: TicketFacts, metric: str) -> TargetSnapshot | None:
    """The most specific target of ``metric`` matching the ticket (first one on a tie)."""
    best: TargetSnapshot | None = None
    for target in policy.targets:
        if target.metric != metric or not target.matches(facts):
            continue
        if best is None or target.specificity > best.specificity:
            best = target
    return best


def _explicit_stop(facts: TicketFacts, metric: str) -> datetime | None:
    if metric == FIRST_RESPONSE:
        return facts.first_response_at
    if metric == RECOVERY:
        return facts.recovered_at or facts.resolved_at
    return facts.resolved_at


def _stop_at(facts: TicketFacts, metric: str) -> datetime | None:
    explicit = _explicit_stop(facts, metric)
    if explicit is not None or not facts.status_changes:
        return explicit
    at, status = facts.status_changes[-1]
    return at if status in STOPPED_STATUSES else None


def _runs(target: TargetSnapshot, status: str) -> bool:
    return status not in STOPPED_STATUSES and not target.pauses(status)


def _history(facts: TicketFacts) -> list[tuple[datetime, str]]:
    """(from, status) pieces starting at ``created_at``; the first status is ``new``."""
    history = [(facts.created_at, INITIAL_STATUS)]
    # Stable sort on time only: changes made in one instant keep the timeline's order.
    for changed_at, status in sorted(facts.status_changes, key=lambda change: change[0]):
        if changed_at <= facts.created_at:
            history[0] = (facts.created_at, status)
        else:
            history.append((changed_at, status))
    return history


class _Ruler:
    """Measures time between the instants of one ticket in calendar or business time,
    computing each instant's business position once."""

    def __init__(self, cal: bt.BusinessCalendar, instants: list[datetime], business: bool):
        self.cal = cal
        self.business = business
        self.instants = instants
        self.positions: dict[datetime, int] | None = None

    def between(self, a: datetime, b: datetime) -> int:
        """Microseconds of (business or calendar) time from ``a`` to ``b``."""
        if not self.business:
            return (b - a) // US
        if self.positions is None:
            unique = sorted(set(self.instants))
            self.positions = dict(zip(unique, bt.business_positions(self.cal, unique), strict=True))
        return self.positions[b] - self.positions[a]

    def advance(self, start: datetime, micros: int) -> datetime:
        amount = timedelta(microseconds=micros)
        return bt.add_business_time(self.cal, start, amount) if self.business else start + amount


@dataclass(slots=True)
class _Walk:
    """Microseconds counted and paused, the due instant once reached, the current state."""

    elapsed: int
    paused: int
    due_at: datetime | None
    running_now: bool


def _walk(
    ruler: _Ruler,
    target: TargetSnapshot,
    history: list[tuple[datetime, str]],
    end: datetime,
    goal: int,
) -> _Walk:
    walk = _Walk(0, 0, None, running_now=True)
    for i, (a, status) in enumerate(history):
        if a >= end:
            # Changes at exactly ``end`` still decide whether the clock runs now: the last
            # of them (several can share one instant) is the status in force.
            at_end = [s for at, s in history[i:] if at == end]
            if at_end:
                walk.running_now = _runs(target, at_end[-1])
            break
        b = min(history[i + 1][0], end) if i + 1 < len(history) else end
        length = ruler.between(a, b)
        walk.running_now = _runs(target, status)
        if not walk.running_now:
            walk.paused += length
            continue
        if walk.due_at is None and walk.elapsed + length >= goal:
            walk.due_at = ruler.advance(a, goal - walk.elapsed)
        walk.elapsed += length
    return walk


def _state(policy: PolicySnapshot, walk: _Walk, goal: int, stopped: bool) -> str:
    if stopped:
        return MET if walk.elapsed <= goal else BREACHED
    if walk.elapsed >= goal:
        return BREACHED
    if not walk.running_now:
        return PAUSED
    if walk.elapsed * 100 >= goal * policy.warn_at_percent:
        return WARNING
    return RUNNING


@dataclass(frozen=True, slots=True)
class _Ticket:
    """What every clock of one ticket shares: history, end instants and rulers."""

    facts: TicketFacts
    now: datetime
    after_hours: bool
    history: list[tuple[datetime, str]]
    ends: dict[str, tuple[datetime, bool]]
    rulers: dict[bool, _Ruler]


def _prepare(policy: PolicySnapshot, facts: TicketFacts, now: datetime) -> _Ticket:
    history = _history(facts)
    ends: dict[str, tuple[datetime, bool]] = {}
    for metric in METRICS:
        stop = _stop_at(facts, metric)
        stopped = stop is not None and stop <= now
        ends[metric] = (
            max(stop if stop is not None and stopped else now, facts.created_at),
            stopped,
        )
    instants = [at for at, _ in history] + [end for end, _ in ends.values()]
    instants = [at for at in instants if at >= facts.created_at]
    rulers = {flag: _Ruler(policy.calendar, instants, flag) for flag in (False, True)}
    after_hours = not bt.is_business_time(policy.calendar, facts.created_at)
    return _Ticket(facts, now, after_hours, history, ends, rulers)


def _clock(policy: PolicySnapshot, ticket: _Ticket, metric: str, target: TargetSnapshot) -> Clock:
    if ticket.after_hours and target.after_hours_minutes is not None:
        # The emergency network works after-hours targets around the clock.
        target = replace(target, minutes=target.after_hours_minutes, business_time=False)
    goal = target.minutes * MINUTE_US
    end, stopped = ticket.ends[metric]
    ruler = ticket.rulers[target.business_time]
    walk = _walk(ruler, target, ticket.history, end, goal)
    due_at = walk.due_at or ruler.advance(end, goal - walk.elapsed)
    return Clock(
        metric=metric,
        target_minutes=target.minutes,
        business_time=target.business_time,
        after_hours=ticket.after_hours,
        started_at=ticket.facts.created_at,
        stopped_at=end if stopped else None,
        elapsed_minutes=walk.elapsed // MINUTE_US,
        paused_minutes=walk.paused // MINUTE_US,
        remaining_minutes=(goal - walk.elapsed) // MINUTE_US,
        due_at=due_at,
        state=_state(policy, walk, goal, stopped),
    )


def compute_clock(
    policy: PolicySnapshot, facts: TicketFacts, metric: str, now: datetime
) -> Clock | None:
    """The clock of one metric at ``now``, or None when no target applies to the ticket."""
    return compute_clocks(policy, facts, now, metrics=(metric,)).get(metric)


def compute_clocks(
    policy: PolicySnapshot, facts: TicketFacts, now: datetime, metrics: tuple[str, ...] = METRICS
) -> dict[str, Clock]:
    """Every applicable clock of a ticket at ``now``, keyed by metric."""
    targets = {metric: select_target(policy, facts, metric) for metric in metrics}
    if not any(targets.values()):
        return {}
    ticket = _prepare(policy, facts, now)
    return {
        metric: _clock(policy, ticket, metric, target)
        for metric, target in targets.items()
        if target is not None
    }
