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
import tempfile
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
    # Percentile (e.g. 95.0) -> ms, when the load generator reports percentiles, not samples.
    percentiles: dict[float, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float:
        """The p-th percentile in milliseconds (nearest rank)."""
        if p in self.percentiles:
            return self.percentiles[p]
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


# wrk's Lua: one fixed request, and a summary line the caller parses (wrk's own report has
# no p95). Latencies arrive in microseconds.
_WRK_LUA = """
wrk.method = METHOD
wrk.body = BODY
HEADERS
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("OPSDESK-WRK %d %d %d %.3f %.3f %.3f\\n", summary.requests,
    summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000))
end
"""


def _lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


def run_wrk(name: str, port: int, request: Request, *, seconds: int, connections: int) -> Result:
    """Drive one request shape with wrk (a C load generator, `apt-get install wrk`) for
    ``seconds`` with ``connections`` connections on 2 threads: at hundreds of requests a
    second the Python load processes of :func:`run` use much of a core themselves, which
    on a 2-core machine is taken from the server. Non-2xx/3xx answers count as errors."""
    headers = "\n".join(
        f"wrk.headers[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in request.headers.items()
    )
    script = (
        _WRK_LUA.replace("METHOD", _lua_string(request.method))
        .replace("BODY", _lua_string((request.body or b"").decode()) if request.body else "nil")
        .replace("HEADERS", headers)
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script)
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{connections}",
                f"-d{seconds}s",
                "-s",
                lua.name,
                f"http://127.0.0.1:{port}{request.path}",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(lua.name)
    line = next(x for x in out.splitlines() if x.startswith("OPSDESK-WRK "))
    count, micros, errors, p50, p95, p99 = line.split()[1:]
    return Result(
        name=name,
        count=int(count),
        seconds=int(micros) / 1e6,
        latencies=[],
        errors=int(errors),
        percentiles={50.0: float(p50), 95.0: float(p95), 99.0: float(p99)},
    )


class Server:
    """`opsdesk serve` on a free 127.0.0.1 port with ``workers`` worker processes."""

    def __init__(self, env: dict[str, str], workers: int) -> None:
        self.port = free_port()
        # OPSDESK_BENCH_SERVER_LOG=FILE keeps the server's output (access lines with each
        # request's duration) for looking into a slow run; by default it is dropped.
        log_path = os.environ.get("OPSDESK_BENCH_SERVER_LOG")
        log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [OPSDESK, "serve", "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT if log_path else subprocess.DEVNULL,
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
