"""Two real `opsdesk worker`s; the one that owns an escalation's notification is SIGKILLed
mid-send: the other takes the claim back after the lease and the message goes out, once,
within 30 s of the kill. On SQLite and on PostgreSQL (a throw-away database each; never the
developer's data or the pytest test database)."""

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

import psycopg
import pytest

from tests.conftest import require_server
from tests.notify.fakes import Seen, fake_provider

pytestmark = pytest.mark.processes

WAIT = 90.0  # an upper bound for slow machines, never an expectation
# The promise: a step owned by a killed worker fires on another within 30 s (the
# lease is 20 s and the other worker ticks every second).
RECOVERY_BOUND = 30.0
ROOT = Path(__file__).resolve().parents[2]
POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

Query = Callable[[str], list[tuple[Any, ...]]]


def _wait_for(what: str, probe: Callable[[], Any]) -> Any:
    deadline = time.monotonic() + WAIT
    while not (result := probe()):
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.1)
    return result


def _postgres_available() -> bool:
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request, tmp_path: Path) -> Iterator[tuple[dict[str, str], Query]]:
    """Environment variables for the processes and a way to read their database."""
    if request.param == "sqlite":

        def query_sqlite(sql: str) -> list[tuple[Any, ...]]:
            with sqlite3.connect(tmp_path / "opsdesk.sqlite3", timeout=20) as db:
                return db.execute(sql).fetchall()

        yield {}, query_sqlite
        return
    require_server(_postgres_available(), "PostgreSQL not reachable on 127.0.0.1:5432")
    name = f"opsdesk_oncall_{os.getpid()}_{tmp_path.name[-8:]}".replace("-", "_").lower()
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')

    def query_postgres(sql: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{name}") as db:
            return db.execute(sql).fetchall()  # type: ignore[arg-type]

    try:
        yield {"OPSDESK_DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{name}"}, query_postgres
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def slack() -> Iterator[tuple[str, list[Seen]]]:
    """A fake Slack whose first request hangs (the worker sending it is killed meanwhile)."""
    release = threading.Event()

    def rule(request: Seen) -> tuple[int, dict[str, Any]]:
        if len(requests) == 1:
            release.wait(WAIT)
        return 200, {"ok": True, "ts": f"1.{len(requests)}"}

    with fake_provider(rule) as server:
        requests = server.requests
        yield server.base_url, requests
        release.set()


def test_a_killed_workers_notification_fires_once_on_another_worker_within_30s(
    tmp_path: Path, slack, database
) -> None:
    base_url, requests = slack
    extra_env, query = database
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSDESK_")}
    env.update(
        OPSDESK_DATA_DIR=str(tmp_path),
        OPSDESK_TEST_SLACK_URL=base_url,
        DJANGO_SETTINGS_MODULE="tests.oncall.proc_settings",
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
        **extra_env,
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

    def deliveries() -> list[tuple[Any, ...]]:
        return query("SELECT status, attempts FROM notify_delivery")

    run("-m", "opsdesk", "migrate", "--noinput", "-v0")
    run("-m", "tests.oncall.proc_seed")
    workers = {w.pid: w for w in (worker("first"), worker("second"))}
    try:
        # One worker ran the step and is now inside the provider call (which hangs); the
        # timer row names it. Kill it well inside the channel's 10 s HTTP timeout.
        _wait_for("a worker to call the provider", lambda: len(requests) >= 1)
        [(claimed_by,)] = query("SELECT claimed_by FROM jobs_timer WHERE key LIKE 'delivery:%'")
        victim = workers[int(claimed_by.rsplit("-", 2)[1])]
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        killed_at = time.monotonic()
        assert deliveries() == [("queued", 0)]
        _wait_for("the delivery to go out", lambda: deliveries() == [("sent", 1)])
        recovered_in = time.monotonic() - killed_at
        assert recovered_in < RECOVERY_BOUND, f"took {recovered_in:.1f} s"
        # Once: the killed worker's cut-off call and the second worker's, and no more after
        # the timer row is done and a few more ticks have passed.
        _wait_for(
            "the delivery timer to finish",
            lambda: (
                query("SELECT state FROM jobs_timer WHERE key LIKE 'delivery:%'") == [("done",)]
            ),
        )
        time.sleep(2)
        assert len(requests) == 2
        # One delivery row: the step itself ran once (a second run would have made another).
        assert deliveries() == [("sent", 1)]
    finally:
        for process in workers.values():
            if process.poll() is None:
                process.kill()
                process.wait()
