"""Shared parts of the HTTP benchmarks: start `opsdesk serve`, drive it from separate load
processes (one keep-alive connection each), summarise latencies.

Closed loop: each load process sends its next request when the previous answer is read, so
with C processes at most C requests are in flight; throughput is requests over wall time.
"""

from __future__ import annotations

import http.client
import multiprocessing
import os
import platform
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OPSDESK = str(ROOT / ".venv" / "bin" / "opsdesk")


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    expect: int = 200


@dataclass
class Result:
    name: str
    count: int
    seconds: float
    latencies: list[float]
    errors: int
    first_error: str = ""

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float:
        """The p-th percentile in milliseconds (nearest rank)."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
        return ordered[rank] * 1000

    def line(self) -> str:
        return (
            f"{self.name:<26} {self.count:>6} req {self.rate:>7.0f}/s"
            f"  p50 {self.pct(50):6.1f}  p95 {self.pct(95):6.1f}  p99 {self.pct(99):6.1f} ms"
            f"  errors {self.errors}{'  (' + self.first_error + ')' if self.first_error else ''}"
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _worker(args: tuple[int, list[Request]]) -> tuple[list[float], int, str]:
    port, requests = args
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    latencies: list[float] = []
    errors, first_error = 0, ""
    for r in requests:
        started = time.perf_counter()
        conn.request(r.method, r.path, body=r.body, headers=r.headers)
        response = conn.getresponse()
        payload = response.read()
        latencies.append(time.perf_counter() - started)
        if response.status != r.expect:
            errors += 1
            first_error = first_error or f"{response.status} {payload[:120]!r}"
    conn.close()
    return latencies, errors, first_error


def run(name: str, port: int, requests: list[Request], concurrency: int) -> Result:
    """Send ``requests`` spread over ``concurrency`` load processes; a short warm-up first
    so each server worker has its connection and caches."""
    warm = requests[: min(len(requests), 4 * concurrency)]
    with multiprocessing.Pool(concurrency) as pool:
        pool.map(_worker, [(port, warm[i::concurrency]) for i in range(concurrency)])
        chunks = [requests[i::concurrency] for i in range(concurrency)]
        started = time.perf_counter()
        results = pool.map(_worker, [(port, chunk) for chunk in chunks])
        elapsed = time.perf_counter() - started
    errors = [e for _, e, _ in results]
    first = next((f for _, _, f in results if f), "")
    return Result(
        name=name,
        count=sum(len(lat) for lat, _, _ in results),
        seconds=elapsed,
        latencies=[x for lat, _, _ in results for x in lat],
        errors=sum(errors),
        first_error=first,
    )


class Server:
    """`opsdesk serve` on a free 127.0.0.1 port with ``workers`` gunicorn sync workers."""

    def __init__(self, env: dict[str, str], workers: int) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [OPSDESK, "serve", "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(120):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                conn.getresponse().read()
                return
            except OSError:
                if self.process.poll() is not None:
                    sys.exit("opsdesk serve exited during start-up")
                time.sleep(0.5)
        self.stop()
        sys.exit("opsdesk serve did not come up")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}"
