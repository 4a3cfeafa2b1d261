"""SLA clock benchmark (pure part): `.venv/bin/python bench/sla_calendar.py [--tickets N]`.

Prints the time of one ticket's clocks, of N synthetic open tickets' clocks (default 100,000),
and the same due-time computation with a naive minute-by-minute loop on a sample, in the same
process, for comparison. No database: the calendar is the default Korean office calendar built
from the `holidays` package, the policy is the seeded Standard policy's targets. The whole
path with the database (bulk read + compute of every open ticket, one ticket's clocks, the
per-ticket baselines) is bench/sla.py.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from opsdesk.sla import calendar as bt
from opsdesk.sla.clocks import PolicySnapshot, TargetSnapshot, TicketFacts, compute_clocks
from opsdesk.sla.holiday_names import country_holidays

NOW = datetime(2025, 10, 20, 5, 0, tzinfo=UTC)
CAL = bt.BusinessCalendar(holidays=frozenset(country_holidays("KR", range(2024, 2028))))
POLICY = PolicySnapshot(
    name="Standard",
    calendar=CAL,
    targets=(
        TargetSnapshot("first_response", 60, pause_on_customer=False),
        TargetSnapshot("first_response", 15, priority="urgent", business_time=False),
        TargetSnapshot("recovery", 480, kind="incident", severity="simple", pause_on_vendor=True),
        TargetSnapshot("recovery", 240, kind="incident", severity="complex"),
        TargetSnapshot("recovery", 120, kind="incident", severity="urgent", business_time=False),
        TargetSnapshot("resolution", 2880, pause_on_vendor=True),
    ),
)
STATUSES = ("open", "pending_customer", "pending_vendor", "open")


def synthetic_ticket(rng: random.Random) -> TicketFacts:
    created = NOW - timedelta(minutes=rng.randint(1, 30 * 1440))
    changes: list[tuple[datetime, str]] = []
    moment = created
    for _ in range(rng.randint(0, 4)):
        moment += timedelta(minutes=rng.randint(5, 600))
        if moment < NOW:
            changes.append((moment, rng.choice(STATUSES)))
    responded = created + timedelta(minutes=rng.randint(1, 120)) if changes else None
    return TicketFacts(
        kind=rng.choice(("incident", "csr")),
        priority=rng.choice(("low", "normal", "high", "urgent")),
        severity=rng.choice(("simple", "complex", "urgent")),
        created_at=created,
        first_response_at=responded if responded and responded < NOW else None,
        status_changes=tuple(changes),
    )


def naive_add(cal: bt.BusinessCalendar, start: datetime, minutes: int) -> datetime:
    """Baseline: step one minute at a time, checking local wall time and holidays."""
    moment = start.replace(second=0, microsecond=0)
    while minutes > 0:
        local = moment.astimezone(cal.zone)
        minute_of_day = local.hour * 60 + local.minute
        if any(a <= minute_of_day < b for a, b in cal.hours_on(local.date())):
            minutes -= 1
        moment += timedelta(minutes=1)
    return moment


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--naive-sample", type=int, default=200)
    args = parser.parse_args()
    rng = random.Random(1)
    tickets = [synthetic_ticket(rng) for _ in range(args.tickets)]

    single = tickets[0]
    runs = []
    for _ in range(2000):
        started = time.perf_counter()
        compute_clocks(POLICY, single, NOW)
        runs.append(time.perf_counter() - started)
    print(f"single ticket, all clocks: median {statistics.median(runs) * 1e6:.1f} µs wall")
    print(f"load average before the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")

    started, cpu = time.perf_counter(), time.process_time()
    states: dict[str, int] = {}
    for facts in tickets:
        for clock in compute_clocks(POLICY, facts, NOW).values():
            states[clock.state] = states.get(clock.state, 0) + 1
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(
        f"{len(tickets):,} open tickets, all clocks: {elapsed:.2f} s wall, {cpu:.2f} s CPU "
        f"({cpu / len(tickets) * 1e6:.1f} µs CPU/ticket) states={dict(sorted(states.items()))}"
    )

    sample = [(t.created_at, 2880) for t in tickets[: args.naive_sample]]
    started = time.perf_counter()
    fast = [bt.add_business_minutes(CAL, start, m) for start, m in sample]
    fast_s = time.perf_counter() - started
    started = time.perf_counter()
    slow = [naive_add(CAL, start, m) for start, m in sample]
    slow_s = time.perf_counter() - started
    assert fast == slow, "the window arithmetic disagrees with the minute loop"
    print(
        f"due time for 2,880 business minutes, {len(sample)} tickets: "
        f"windows {fast_s / len(sample) * 1e6:.1f} µs/ticket, "
        f"naive minute loop {slow_s / len(sample) * 1e6:.0f} µs/ticket "
        f"({slow_s / fast_s:.0f}x slower; 100k tickets ≈ {slow_s / len(sample) * 1e5:.0f} s)"
    )


if __name__ == "__main__":
    main()
