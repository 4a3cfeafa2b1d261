"""Ticket core benchmark (issue: speed of the core); see bench/README.md.

Usage: .venv/bin/python bench/tickets.py [--databases sqlite,postgresql]
           [--sizes 10000,100000] [--postgres-sizes 10000,100000,1000000]
           [--requests 400] [--creates 1000] [--workers 2] [--results bench/RESULTS.md]
           [--data-dir DIR [--reuse | --seed-only]]

For each database and size it seeds one scratch site with `opsdesk bench seed`, starts the
production server (`opsdesk serve`, uWSGI with ``--workers`` worker processes) on 127.0.0.1
and drives it from separate load processes:

- the team queue page (agent UI) and the API list (``queue=team``, 50 rows), each first
  page and a page ~90 % deep through the cursor;
- ticket detail with its timeline: the agent UI page and ``GET .../timeline`` of the API,
  for the visible ticket with the most events;
- ticket create over the API (``POST /api/v1/tickets``), last, as it adds rows.

Reads run with as many load processes as server workers (the latency a user sees), creates
with twice as many (throughput). The same list page's bare SQL (the selector's queries,
replayed on a raw DB-API cursor without Django) is timed in the same run and the ratio
printed, so the framework's share is visible. With ``--results`` a section is appended to
the named Markdown file. No figure is asserted: read them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _load import OPSDESK, Request, Result, Server, machine, run, run_wrk

# Runs inside `opsdesk shell` against the scratch database; prints one JSON line.
PREPARE = r"""
import json, statistics, time
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.db.models import Count, Q
from django.test.utils import CaptureQueriesContext
from opsdesk.api.services import api_token_create
from opsdesk.core.pagination import encode_cursor
from opsdesk.tenancy.models import Organisation
from opsdesk.tenancy.selectors import staff_scope
from opsdesk.tickets.enums import OPEN_STATUSES
from opsdesk.tickets.models import Ticket, TimelineEvent
from opsdesk.tickets.selectors import ticket_queue

user = User.objects.filter(username__startswith="bench.").order_by("id").first()
scope = staff_scope(user=user)
_, token = api_token_create(user=user, name="bench")
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()

team_q = Q(team_id__in=scope.team_ids) | Q(technical_team_id__in=scope.team_ids)
queue = Ticket.objects.filter(team_q, status__in=OPEN_STATUSES).order_by("-created_at", "-id")
visible = queue.count()
deep = queue.values_list("created_at", "id")[int(visible * 0.9)]
cursor = encode_cursor(deep[0], deep[1])
# The ticket with the longest timeline near the top of the queue, among the seeded ones (a
# reused site also holds the one-event tickets an earlier create phase added).
recent = list(queue.exclude(description="bench").values_list("id", flat=True)[:200])
busiest = (
    TimelineEvent.objects.filter(ticket_id__in=recent).values("ticket_id")
    .annotate(n=Count("id")).order_by("-n", "ticket_id").first()
)
detail = Ticket.objects.get(pk=busiest["ticket_id"])


def bare_sql(cursor_value):
    with CaptureQueriesContext(connection) as captured:
        ticket_queue(actor=user, queue="team", cursor=cursor_value, limit=50)
    statements = [q["sql"] for q in captured.captured_queries]
    raw = connection.connection.cursor()
    timings = []
    for _ in range(200):
        started = time.perf_counter()
        for sql in statements:
            raw.execute(sql)
            raw.fetchall()
        timings.append(time.perf_counter() - started)
    timings.sort()
    return {"queries": len(statements), "p50": timings[100] * 1000, "p95": timings[190] * 1000}


print(json.dumps({
    "token": token,
    "session": session.session_key,
    "cursor": cursor,
    "visible": visible,
    "total": Ticket.objects.count(),
    "detail": detail.reference,
    "detail_events": busiest["n"],
    "organisation": Organisation.objects.order_by("id").values_list("code", flat=True).first(),
    "sql_first": bare_sql(None),
    "sql_deep": bare_sql(cursor),
    "server": connection.vendor + " " + ".".join(map(str, connection.Database.sqlite_version_info))
        if connection.vendor == "sqlite" else connection.vendor + " " + str(connection.pg_version),
}))
"""


def opsdesk(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([OPSDESK, *args], env=env, check=True, capture_output=True, text=True)
    return done.stdout


def postgres_recreate(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def measure(env: dict[str, str], options: argparse.Namespace, label: str) -> dict[str, object]:
    prep = json.loads(opsdesk(env, "shell", "--no-imports", "-c", PREPARE).strip().splitlines()[-1])
    bearer = {"Authorization": f"Bearer {prep['token']}"}
    cookie = {"Cookie": f"sessionid={prep['session']}"}
    n = options.requests
    api_list = "/api/v1/tickets?queue=team&limit=50"
    reads = [
        ("API list, first page", api_list, bearer),
        ("API list, deep page", f"{api_list}&cursor={prep['cursor']}", bearer),
        ("Queue page, first", "/tickets/?queue=team", cookie),
        ("Queue page, deep", f"/tickets/?queue=team&cursor={prep['cursor']}", cookie),
        (f"Detail page ({prep['detail_events']} events)", f"/tickets/{prep['detail']}/", cookie),
        ("API timeline", f"/api/v1/tickets/{prep['detail']}/timeline", bearer),
    ]
    # The framework's floor on this machine in this run: Django's 404 through the whole
    # middleware stack, no query. Figures from different days compare through it.
    baseline = ("Not-found page (baseline)", "/bench-baseline-404/", {})
    server = Server(env, options.workers)
    results: list[Result] = []
    try:
        for name, path, headers in reads:
            results.append(
                run(name, server.port, [Request("GET", path, headers)] * n, options.workers)
            )
        name, path, headers = baseline
        results.append(
            run(name, server.port, [Request("GET", path, headers, expect=404)] * n, options.workers)
        )
        body = json.dumps(
            {
                "subject": "Disk usage alarm on web-01",
                "organisation": prep["organisation"],
                "kind": "incident",
                "description": "bench",
            }
        ).encode()
        create = Request(
            "POST", "/api/v1/tickets", {**bearer, "Content-Type": "application/json"}, body, 201
        )
        if options.load == "wrk":
            results.append(
                run_wrk(
                    "API create (wrk)",
                    server.port,
                    create,
                    seconds=options.create_seconds,
                    connections=2 * options.workers,
                )
            )
        else:
            results.append(
                run("API create", server.port, [create] * options.creates, 2 * options.workers)
            )
    finally:
        server.stop()
    print(f"\n## {label}: {prep['total']:,} tickets ({prep['visible']:,} in the team queue)")
    for r in results:
        print(r.line())
    api_first = results[0]
    for key, result in (("sql_first", results[0]), ("sql_deep", results[1])):
        sql = prep[key]
        print(
            f"{'  bare SQL, ' + key[4:] + ' page':<26} {sql['queries']} queries"
            f"  p50 {sql['p50']:6.2f}  p95 {sql['p95']:6.2f} ms"
            f"  -> HTTP p50 / SQL p50 = {result.pct(50) / sql['p50']:.1f}x"
        )
    del api_first
    return {"label": label, "prep": prep, "results": results}


def markdown(runs: list[dict[str, object]], options: argparse.Namespace) -> str:
    lines = [
        f"\n## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {machine()}",
        "",
        f"`bench/tickets.py`, `opsdesk serve` (uWSGI) with {options.workers} workers; "
        f"reads with {options.workers} load processes x {options.requests} requests, creates "
        + (
            f"with wrk, {2 * options.workers} connections for {options.create_seconds} s. "
            if options.load == "wrk"
            else f"with {2 * options.workers} x {options.creates // (2 * options.workers)}. "
        )
        + "Latencies in ms; the load processes share the machine's cores with the server.",
        "",
        "| database | tickets | measure | req/s | p50 | p95 | p99 | errors |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for entry in runs:
        prep = entry["prep"]
        assert isinstance(prep, dict)
        results = entry["results"]
        assert isinstance(results, list)
        for r in results:
            lines.append(
                f"| {prep['server']} | {prep['total']:,} | {r.name} | {r.rate:.0f} "
                f"| {r.pct(50):.1f} | {r.pct(95):.1f} | {r.pct(99):.1f} | {r.errors} |"
            )
        for key, r in (("sql_first", results[0]), ("sql_deep", results[1])):
            sql = prep[key]
            lines.append(
                f"| {prep['server']} | {prep['total']:,} | bare SQL of the API list, "
                f"{key[4:]} page ({sql['queries']} queries) | | {sql['p50']:.2f} "
                f"| {sql['p95']:.2f} | | HTTP/SQL p50 {r.pct(50) / sql['p50']:.1f}x |"
            )
    return "\n".join(lines) + "\n"


def site(root: Path, database: str, size: int, options: argparse.Namespace) -> dict[str, str]:
    """A scratch site holding exactly ``size`` seeded tickets: one database per size, so a
    million-ticket database can be loaded once and measured again (``--reuse``)."""
    data_dir = root / f"{database}-{size}"
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "OPSDESK_DATA_DIR": str(data_dir), "OPSDESK_LOG_LEVEL": "WARNING"}
    env.pop("OPSDESK_DATABASE_URL", None)
    if database == "postgresql":
        env["OPSDESK_DATABASE_URL"] = f"{options.postgres_url}_{size}"
    # A measured site holds a few more (the create phase adds ~1,000 tickets): still fine.
    if options.reuse and size <= seeded_count(env) <= size + max(5_000, size // 20):
        print(f"\n{database}: reusing {size:,} seeded tickets")
        opsdesk(env, "migrate", "--noinput", "-v0")  # the code may have moved on since
        return env
    if database == "postgresql":
        postgres_recreate(env["OPSDESK_DATABASE_URL"])
    else:
        (data_dir / "opsdesk.sqlite3").unlink(missing_ok=True)
    opsdesk(env, "migrate", "--noinput", "-v0")
    started = time.perf_counter()
    opsdesk(env, "bench", "seed", "--tickets", str(size))
    print(f"\n{database}: seeded {size:,} tickets in {time.perf_counter() - started:.0f} s")
    return env


def seeded_count(env: dict[str, str]) -> int:
    count = "from opsdesk.tickets.models import Ticket; print(Ticket.objects.count())"
    try:
        out = opsdesk(env, "shell", "--no-imports", "-c", count).strip().splitlines()[-1]
    except (subprocess.CalledProcessError, IndexError):
        return -1
    return int(out) if out.isdigit() else -1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--sizes", default="10000,100000", help="SQLite sizes")
    parser.add_argument("--postgres-sizes", default="10000,100000,1000000")
    parser.add_argument(
        "--postgres-url",
        default="postgres://postgres@127.0.0.1:5432/opsdesk_bench",
        help="scratch databases are this name plus _SIZE",
    )
    parser.add_argument("--requests", type=int, default=400, help="per read measurement")
    parser.add_argument("--creates", type=int, default=1000, help="with --load python")
    parser.add_argument(
        "--load",
        choices=["python", "wrk"],
        default="wrk" if shutil.which("wrk") else "python",
        help="load generator of the create phase (default: wrk when installed)",
    )
    parser.add_argument("--create-seconds", type=int, default=10, help="with --load wrk")
    parser.add_argument("--workers", type=int, default=2, help="opsdesk serve workers")
    parser.add_argument("--results", help="append a Markdown section to this file")
    parser.add_argument(
        "--data-dir", help="keep the scratch sites here (default: a temporary folder)"
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure the scratch sites in --data-dir again instead of seeding them afresh",
    )
    parser.add_argument("--seed-only", action="store_true", help="prepare, do not measure")
    options = parser.parse_args()

    root = Path(options.data_dir or tempfile.mkdtemp(prefix="opsdesk-bench-tickets-"))
    runs = []
    try:
        for database in options.databases.split(","):
            sizes = options.postgres_sizes if database == "postgresql" else options.sizes
            for size in sorted(int(s) for s in sizes.split(",") if s):
                env = site(root, database, size, options)
                if not options.seed_only:
                    runs.append(measure(env, options, f"{database}, {size:,}"))
    finally:
        if not options.data_dir:
            shutil.rmtree(root, ignore_errors=True)
    if options.results:
        with open(options.results, "a", encoding="utf-8") as out:
            out.write(markdown(runs, options))
        print(f"\nappended to {options.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
