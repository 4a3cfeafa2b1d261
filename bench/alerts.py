"""Benchmark of the monitoring webhook over HTTP; see docs/subsystems/alerts.md.

Usage: .venv/bin/python bench/alerts.py [--alerts 1000] [--repeats 10000] [--concurrency 8]
                                        [--workers 2] [--preload 0,100000]
                                        [--load wrk|python] [--seconds 10]

Sets up a throwaway site (SQLite in a temporary OPSDESK_DATA_DIR, or the database named by
OPSDESK_DATABASE_URL — use a scratch database), creates an Alertmanager integration and
four engineers in the triage team, starts `opsdesk serve` on 127.0.0.1 and drives it from
separate load processes (one connection each, one alert per request). For each
stored-alert level of --preload (the table is topped up to that many alerts before the
round) it prints requests/s and p50/p99 latency for: new alerts (unique fingerprints, each
opening an incident: the integration groups by instance) and repeats of those alerts (the
one-UPDATE path). A /healthz baseline comes first: the cost of a request that does almost
nothing.

The load comes from wrk when it is installed (`apt-get install wrk`; each phase runs
--seconds), else from Python load processes (--alerts / --repeats requests): at a
thousand requests a second and more, those use a core of the two themselves, so wrk's
figures are the server's.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _load import OPSDESK, Server

# The customer's incidents land in the triage team (service operations), where four
# engineers take them in turn: each opening picks and stamps one (the round-robin path
# of a staffed support centre, not the empty team of a fresh site).
SETUP = """
from opsdesk.alerts.services import integration_create
from opsdesk.tenancy.models import Team
from opsdesk.tenancy.services import organisation_create, staff_create, team_member_add
org = organisation_create(code="bench-customer", name="Bench Customer")
integration = integration_create(
    kind="alertmanager", name="bench", organisation=org, group_by=["instance"]
)
triage = Team.objects.get(slug="service-operations")
for n in range(1, 5):
    engineer = staff_create(username=f"bench-engineer-{n}", display_name=f"Engineer {n}")
    team_member_add(team=triage, user=engineer)
print(integration.token)
"""

# Tops the stored alerts up to PRELOAD (resolved, so they open nothing), in batches.
PRELOAD_SETUP = """
from opsdesk.alerts.models import Alert, Integration
from opsdesk.core.clock import now
integration = Integration.objects.get(name="bench")
at = now()
start = Alert.objects.filter(fingerprint__startswith="preload-").count()
for first in range(start, PRELOAD, 5000):
    Alert.objects.bulk_create([
        Alert(integration=integration, fingerprint=f"preload-{i}", status="resolved",
              labels={"alertname": "Preload", "instance": f"pre-{i}"},
              first_seen=at, last_seen=at)
        for i in range(first, min(first + 5000, PRELOAD))
    ])
# What autovacuum would do minutes after a bulk load (some servers run without it): fresh
# statistics, which also make the server's prepared statements plan again for the table's
# new size. A generic plan made while the table was empty scanned all of it per repeat.
from django.db import connection
if connection.vendor == "postgresql" and start < PRELOAD:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
print(Alert.objects.count())
"""


def alert_body(tag: str, n: int) -> bytes:
    alert = {
        "status": "firing",
        "labels": {"alertname": "BenchAlert", "instance": f"{tag}-{n}", "severity": "warning"},
        "annotations": {"summary": f"Bench alert {tag}-{n}"},
        "startsAt": "2026-11-28T00:00:00Z",
    }
    return json.dumps({"version": "4", "status": "firing", "alerts": [alert]}).encode()


def load_worker(args: tuple[int, str, str, str, list[int]]) -> tuple[list[float], int]:
    port, method, path, tag, numbers = args
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies: list[float] = []
    errors = 0
    for n in numbers:
        body = alert_body(tag, n) if method == "POST" else None
        headers = {"Content-Type": "application/json"} if body else {}
        started = time.perf_counter()
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        latencies.append(time.perf_counter() - started)
        # /healthz answers 503 when no worker heartbeat exists: still a full DB round trip.
        expected = (200,) if method == "POST" else (200, 503)
        if response.status not in expected:
            errors += 1
    conn.close()
    return latencies, errors


def run_phase(
    name: str, port: int, method: str, path: str, tag: str, numbers: list[int], workers: int
) -> tuple[float, float]:
    """Drive one phase; print and return (requests/s, p99 ms)."""
    chunks = [numbers[i::workers] for i in range(workers)]
    with multiprocessing.Pool(workers) as pool:
        pool.map(time.sleep, [0.0] * workers)  # processes up before the clock starts
        started = time.perf_counter()
        results = pool.map(load_worker, [(port, method, path, tag, chunk) for chunk in chunks])
        elapsed = time.perf_counter() - started
    latencies = sorted(x for lat, _ in results for x in lat)
    errors = sum(e for _, e in results)
    rate = len(latencies) / elapsed
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[max(int(len(latencies) * 0.99) - 1, 0)] * 1000
    print(
        f"{name:<22} {len(latencies):>7} req  {rate:>8.0f}/s"
        f"  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  errors {errors}",
        flush=True,
    )
    return rate, p99


# wrk's per-thread Lua: each request a body like alert_body(); thread i of T numbers its
# requests i, i+T, i+2T … (modulo MOD when MOD > 0: repeats of known alerts).
WRK_LUA = """
local threads = 0
function setup(thread) thread:set("id", threads); threads = threads + 1 end
local counter = 0
request = function()
  local n = counter * THREADS + id
  counter = counter + 1
  if MOD > 0 then n = n % MOD end
  local body = string.format('{"version":"4","status":"firing","alerts":[{"status":"firing",'
    .. '"labels":{"alertname":"BenchAlert","instance":"%s-%d","severity":"warning"},'
    .. '"annotations":{"summary":"Bench alert %s-%d"},"startsAt":"2026-11-28T00:00:00Z"}]}',
    TAG, n, TAG, n)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
"""


def _wrk_ms(text: str) -> float:
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0), ("m", 60_000.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    return float(text)


def run_phase_wrk(
    name: str, port: int, path: str, *, tag: str, modulo: int, seconds: int, connections: int
) -> tuple[float, float]:
    """One phase driven by wrk (a C load generator: the Python load processes use a core
    of their own at these rates). POST phases when ``tag``; a GET of ``path`` otherwise."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(
            WRK_LUA.replace("THREADS", "2").replace("MOD", str(modulo)).replace("TAG", f'"{tag}"')
        )
    if tag:
        command += ["-s", script.name]
    out = subprocess.run(
        [*command, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True
    ).stdout
    os.unlink(script.name)
    rate = p50 = p99 = 0.0
    errors = 0
    for line in out.splitlines():
        parts = line.split()
        if line.startswith("Requests/sec:"):
            rate = float(parts[1])
        elif parts[:1] == ["50%"]:
            p50 = _wrk_ms(parts[1])
        elif parts[:1] == ["99%"]:
            p99 = _wrk_ms(parts[1])
        elif line.strip().startswith("Non-2xx or 3xx responses:"):
            errors = int(parts[-1])
    print(
        f"{name:<22} {seconds:>5} s (wrk) {rate:>8.0f}/s"
        f"  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  non-2xx {errors}",
        flush=True,
    )
    return rate, p99


def opsdesk_shell(code: str, env: dict[str, str]) -> str:
    return (
        subprocess.run(
            [OPSDESK, "shell", "--no-imports", "-c", code],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=1000, help="new alerts per round")
    parser.add_argument("--repeats", type=int, default=10000, help="repeats per round")
    parser.add_argument("--concurrency", type=int, default=8, help="load processes")
    parser.add_argument("--workers", type=int, default=2, help="opsdesk serve workers")
    parser.add_argument(
        "--preload", default="0,100000", help="stored alerts before each round (comma list)"
    )
    parser.add_argument(
        "--load",
        choices=["python", "wrk"],
        default="wrk" if shutil.which("wrk") else "python",
        help="load generator (default: wrk when installed: apt-get install wrk)",
    )
    parser.add_argument("--seconds", type=int, default=10, help="per phase, with wrk")
    options = parser.parse_args()
    levels = [int(x) for x in options.preload.split(",") if x.strip()]

    data_dir = tempfile.mkdtemp(prefix="opsdesk-bench-alerts-")
    env = {**os.environ, "OPSDESK_DATA_DIR": data_dir, "OPSDESK_LOG_LEVEL": "WARNING"}
    database = "postgresql" if env.get("OPSDESK_DATABASE_URL") else "sqlite"
    server = None
    summary: list[str] = []
    try:
        subprocess.run([OPSDESK, "migrate", "--noinput", "-v0"], env=env, check=True)
        token = opsdesk_shell(SETUP, env)
        server = Server(env, options.workers)
        port = server.port
        print(
            f"database {database}, {options.workers} web workers, {options.concurrency}"
            f" connections from {options.load}, one alert per request"
        )
        path = f"/api/v1/integrations/alertmanager/{token}/"
        numbers = list(range(options.alerts))
        repeats = [n % options.alerts for n in range(options.repeats)]
        wrk = options.load == "wrk"
        if wrk:
            run_phase_wrk(
                "baseline /healthz",
                port,
                "/healthz",
                tag="",
                modulo=0,
                seconds=options.seconds,
                connections=options.concurrency,
            )
        else:
            run_phase(
                "baseline /healthz",
                port,
                "GET",
                "/healthz",
                "",
                numbers,
                options.concurrency,
            )
        for level in levels:
            stored = opsdesk_shell(PRELOAD_SETUP.replace("PRELOAD", str(level)), env)
            print(f"-- {stored} alerts stored")
            tag = f"host{level}"
            if wrk:
                new = run_phase_wrk(
                    "new (opens incident)",
                    port,
                    path,
                    tag=tag,
                    modulo=0,
                    seconds=options.seconds,
                    connections=options.concurrency,
                )
                # Repeats of the first thousand of those alerts.
                repeat = run_phase_wrk(
                    "repeat",
                    port,
                    path,
                    tag=tag,
                    modulo=min(options.alerts, max(1, int(new[0] * options.seconds))),
                    seconds=options.seconds,
                    connections=options.concurrency,
                )
            else:
                new = run_phase(
                    "new (opens incident)",
                    port,
                    "POST",
                    path,
                    tag,
                    numbers,
                    options.concurrency,
                )
                repeat = run_phase("repeat", port, "POST", path, tag, repeats, options.concurrency)
            summary.append(
                f"{stored:>7} stored: repeats {repeat[0]:.0f}/s (goal 2000) p99 {repeat[1]:.1f} ms,"
                f" new {new[0]:.0f}/s (goal 500) p99 {new[1]:.1f} ms (goal < 100)"
            )
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    print("\n".join(["summary:", *summary]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
