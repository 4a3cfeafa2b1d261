"""SLA state benchmark (issue #5); see docs/subsystems/sla.md.

Usage: .venv/bin/python bench/sla.py [--open 100000] [--reuse] [--data-dir DIR]
                                     [--postgres [URL]] [--sample 1000] [--baseline 300]

Sets up a scratch database: SQLite in --data-dir (default /tmp/opsdesk-bench-sla), or with
--postgres the database `opsdesk_bench_sla` on the server of URL (default
postgres://postgres@127.0.0.1:5432). It is migrated and filled through `opsdesk bench seed`
(opsdesk.benchseed) until it holds --open open tickets; the seed spreads tickets over three
years and most of them are closed, so 100,000 open ones take ~425,000 tickets with 5-30
timeline events each (about 100 s and 1.7 GB on SQLite). The seed records a ticket's status
only on the row, so the bench appends to each open ticket the status changes that led there
(new -> open at the first response, then the wait on the customer or vendor): the clocks then
see real pauses. --reuse keeps a database that is already big enough (seeding is the slow
part); without it the database is made afresh.

Then, in one process, warm like a long-running worker, it prints:

- bulk: the SLA state (every clock: metric, state, due, remaining) of all open tickets with
  sla.bulk, split into the database read and the compute, wall and CPU time, three runs;
- single ticket: p50 / p99 of one ticket's clocks through the per-ticket path
  (selectors.ticket_clocks, the ticket row already loaded as in a view), of its pure compute,
  and of services.ticket_sla_refresh (in a transaction rolled back afterwards; the seeded
  due times are fake, so each refresh moves the deadline and writes the row and its timers);
- baseline: the per-ticket loop over a sample, extrapolated to all open tickets: today's
  per-ticket path, and the path before the bulk work (commit 4daf8cb: policy, targets and
  calendar read per ticket, the whole timeline read, tests/sla/clocks_reference.py).

No figure is asserted: read them, and mind the load average printed with them.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PG_DEFAULT = "postgres://postgres@127.0.0.1:5432"
SCRATCH_DB = "opsdesk_bench_sla"
# Share of open tickets among the seed's tickets (benchseed.STATUSES: 4 open of 17).
OPEN_SHARE = 4 / 17


def _setup(args: argparse.Namespace) -> str:
    """Point OpsDesk at the scratch database (before Django starts); returns its label."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "opsdesk.config.settings"
    os.environ["OPSDESK_LOG_LEVEL"] = "WARNING"
    data_dir = Path(args.data_dir)
    if args.postgres is None:
        if not args.reuse and data_dir.exists():
            shutil.rmtree(data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        os.environ["OPSDESK_DATA_DIR"] = str(data_dir)
        os.environ.pop("OPSDESK_DATABASE_URL", None)
        return f"SQLite {data_dir / 'opsdesk.sqlite3'}"
    import psycopg

    server = args.postgres.rstrip("/")
    with psycopg.connect(f"{server}/postgres", autocommit=True, connect_timeout=5) as db:
        exists = db.execute("SELECT 1 FROM pg_database WHERE datname = %s", [SCRATCH_DB]).fetchone()
        if exists and not args.reuse:
            db.execute(f"DROP DATABASE {SCRATCH_DB}")
            exists = None
        if not exists:
            db.execute(f"CREATE DATABASE {SCRATCH_DB}")
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["OPSDESK_DATA_DIR"] = str(data_dir)
    os.environ["OPSDESK_DATABASE_URL"] = f"{server}/{SCRATCH_DB}"
    return f"PostgreSQL {server}/{SCRATCH_DB}"


def _fill(wanted: int) -> None:
    """Seed until ``wanted`` open tickets exist, then give open tickets their status changes."""
    from django.core.management import call_command

    from opsdesk.benchseed import seed
    from opsdesk.tickets.enums import OPEN_STATUSES
    from opsdesk.tickets.models import Ticket

    call_command("migrate", verbosity=0)
    round_ = 0
    while (have := Ticket.objects.filter(status__in=OPEN_STATUSES).count()) < wanted:
        round_ += 1
        count = math.ceil((wanted - have) / OPEN_SHARE * 1.03)
        started = time.perf_counter()
        result = seed(tickets=count, seed=round_ + have)
        print(
            f"seeded {result.tickets:,} tickets, {result.events:,} events "
            f"in {time.perf_counter() - started:.0f} s"
        )
    added = _status_timelines()
    if added:
        print(f"appended {added:,} status changes to open tickets' timelines")


def _status_timelines() -> int:
    """Open tickets past ``new`` get the status changes that led to their status (once)."""
    from opsdesk.tickets.enums import EventKind, Status
    from opsdesk.tickets.models import Ticket, TimelineEvent

    done = set(TimelineEvent.objects.filter(data__bench="sla").values_list("ticket_id", flat=True))
    rng = random.Random(5)
    rows = (
        Ticket.objects.filter(
            status__in=[Status.OPEN, Status.PENDING_CUSTOMER, Status.PENDING_VENDOR]
        )
        .values_list("id", "status", "created_at", "updated_at", "assignee_id")
        .iterator(chunk_size=5000)
    )
    batch: list[TimelineEvent] = []
    added = 0
    for pk, status, created, updated, assignee in rows:
        if pk in done:
            continue
        opened = created + timedelta(minutes=5)  # the seed's first response

        def change(at: datetime, before: str, after: str, pk: int = pk, who: Any = assignee):
            return TimelineEvent(
                ticket_id=pk,
                kind=EventKind.STATUS_CHANGED,
                created_at=at,
                actor_id=who,
                changes={"status": {"before": before, "after": after}},
                data={"bench": "sla"},
            )

        batch.append(change(opened, Status.NEW, Status.OPEN))
        if status != Status.OPEN:
            waiting = opened + (max(updated, opened) - opened) * rng.random()
            batch.append(change(waiting, Status.OPEN, status))
        if len(batch) >= 5000:
            TimelineEvent.objects.bulk_create(batch)
            added, batch = added + len(batch), []
    TimelineEvent.objects.bulk_create(batch)
    return added + len(batch)


def _timed(work: Callable[[], Any]) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def _quantiles(samples: list[tuple[float, float]]) -> str:
    def pick(values: list[float]) -> str:
        ordered = sorted(values)
        p99 = ordered[min(len(ordered) - 1, math.ceil(len(ordered) * 0.99) - 1)]
        return f"p50 {statistics.median(ordered) * 1e3:.3f} / p99 {p99 * 1e3:.3f} ms"

    return f"{pick([w for w, _ in samples])} wall, {pick([c for _, c in samples])} CPU"


def _bulk(runs: int) -> int:
    from opsdesk.core import clock
    from opsdesk.sla.bulk import sla_inputs_bulk, sla_state_compute

    count = 0
    for run in range(1, runs + 1):
        inputs, read_wall, read_cpu = _timed(sla_inputs_bulk)
        now = clock.now()

        def compute(inputs: Any = inputs, now: datetime = now) -> Counter[str]:
            states: Counter[str] = Counter()
            for _, clocks in sla_state_compute(inputs, now=now):
                states.update(c.state for c in clocks.values())
            return states

        states, compute_wall, compute_cpu = _timed(compute)
        count = len(inputs)
        print(
            f"bulk run {run}: {count:,} open tickets in {read_wall + compute_wall:.2f} s wall "
            f"({read_cpu + compute_cpu:.2f} s CPU) = read {read_wall:.2f} s "
            f"({read_cpu:.2f} s CPU) + compute {compute_wall:.2f} s ({compute_cpu:.2f} s CPU); "
            f"{sum(states.values()):,} clocks {dict(sorted(states.items()))}"
        )
        del inputs
        gc.collect()
    return count


def _single(sample: list[int]) -> None:
    from django.db import transaction

    from opsdesk.core import clock
    from opsdesk.sla.clocks import compute_clocks
    from opsdesk.sla.selectors import policy_snapshot_for, ticket_clocks, ticket_facts
    from opsdesk.sla.services import ticket_sla_refresh
    from opsdesk.tickets.models import Ticket

    tickets = list(Ticket.objects.filter(pk__in=sample))
    clocks_s: list[tuple[float, float]] = []
    pure_s: list[tuple[float, float]] = []
    refresh_s: list[tuple[float, float]] = []
    for ticket in tickets:
        _, wall, cpu = _timed(partial(ticket_clocks, ticket=ticket))
        clocks_s.append((wall, cpu))
        policy, facts, now = (
            policy_snapshot_for(ticket=ticket),
            ticket_facts(ticket=ticket),
            clock.now(),
        )
        assert policy is not None
        _, wall, cpu = _timed(partial(compute_clocks, policy, facts, now))
        pure_s.append((wall, cpu))
    with transaction.atomic():
        for ticket in tickets:
            _, wall, cpu = _timed(partial(ticket_sla_refresh, ticket=ticket))
            refresh_s.append((wall, cpu))
        transaction.set_rollback(True)
    n = len(tickets)
    print(f"single ticket, {n} open tickets: ticket_clocks {_quantiles(clocks_s)}")
    print(f"single ticket, {n} open tickets: pure compute  {_quantiles(pure_s)}")
    print(
        f"single ticket, {n} open tickets: ticket_sla_refresh (deadline moved, rolled back) "
        f"{_quantiles(refresh_s)}"
    )


def _baseline(sample: list[int], total: int) -> None:
    from django.db.models import Count, Max
    from tests.sla import clocks_reference

    from opsdesk.core import clock
    from opsdesk.sla.clocks import PolicySnapshot, TargetSnapshot, TicketFacts
    from opsdesk.sla.models import BusinessCalendar, CalendarDay
    from opsdesk.sla.selectors import calendar_build, policy_for_contract, ticket_clocks
    from opsdesk.tickets.models import Ticket, TimelineEvent

    def today() -> None:
        for pk in sample:
            ticket_clocks(ticket=Ticket.objects.get(pk=pk))

    calendars: dict[Any, Any] = {}

    def before() -> None:
        """The per-ticket path as of commit 4daf8cb, query for query."""
        now = clock.now()
        for pk in sample:
            ticket = Ticket.objects.get(pk=pk)
            contract = ticket.contract if ticket.contract_id else None
            row = policy_for_contract(
                contract_policy_id=contract.sla_policy_id if contract else None
            )
            assert row is not None
            targets = tuple(
                TargetSnapshot(
                    metric=t.metric,
                    minutes=t.minutes,
                    kind=t.kind,
                    priority=t.priority,
                    severity=t.severity,
                    business_time=t.business_time,
                    after_hours_minutes=t.after_hours_minutes,
                    pause_on_customer=t.pause_on_customer,
                    pause_on_vendor=t.pause_on_vendor,
                )
                for t in row.targets.order_by("id")
            )
            cal_row = BusinessCalendar.objects.get(
                name=row.calendar.name if row.calendar else "default"
            )
            stats = CalendarDay.objects.filter(calendar=cal_row).aggregate(
                n=Count("id"), last=Max("updated_at")
            )
            key = (cal_row.pk, cal_row.updated_at, stats["n"], stats["last"])
            if key not in calendars:
                calendars[key] = calendar_build(row=cal_row)
            policy = PolicySnapshot(row.name, calendars[key], targets, row.warn_at_percent)
            changes = []
            events = (
                TimelineEvent.objects.filter(ticket=ticket)
                .exclude(changes={})
                .order_by("created_at", "id")
                .values_list("created_at", "changes")
            )
            for at, change in events:
                status = change.get("status") if isinstance(change, dict) else None
                if isinstance(status, dict) and status.get("after"):
                    changes.append((at, str(status["after"])))
            facts = TicketFacts(
                kind=ticket.kind,
                priority=ticket.priority,
                severity=ticket.severity,
                created_at=ticket.created_at,
                first_response_at=ticket.first_response_at,
                resolved_at=ticket.resolved_at,
                status_changes=tuple(changes),
            )
            clocks_reference.compute_clocks(policy, facts, now)

    for label, work in (("per-ticket path today", today), ("per-ticket path before", before)):
        work()  # warm
        _, wall, cpu = _timed(work)
        per = wall / len(sample)
        print(
            f"baseline {label}: {per * 1e3:.3f} ms/ticket wall ({cpu / len(sample) * 1e3:.3f} "
            f"ms CPU) over {len(sample)} tickets -> {total:,} tickets ≈ {per * total:.0f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--open", type=int, default=100_000, help="open tickets wanted")
    parser.add_argument("--reuse", action="store_true", help="keep a big enough database")
    parser.add_argument(
        "--data-dir", default=str(Path(tempfile.gettempdir()) / "opsdesk-bench-sla")
    )
    parser.add_argument("--postgres", nargs="?", const=PG_DEFAULT, default=None, metavar="URL")
    parser.add_argument(
        "--sample", type=int, default=1000, help="tickets for single-ticket figures"
    )
    parser.add_argument("--baseline", type=int, default=300, help="tickets for the baselines")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    label = _setup(args)

    import django

    django.setup()
    from django.db import connection

    from opsdesk.sla.selectors import policy_set
    from opsdesk.tickets.enums import OPEN_STATUSES
    from opsdesk.tickets.models import Ticket

    _fill(args.open)
    open_ids = list(Ticket.objects.filter(status__in=OPEN_STATUSES).values_list("id", flat=True))
    print(
        f"{datetime.now(tz=UTC):%Y-%m-%d %H:%M} UTC, {label} ({connection.vendor}), "
        f"{Ticket.objects.count():,} tickets, {len(open_ids):,} open; "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    )
    _, wall, _ = _timed(policy_set)
    print(f"policies and calendars, cold process cache: {wall * 1e3:.0f} ms (once per process)")
    total = _bulk(args.runs)
    rng = random.Random(7)
    _single(rng.sample(open_ids, min(args.sample, len(open_ids))))
    _baseline(rng.sample(open_ids, min(args.baseline, len(open_ids))), total)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
