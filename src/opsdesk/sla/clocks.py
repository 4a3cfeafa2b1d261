"""Pure SLA clocks (docs/subsystems/sla.md): policy snapshot + ticket facts + now -> state.

No ORM: the caller freezes the policy into a :class:`PolicySnapshot` and the ticket's
timeline into :class:`TicketFacts`, so clocks can be recomputed from the timeline at any time
(after a policy change, or to check the live values).

Rules:

* Every clock starts at ``created_at``. The status before the first change is ``new``.
* The clock runs while the ticket is open; it pauses while ``pending_customer`` /
  ``pending_vendor`` when the target allows it, and does not run while ``resolved``/``closed``.
  ``paused_minutes`` is the not-running time between start and stop (or now).
* Stops: first response at ``first_response_at``; recovery at ``recovered_at`` (or
  ``resolved_at`` when there is none); resolution at ``resolved_at``. Without an explicit stop,
  a ticket that is resolved/closed stops every clock when it entered that status.
* The target is the most specific matching one (kind, priority, severity; blank = any). If the
  clock started outside business time and the target has ``after_hours_minutes``, that target
  applies instead and is counted in calendar time (the emergency network works it around the
  clock); without it, a business-time target simply starts counting at the next opening.
* Business-time targets count only business time of the policy's calendar (so counting starts
  at the next opening); calendar-time targets count elapsed time.
* ``due_at``: the instant the target is used up. While paused it is projected as if the clock
  resumed now; for a clock stopped before its target it is projected from the stop.
* State: stopped -> ``met`` (elapsed <= target) or ``breached``; running/paused with no time
  left -> ``breached``; else ``paused``; else ``warning`` at ``warn_at_percent`` of the target;
  else ``running``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from opsdesk.sla import calendar as bt

FIRST_RESPONSE, RECOVERY, RESOLUTION = "first_response", "recovery", "resolution"
METRICS = (FIRST_RESPONSE, RECOVERY, RESOLUTION)
RUNNING, WARNING, PAUSED, MET, BREACHED = "running", "warning", "paused", "met", "breached"
PENDING_CUSTOMER, PENDING_VENDOR = "pending_customer", "pending_vendor"
STOPPED_STATUSES = frozenset({"resolved", "closed"})
INITIAL_STATUS = "new"
US = timedelta(microseconds=1)
MINUTE_US = 60_000_000
EPOCH = bt.EPOCH


@dataclass(frozen=True, slots=True)
class TargetSnapshot:
    metric: str
    minutes: int
    kind: str = ""
    priority: str = ""
    severity: str = ""
    business_time: bool = True
    after_hours_minutes: int | None = None
    pause_on_customer: bool = True
    pause_on_vendor: bool = False

    def matches(self, facts: TicketFacts) -> bool:
        return (
            self.kind in ("", facts.kind)
            and self.priority in ("", facts.priority)
            and self.severity in ("", facts.severity)
        )

    @property
    def specificity(self) -> int:
        return bool(self.kind) + bool(self.priority) + bool(self.severity)

    def pauses(self, status: str) -> bool:
        return (status == PENDING_CUSTOMER and self.pause_on_customer) or (
            status == PENDING_VENDOR and self.pause_on_vendor
        )


@dataclass(frozen=True, slots=True)
class PolicySnapshot:
    name: str
    calendar: bt.BusinessCalendar
    targets: tuple[TargetSnapshot, ...]
    warn_at_percent: int = 75
    # Targets selected per ticket shape (clocks._choices); filled on use.
    _choices: dict[Any, list[_Choice]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )


@dataclass(frozen=True, slots=True)
class TicketFacts:
    kind: str
    priority: str
    severity: str
    created_at: datetime
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    status_changes: tuple[tuple[datetime, str], ...] = ()
    recovered_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Clock:
    metric: str
    target_minutes: int
    business_time: bool
    after_hours: bool
    started_at: datetime
    stopped_at: datetime | None
    elapsed_minutes: int
    paused_minutes: int
    remaining_minutes: int
    due_at: datetime
    state: str


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


class _Choice(NamedTuple):
    """A selected target, prepared once per policy and ticket shape: the statuses in which
    the clock does not run, and the (minutes, business time) in and after hours."""

    metric: str
    idle: frozenset[str]
    in_hours: tuple[int, bool]
    after_hours: tuple[int, bool] | None


def _choices(policy: PolicySnapshot, facts: TicketFacts, metrics: tuple[str, ...]) -> list[_Choice]:
    """The targets of ``metrics`` that apply to the ticket, cached per policy snapshot by
    (kind, priority, severity): a bulk run selects targets a handful of times, not per ticket."""
    key = (facts.kind, facts.priority, facts.severity, metrics)
    found = policy._choices.get(key)
    if found is None:
        found = []
        for metric in metrics:
            target = select_target(policy, facts, metric)
            if target is None:
                continue
            idle = STOPPED_STATUSES | {
                status for status in (PENDING_CUSTOMER, PENDING_VENDOR) if target.pauses(status)
            }
            # The emergency network works after-hours targets around the clock.
            after = target.after_hours_minutes
            found.append(
                _Choice(
                    metric,
                    frozenset(idle),
                    (target.minutes, target.business_time),
                    (after, False) if after is not None else None,
                )
            )
        policy._choices[key] = found
    return found


def _us(instant: datetime) -> int:
    return (instant - EPOCH) // US


def _at(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


class _Ticket:
    """One ticket's history in microseconds since the epoch, with business positions.

    ``starts[i]`` is when ``statuses[i]`` began (the first is ``created_at``); ``ends`` are the
    instants each clock is measured to. ``wall`` and ``business`` give, for every instant of
    ``starts + ends`` (in that order), its position on the clock's time line: elapsed micros,
    or business micros of ``index`` (None until a business-time clock needs them)."""

    __slots__ = ("after_hours", "business", "index", "starts", "statuses", "wall")

    def __init__(self, policy: PolicySnapshot, facts: TicketFacts, ends: list[int]) -> None:
        created = (facts.created_at - EPOCH) // US
        starts, statuses = [created], [INITIAL_STATUS]
        changes = facts.status_changes
        if len(changes) > 1:
            # A stable sort on time only: changes made in one instant keep the timeline's order.
            timeline = sorted((((at - EPOCH) // US, status) for at, status in changes), key=_first)
        else:
            timeline = [((at - EPOCH) // US, status) for at, status in changes]
        for at, status in timeline:
            if at <= created:
                statuses[0] = status
            else:
                starts.append(at)
                statuses.append(status)
        self.starts, self.statuses = starts, statuses
        self.wall = starts + ends
        self.business: list[int] | None = None
        self.index: bt._Index | None = None
        self.after_hours = not bt.is_business_us(policy.calendar, created)

    def positions(self, cal: bt.BusinessCalendar, business: bool) -> list[int]:
        if not business or cal.is_24x7:
            return self.wall
        if self.business is None:
            self.index, self.business = bt.positions_us(cal, self.wall)
        return self.business

    def advance(self, cal: bt.BusinessCalendar, business: bool, k: int, amount: int) -> int:
        """The instant (µs) at which ``amount`` more clock time has run after instant ``k``."""
        if amount == 0 or not business or cal.is_24x7:
            return self.wall[k] + amount
        assert self.index is not None and self.business is not None  # noqa: S101 - positions() ran
        found = bt.instant_at_position(self.index, self.business[k] + amount)
        if found is not None:
            return found
        # Beyond the calendar's index: the general path grows it.
        grown = bt.add_business_time(cal, _at(self.wall[k]), timedelta(microseconds=amount))
        return _us(grown)


def _first(change: tuple[int, str]) -> int:
    return change[0]


def _walk(
    ticket: _Ticket, pos: list[int], e: int, idle: frozenset[str], goal: int
) -> tuple[int, int, int, int, bool]:
    """Walk the history up to end ``e`` (an index into ``ticket.wall``): micros counted and
    paused, where the goal was reached (instant index and the micros still needed there, or
    -1) and whether the clock runs at the end."""
    starts, statuses = ticket.starts, ticket.statuses
    end, end_pos = ticket.wall[e], pos[e]
    count = len(starts)
    elapsed = paused = 0
    due_k, due_left = -1, 0
    running = True
    for i in range(count):
        a = starts[i]
        if a >= end:
            # Changes at exactly ``end`` still decide whether the clock runs now: the last
            # of them (several can share one instant) is the status in force.
            for j in range(i, count):
                if starts[j] == end:
                    running = statuses[j] not in idle
            break
        nxt = i + 1
        length = (pos[nxt] if nxt < count and starts[nxt] < end else end_pos) - pos[i]
        running = statuses[i] not in idle
        if not running:
            paused += length
            continue
        if due_k < 0 and elapsed + length >= goal:
            due_k, due_left = i, goal - elapsed
        elapsed += length
    return elapsed, paused, due_k, due_left, running


def _state(warn_at_percent: int, elapsed: int, goal: int, running: bool, stopped: bool) -> str:
    if stopped:
        return MET if elapsed <= goal else BREACHED
    if elapsed >= goal:
        return BREACHED
    if not running:
        return PAUSED
    if elapsed * 100 >= goal * warn_at_percent:
        return WARNING
    return RUNNING


def _compute(
    policy: PolicySnapshot, facts: TicketFacts, now: datetime, choices: list[_Choice]
) -> dict[str, Clock]:
    created = facts.created_at
    now_us = (now - EPOCH) // US
    ends: list[datetime] = []
    ends_us: list[int] = []
    stopped_flags: list[bool] = []
    for choice in choices:
        stop = _stop_at(facts, choice.metric)
        stopped = stop is not None and stop <= now
        end = stop if stop is not None and stopped else now
        if end < created:
            end = created
        ends.append(end)
        ends_us.append(now_us if end is now else (end - EPOCH) // US)
        stopped_flags.append(stopped)
    ticket = _Ticket(policy, facts, ends_us)
    cal, warn_at_percent = policy.calendar, policy.warn_at_percent
    first_end = len(ticket.starts)
    clocks: dict[str, Clock] = {}
    for n, choice in enumerate(choices):
        minutes, business = (
            choice.after_hours
            if ticket.after_hours and choice.after_hours is not None
            else choice.in_hours
        )
        goal = minutes * MINUTE_US
        e = first_end + n
        pos = ticket.positions(cal, business)
        elapsed, paused, due_k, due_left, running = _walk(ticket, pos, e, choice.idle, goal)
        if due_k < 0:
            due_k, due_left = e, goal - elapsed
        stopped = stopped_flags[n]
        # Positional: this runs for every clock of every ticket in a bulk run.
        clocks[choice.metric] = Clock(
            choice.metric,  # metric
            minutes,  # target_minutes
            business,  # business_time
            ticket.after_hours,  # after_hours
            created,  # started_at
            ends[n] if stopped else None,  # stopped_at
            elapsed // MINUTE_US,  # elapsed_minutes
            paused // MINUTE_US,  # paused_minutes
            (goal - elapsed) // MINUTE_US,  # remaining_minutes
            EPOCH + timedelta(microseconds=ticket.advance(cal, business, due_k, due_left)),
            _state(warn_at_percent, elapsed, goal, running, stopped),  # state
        )
    return clocks


def compute_clock(
    policy: PolicySnapshot, facts: TicketFacts, metric: str, now: datetime
) -> Clock | None:
    """The clock of one metric at ``now``, or None when no target applies to the ticket."""
    return compute_clocks(policy, facts, now, metrics=(metric,)).get(metric)


def compute_clocks(
    policy: PolicySnapshot, facts: TicketFacts, now: datetime, metrics: tuple[str, ...] = METRICS
) -> dict[str, Clock]:
    """Every applicable clock of a ticket at ``now``, keyed by metric."""
    choices = _choices(policy, facts, metrics)
    if not choices:
        return {}
    return _compute(policy, facts, now, choices)


def warning_at(policy: PolicySnapshot, clock: Clock) -> datetime:
    """When a running clock reaches the policy's warning share of its target, in whole
    minutes: ``due_at`` moved back by the rest of the target, in the clock's own time. A
    function of the timeline only (not of now), so recomputing does not move it; for a clock
    past its warning share it is in the past (as if it had run without pauses)."""
    warn = -(-clock.target_minutes * policy.warn_at_percent // 100)  # ceiling
    shift = timedelta(minutes=clock.target_minutes - warn)
    if shift < timedelta(0):
        return (
            bt.add_business_time(policy.calendar, clock.due_at, -shift)
            if clock.business_time
            else clock.due_at - shift
        )
    if clock.business_time:
        return bt.subtract_business_time(policy.calendar, clock.due_at, shift)
    return clock.due_at - shift


def nearest_deadline(
    policy: PolicySnapshot, clocks: dict[str, Clock]
) -> tuple[datetime | None, datetime | None]:
    """The nearest due time of the clocks running now and its warning instant (what a ticket
    stores as ``due_at`` / ``sla_warn_at``); (None, None) when none runs."""
    nearest: Clock | None = None
    for clock in clocks.values():
        running = clock.stopped_at is None and clock.state in (RUNNING, WARNING, BREACHED)
        if running and (nearest is None or clock.due_at < nearest.due_at):
            nearest = clock
    if nearest is None:
        return None, None
    return nearest.due_at, warning_at(policy, nearest)
