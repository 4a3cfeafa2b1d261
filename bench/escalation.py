"""Benchmark of the escalation engine; see docs/subsystems/oncall.md.

Usage: .venv/bin/python bench/escalation.py [--alerts 50] [--rate 10] [--escalations 1000]
                                            [--full] [--workers 2] [--timer-interval 1.0]
                                            [--postgres [URL]]

Sets up a throwaway site (SQLite in a temporary OPSDESK_DATA_DIR, or with --postgres a scratch
database ``opsdesk_bench_escalation`` that is dropped afterwards), a local fake Slack on
127.0.0.1 that records when each message arrives, `opsdesk serve` and N `opsdesk worker`s.

(a) Alert to page: alerts are posted one by one (``--rate`` per second) to an Alertmanager
    integration; each opens an incident whose policy notifies an engineer over Slack at once.
    Latency = arrival at the fake Slack − the moment the alert was posted. Baseline: the
    alert's own HTTP round trip (accepted). Goal: p99 under 2 s. A due step waits for the
    next timer tick (``--timer-interval``), so the tick bounds the floor.
(b) Steps due per second: ``--escalations`` incidents (10,000 with ``--full``) each with an
    escalation whose first step is due at the same instant; the workers work them off. A step
    notifies one person on screen, writes the timeline and ends the chain; its notification is
    its own timer. Baseline: as many timers of the no-op kind ``jobs.noop`` (the timer
    machinery alone: claim, run, mark done).

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from _load import OPSDESK, Server, machine

ROOT = Path(__file__).resolve().parents[1]
PG_NAME = "opsdesk_bench_escalation"
WAIT = float(os.environ.get("BENCH_WAIT", "300"))
_ALERT_NO = re.compile(r"bench-alert-(\d+)")


# --- the fake Slack ----------------------------------------------------------------------


class Slack:
    """chat.postMessage on 127.0.0.1, answering as Slack does; records arrival times."""

    def __init__(self) -> None:
        self.arrivals: dict[int, float] = {}
        self.count = 0
        slack = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                arrived = time.time()
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                ok = (
                    self.path == "/chat.postMessage"
                    and self.headers.get("Authorization") == "Bearer xoxb-bench"
                )
                match = _ALERT_NO.search(str(body.get("text", "")))
                if ok and match:
                    slack.arrivals.setdefault(int(match.group(1)), arrived)
                slack.count += 1
                answer = (
                    {"ok": True, "channel": body.get("channel"), "ts": f"{arrived:.6f}"}
                    if ok
                    else {"ok": False, "error": "invalid_auth"}
                )
                raw = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- helpers -----------------------------------------------------------------------------


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank), in milliseconds."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank] * 1000


def wait_until(what: str, probe: Callable[[], bool], every: float = 0.05) -> None:
    deadline = time.monotonic() + WAIT
    while not probe():
        if time.monotonic() > deadline:
            sys.exit(f"gave up waiting for {what}")
        time.sleep(every)


def alert_body(n: int) -> bytes:
    alert = {
        "status": "firing",
        "labels": {"alertname": "EscalationBench", "instance": f"host-{n}", "severity": "critical"},
        "annotations": {"summary": f"Disk full bench-alert-{n}"},
        "startsAt": "2026-11-28T00:00:00Z",
    }
    return json.dumps({"version": "4", "status": "firing", "alerts": [alert]}).encode()


# --- seeding (in this process, through the ORM, before the workers start) ---------------


def seed_site() -> dict[str, Any]:
    from opsdesk.alerts.services import integration_create
    from opsdesk.oncall.services import contact_method_set, notification_rule_add, policy_create
    from opsdesk.tenancy.models import Team
    from opsdesk.tenancy.services import organisation_create, staff_create, team_member_add

    ops = Team.objects.get(slug="service-operations")
    paged = staff_create(username="bench-oncall", display_name="Bench On-call", password="x" * 12)
    team_member_add(team=ops, user=paged, role="engineer")
    contact_method_set(user=paged, channel="slack", address="C0BENCH")
    notification_rule_add(user=paged, channel="slack")
    screen = staff_create(username="bench-screen", display_name="Bench Screen", password="x" * 12)
    team_member_add(team=ops, user=screen, role="engineer")
    notification_rule_add(user=screen, channel="screen")
    # Any ticket, any hour: notify the on-call engineer once over Slack.
    policy_create(name="bench page", steps=[{"kind": "notify_user", "user": paged}])
    org = organisation_create(code="bench-escalation", name="Bench Escalation Customer")
    integration = integration_create(
        kind="alertmanager",
        name="bench",
        organisation=org,
        group_by=["instance"],  # one incident per alert
        verify_signature=False,
    )
    return {"token": integration.token, "org": org, "team": ops, "screen": screen}


def seed_escalations(site: dict[str, Any], count: int) -> tuple[int, int]:
    """``count`` incidents, each with an escalation whose step timer waits far in the future
    (the trigger moves them all to now at once). Returns the escalation id range."""
    import secrets

    from opsdesk.core.clock import now
    from opsdesk.jobs.models import Timer
    from opsdesk.oncall.models import Escalation
    from opsdesk.oncall.services import STEP_TIMER
    from opsdesk.tickets.models import Ticket

    moment = now()
    later = moment + timedelta(days=1)
    tickets = Ticket.objects.bulk_create(
        [
            Ticket(
                reference=f"INC-BENCH-{i:06d}",
                kind="incident",
                channel="monitoring",
                status="open",
                priority="high",
                subject=f"Bench incident {i}",
                organisation=site["org"],
                team=site["team"],
                created_at=moment,
                updated_at=moment,
            )
            for i in range(count)
        ],
        batch_size=2000,
    )
    snapshot = {
        "policy_id": None,
        "name": "bench steps",
        "repeat_count": 0,
        "steps": [
            {
                "kind": "notify_user",
                "user_id": site["screen"].pk,
                "team_id": None,
                "delay_minutes": 0,
            }
        ],
    }
    escalations = Escalation.objects.bulk_create(
        [
            Escalation(
                ticket=t,
                snapshot=snapshot,
                reason="bench",
                run_token=secrets.token_hex(8),
                started_at=moment,
            )
            for t in tickets
        ],
        batch_size=2000,
    )
    Timer.objects.bulk_create(
        [
            Timer(
                key=f"esc:{e.pk}",
                kind=STEP_TIMER,
                due_at=later,
                token=secrets.token_hex(8),
                payload={"escalation": e.pk, "token": e.run_token, "step": 0, "cycle": 0},
                created_at=moment,
            )
            for e in escalations
        ],
        batch_size=2000,
    )
    ids = [e.pk for e in escalations]
    return min(ids), max(ids)


def seed_noop(count: int) -> None:
    import secrets

    from opsdesk.core.clock import now
    from opsdesk.jobs.models import Timer

    moment = now()
    Timer.objects.bulk_create(
        [
            Timer(
                key=f"bench-noop:{i}",
                kind="jobs.noop",
                due_at=moment + timedelta(days=1),
                token=secrets.token_hex(8),
                created_at=moment,
            )
            for i in range(count)
        ],
        batch_size=2000,
    )


# --- phases ------------------------------------------------------------------------------


def phase_latency(port: int, token: str, slack: Slack, alerts: int, rate: float) -> None:
    path = f"/api/v1/integrations/alertmanager/{token}/"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    posted: dict[int, float] = {}
    accept: list[float] = []
    start = time.time()
    for n in range(alerts):
        pause = start + n / rate - time.time()
        if pause > 0:
            time.sleep(pause)
        posted[n] = time.time()
        conn.request("POST", path, body=alert_body(n), headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        accept.append(time.time() - posted[n])
        if response.status != 200:
            sys.exit(f"alert {n}: HTTP {response.status}")
    conn.close()
    wait_until("every page at the fake Slack", lambda: len(slack.arrivals) >= alerts)
    pages = [slack.arrivals[n] - posted[n] for n in range(alerts)]
    print(f"(a) alert accepted -> first notification at the channel, {alerts} alerts at {rate:g}/s")
    print(f"    baseline: alert HTTP round trip   {_p50_p99(accept)}")
    worst = max(pages) * 1000
    print(f"    alert posted -> Slack message      {_p50_p99(pages)}   max {worst:7.1f} ms")
    verdict = "met" if pct(pages, 99) < 2000 else "NOT met"
    print(f"    goal p99 < 2000 ms: {verdict}; Slack requests seen {slack.count}")


def _p50_p99(values: list[float]) -> str:
    return f"p50 {pct(values, 50):7.1f}  p99 {pct(values, 99):7.1f} ms"


def timed(what: str, trigger: Callable[[], None], done: Callable[[], int], total: int) -> float:
    trigger()
    started = time.perf_counter()
    wait_until(what, lambda: done() >= total, every=0.1)
    return time.perf_counter() - started


def phase_throughput(site: dict[str, Any], count: int) -> None:
    from opsdesk.core.clock import now
    from opsdesk.jobs.models import Timer
    from opsdesk.notify.models import Delivery
    from opsdesk.oncall.models import Escalation

    seed_noop(count)
    noop = timed(
        "the no-op timers",
        lambda: Timer.objects.filter(key__startswith="bench-noop:").update(due_at=now()),
        lambda: Timer.objects.filter(key__startswith="bench-noop:", state="done").count(),
        count,
    )
    low, high = seed_escalations(site, count)
    ran = Escalation.objects.filter(pk__gte=low, pk__lte=high, state="exhausted")
    keys = [f"esc:{i}" for i in range(low, high + 1)]

    def trigger() -> None:
        for i in range(0, len(keys), 5000):
            Timer.objects.filter(key__in=keys[i : i + 5000]).update(due_at=now())

    started = time.perf_counter()
    steps = timed("every step", trigger, ran.count, count)
    sent = Delivery.objects.filter(
        source__startswith="escalation:", channel="screen", status="sent"
    )
    wait_until("every notification", lambda: sent.count() >= count, every=0.1)
    delivered = time.perf_counter() - started
    print(f"(b) {count:,} escalations with a step due at once")
    print(f"    baseline: no-op timers             {count / noop:8.0f}/s  ({noop:.1f} s)")
    print(
        f"    escalation steps                   {count / steps:8.0f}/s  ({steps:.1f} s)"
        f"   {noop / steps * 100:.0f}% of the no-op rate"
    )
    print(f"    steps + their notifications sent   {count / delivered:8.0f}/s  ({delivered:.1f} s)")


# --- the site ----------------------------------------------------------------------------


def postgres_database(url: str, *, create: bool) -> str:
    import psycopg

    with psycopg.connect(f"{url.rstrip('/')}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)')
        if create:
            admin.execute(f'CREATE DATABASE "{PG_NAME}"')
    return f"{url.rstrip('/')}/{PG_NAME}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=50)
    parser.add_argument("--rate", type=float, default=10.0, help="alerts posted per second")
    parser.add_argument("--escalations", type=int, default=1000)
    parser.add_argument("--full", action="store_true", help="10,000 escalations")
    parser.add_argument("--workers", type=int, default=2, help="opsdesk worker processes")
    parser.add_argument("--timer-interval", type=float, default=1.0)
    parser.add_argument(
        "--postgres",
        nargs="?",
        const="postgres://postgres@127.0.0.1:5432",
        default=None,
        help="a scratch database on this server instead of SQLite",
    )
    options = parser.parse_args()
    count = 10_000 if options.full else options.escalations

    data_dir = tempfile.mkdtemp(prefix="opsdesk-bench-escalation-")
    slack = Slack()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("OPSDESK_")},
        "OPSDESK_DATA_DIR": data_dir,
        "OPSDESK_LOG_LEVEL": "WARNING",
        "OPSDESK_SLACK_BASE_URL": slack.url,
        "OPSDESK_SLACK_TOKEN": "xoxb-bench",
        "DJANGO_SETTINGS_MODULE": "opsdesk.config.settings",
    }
    if options.postgres:
        env["OPSDESK_DATABASE_URL"] = postgres_database(options.postgres, create=True)
    database = "PostgreSQL" if options.postgres else "SQLite"
    print(
        f"escalation bench: {database}, {options.workers} worker(s), timer tick "
        f"{options.timer_interval:g} s; {machine()}"
    )
    processes: list[subprocess.Popen[bytes]] = []
    server: Server | None = None
    try:
        subprocess.run([OPSDESK, "migrate", "--noinput", "-v0"], env=env, check=True)
        os.environ.clear()
        os.environ.update(env)
        import django

        django.setup()
        from opsdesk.jobs.models import WorkerHeartbeat

        site = seed_site()
        server = Server(env, workers=2)
        for _ in range(options.workers):
            processes.append(
                subprocess.Popen(
                    [OPSDESK, "worker", "--timer-interval", str(options.timer_interval)],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        wait_until(
            "the workers' heartbeats",
            lambda: WorkerHeartbeat.objects.count() >= options.workers,
            every=0.2,
        )
        phase_latency(server.port, site["token"], slack, options.alerts, options.rate)
        phase_throughput(site, count)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        if server is not None:
            server.stop()
        slack.stop()
        if options.postgres:
            from django.db import connections

            connections.close_all()
            postgres_database(options.postgres, create=False)
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(data_dir, ignore_errors=True)
        else:
            print("kept", data_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
