"""Benchmark of the monitoring webhook over HTTP; see docs/subsystems/alerts.md.

Usage: .venv/bin/python bench/alerts.py [--alerts 2000] [--concurrency 8] [--workers 2]
                                        [--preload 0] [--port 8150]

Sets up a throwaway site (SQLite in a temporary OPSDESK_DATA_DIR, or the database named by
OPSDESK_DATABASE_URL — use a scratch database), creates an Alertmanager integration,
optionally preloads N stored alerts, starts `opsdesk serve` on 127.0.0.1 and drives it from
separate load processes (one keep-alive connection each, one alert per request). Prints
requests/s and p50/p99 latency for: the /healthz baseline, new alerts (unique
fingerprints, each opening an incident when grouped by fingerprint) and repeats of the same
alerts (the count/last_seen UPDATE path).
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

ROOT = Path(__file__).resolve().parents[1]
OPSDESK = str(ROOT / ".venv" / "bin" / "opsdesk")

SETUP = """
from opsdesk.alerts.models import Alert, Integration
from opsdesk.alerts.services import integration_create
from opsdesk.core.clock import now
from opsdesk.tenancy.services import organisation_create
org = organisation_create(code="bench-customer", name="Bench Customer")
integration = integration_create(
    kind="alertmanager", name="bench", organisation=org, group_by=["instance"]
)
at = now()
rows = [
    Alert(integration=integration, fingerprint=f"preload-{i}", status="resolved",
          labels={"alertname": "Preload", "instance": f"pre-{i}"}, first_seen=at, last_seen=at)
    for i in range(PRELOAD)
]
Alert.objects.bulk_create(rows, batch_size=5000)
print(integration.token)
"""


def alert_body(n: int) -> bytes:
    alert = {
        "status": "firing",
        "labels": {"alertname": "BenchAlert", "instance": f"host-{n}", "severity": "warning"},
        "annotations": {"summary": f"Bench alert {n}"},
        "startsAt": "2026-11-28T00:00:00Z",
    }
    return json.dumps({"version": "4", "status": "firing", "alerts": [alert]}).encode()


def load_worker(args: tuple[int, str, str, list[int]]) -> tuple[list[float], int]:
    port, method, path, numbers = args
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies: list[float] = []
    errors = 0
    for n in numbers:
        body = alert_body(n) if method == "POST" else None
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
    name: str, port: int, method: str, path: str, numbers: list[int], workers: int
) -> None:
    chunks = [numbers[i::workers] for i in range(workers)]
    started = time.perf_counter()
    with multiprocessing.Pool(workers) as pool:
        results = pool.map(load_worker, [(port, method, path, chunk) for chunk in chunks])
    elapsed = time.perf_counter() - started
    latencies = sorted(x for lat, _ in results for x in lat)
    errors = sum(e for _, e in results)
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    print(
        f"{name:<10} {len(latencies):>7} req  {len(latencies) / elapsed:>8.0f}/s"
        f"  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  errors {errors}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="opsdesk serve workers")
    parser.add_argument("--preload", type=int, default=0, help="alerts stored beforehand")
    parser.add_argument("--port", type=int, default=8150)
    options = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="opsdesk-bench-alerts-")
    env = {**os.environ, "OPSDESK_DATA_DIR": data_dir, "OPSDESK_LOG_LEVEL": "WARNING"}
    database = "postgresql" if env.get("OPSDESK_DATABASE_URL") else "sqlite"
    server = None
    try:
        subprocess.run([OPSDESK, "migrate", "--noinput", "-v0"], env=env, check=True)
        setup = SETUP.replace("PRELOAD", str(options.preload))
        token = (
            subprocess.run(
                [OPSDESK, "shell", "--no-imports", "-c", setup],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        server = subprocess.Popen(
            [
                OPSDESK,
                "serve",
                "--bind",
                f"127.0.0.1:{options.port}",
                "--workers",
                str(options.workers),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until_up(options.port)
        print(
            f"database {database}, {options.workers} web workers, {options.concurrency} load"
            f" processes, {options.preload} alerts preloaded, one alert per request"
        )
        numbers = list(range(options.alerts))
        path = f"/api/v1/integrations/alertmanager/{token}/"
        run_phase("baseline", options.port, "GET", "/healthz", numbers, options.concurrency)
        run_phase("new", options.port, "POST", path, numbers, options.concurrency)
        run_phase("repeat", options.port, "POST", path, numbers, options.concurrency)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


def wait_until_up(port: int) -> None:
    for _ in range(60):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.5)
    sys.exit("opsdesk serve did not come up")


if __name__ == "__main__":
    sys.exit(main())
