"""A real `opsdesk worker` killed while it owns an escalation's delivery: another worker
takes the claim back after the lease and the message goes out once."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.notify.fakes import Seen, fake_provider

pytestmark = pytest.mark.processes

WAIT = 90.0  # an upper bound for slow machines, never an expectation
ROOT = Path(__file__).resolve().parents[2]


def _wait_for(what: str, probe: Callable[[], Any]) -> Any:
    deadline = time.monotonic() + WAIT
    while not (result := probe()):
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.2)
    return result


@pytest.fixture
def slack() -> Iterator[tuple[str, list[Seen], threading.Event]]:
    release = threading.Event()

    def rule(request: Seen) -> tuple[int, dict[str, Any]]:
        if len(requests) == 1:
            release.wait(WAIT)  # the first worker is killed while it waits here
        return 200, {"ok": True, "ts": f"1.{len(requests)}"}

    with fake_provider(rule) as server:
        requests = server.requests
        yield server.base_url, requests, release
        release.set()


def test_a_killed_workers_delivery_fires_on_another_worker(tmp_path: Path, slack) -> None:
    base_url, requests, _release = slack
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSDESK_")}
    env.update(
        OPSDESK_DATA_DIR=str(tmp_path),
        OPSDESK_TEST_SLACK_URL=base_url,
        DJANGO_SETTINGS_MODULE="tests.oncall.proc_settings",
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
    )

    def run(*args: str) -> None:
        subprocess.run([sys.executable, *args], env=env, cwd=ROOT, check=True, timeout=300)

    def worker(name: str) -> subprocess.Popen[bytes]:
        log = (tmp_path / f"{name}.log").open("wb")
        return subprocess.Popen(
            [sys.executable, "-m", "opsdesk", "worker", "--interval", "0.2"],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def deliveries() -> list[tuple[str, int]]:
        with sqlite3.connect(tmp_path / "opsdesk.sqlite3", timeout=20) as db:
            return db.execute("SELECT status, attempts FROM notify_delivery").fetchall()

    run("-m", "opsdesk", "migrate", "--noinput", "-v0")
    run("-m", "tests.oncall.proc_seed")
    first = worker("first")
    second: subprocess.Popen[bytes] | None = None
    try:
        _wait_for("the first worker to call the provider", lambda: len(requests) >= 1)
        first.send_signal(signal.SIGKILL)
        first.wait()
        assert deliveries() == [("queued", 0)]
        second = worker("second")
        _wait_for("the delivery to go out", lambda: deliveries() == [("sent", 1)])
        assert len(requests) == 2
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
