"""uWSGI replaces a worker that outgrew its memory bound, and only then (jobs/web.py).

A count of requests was the bound before: workers sharing a steady load reached it
together and the server had no worker until uWSGI's master next looked (1–2 s)."""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SERVE = """
import sys
import pyuwsgi
from opsdesk.jobs.web import server_args
bind, rss = sys.argv[1], int(sys.argv[2])
args = server_args(bind=bind, workers=1, module="tests.jobs.pidapp:application",
                   reload_on_rss_mb=rss)
# uWSGI replaces no worker younger than 10 s; a test need not wait that long.
pyuwsgi.run([*args, "--min-worker-lifetime", "1"])
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(rss_mb: int) -> Iterator[int]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE, f"127.0.0.1:{port}", str(rss_mb)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                _pid_of(port)
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("uWSGI did not come up")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def _pid_of(port: int) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/")
        response = conn.getresponse()
        assert response.status == 200
        return response.read().decode()
    finally:
        conn.close()


@pytest.fixture
def lean() -> Iterator[int]:
    yield from _serve(512)


@pytest.fixture
def bloated() -> Iterator[int]:
    # 1 MB: every worker is past it after its first request.
    yield from _serve(1)


def test_a_worker_within_its_memory_bound_keeps_serving(lean: int) -> None:
    # More requests than the count after which workers used to be replaced (5,000).
    pids = {_pid_of(lean) for _ in range(5_200)}
    assert len(pids) == 1


def test_a_worker_past_its_memory_bound_is_replaced_and_no_request_is_lost(
    bloated: int,
) -> None:
    seen = []
    deadline = time.monotonic() + 20
    while len(set(seen)) < 3 and time.monotonic() < deadline:
        seen.append(_pid_of(bloated))  # every request answered, replacement or not
        time.sleep(0.1)
    assert len(set(seen)) >= 3, seen
