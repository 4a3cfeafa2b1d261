"""Real `opsdesk serve`, `opsdesk worker` and `opsdesk run` processes against a temporary
SQLite data folder (never the developer's data/ and never the pytest test database)."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.conftest import require_server

pytestmark = pytest.mark.processes

STALE_SECONDS = 3
WAIT = 60.0  # an upper bound for slow CI machines, never an expectation


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(what: str, probe: Callable[[], Any], timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.2)


class Site:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith("OPSDESK_") or k == "CI"
        }
        self.env.update(
            OPSDESK_DATA_DIR=str(data_dir),
            OPSDESK_WORKER_HEARTBEAT_STALE_SECONDS=str(STALE_SECONDS),
            PYTHONUNBUFFERED="1",
        )
        self.processes: list[subprocess.Popen[bytes]] = []

    def opsdesk(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "opsdesk", *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        )

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        log = (self.data_dir / f"{args[0]}-{len(self.processes)}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "opsdesk", *args],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(process)
        return process

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.data_dir / "opsdesk.sqlite3", timeout=20) as db:
            return db.execute(sql, params).fetchall()

    def heartbeats(self) -> list[tuple[str, int]]:
        return self.query("SELECT worker_id, pid FROM jobs_workerheartbeat")

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait()


def _get(url: str) -> tuple[int, dict[str, Any]] | None:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - local URL
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    site = Site(tmp_path_factory.mktemp("site"))
    site.opsdesk("migrate", "--noinput", "-v0")
    yield site
    site.stop_all()


@pytest.fixture(scope="module")
def web(site: Site) -> str:
    port = _free_port()
    site.start("serve", "--bind", f"127.0.0.1:{port}", "--workers", "1")
    base = f"http://127.0.0.1:{port}"
    _wait_for("the web server", lambda: _get(base + "/healthz"))
    return base


def test_serve_logs_json_lines_masks_the_access_line_and_stops_gracefully(site: Site) -> None:
    port = _free_port()
    serve = site.start("serve", "--bind", f"127.0.0.1:{port}", "--workers", "2")
    base = f"http://127.0.0.1:{port}"
    _wait_for("the web server", lambda: _get(base + "/healthz"))
    assert _get(base + "/healthz?caller=010-0000-0001") is not None
    # A client that keeps its connection (HTTP/1.1's default) is told the server closes it,
    # so its second request goes out on a new one instead of failing.
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
    for _ in range(2):
        client.request("GET", "/login/")
        response = client.getresponse()
        response.read()
        assert response.status == 200
        assert response.getheader("Connection") == "close"
    client.close()
    serve.send_signal(signal.SIGTERM)
    assert serve.wait(timeout=WAIT) == 0
    log = (site.data_dir / f"serve-{site.processes.index(serve)}.log").read_text()
    lines = [line for line in log.splitlines() if line.strip()]
    # uWSGI announces its four log encoders before they exist; every later line is JSON.
    plain = [line for line in lines if not line.startswith("{")]
    assert all(line.startswith("[log-encoder] registered") for line in plain), plain
    records = [json.loads(line) for line in lines if line.startswith("{")]
    access = [r for r in records if r["logger"] == "opsdesk.access"]
    assert [r["path"] for r in access][-3:] == ["/healthz", "/login/", "/login/"]
    assert "0000-0001" not in log
    assert any(r["logger"] == "uwsgi" and "goodbye" in r["msg"] for r in records)


def _start_worker(site: Site) -> subprocess.Popen[bytes]:
    worker = site.start("worker", "--heartbeat-interval", "0.5", "--interval", "0.2")
    _wait_for("the worker's heartbeat", lambda: worker.pid in {p for _, p in site.heartbeats()})
    return worker


def test_healthz_follows_a_real_worker(site: Site, web: str) -> None:
    site.query("DELETE FROM jobs_workerheartbeat")
    assert _get(web + "/healthz") == (
        503,
        {"status": "fail", "database": "ok", "worker": "no worker has started"},
    )

    worker = _start_worker(site)
    _, body = _wait_for("healthz 200", lambda: (r := _get(web + "/healthz")) and r[0] == 200 and r)
    assert body["status"] == "ok" and body["database"] == "ok" and body["worker"] == "ok"

    worker.send_signal(signal.SIGKILL)  # no goodbye: the heartbeat must go stale on its own
    worker.wait()
    assert [pid for _, pid in site.heartbeats()] == [worker.pid]
    _, body = _wait_for("healthz 503", lambda: (r := _get(web + "/healthz")) and r[0] == 503 and r)
    assert body["worker"].startswith("last heartbeat ")


def test_worker_stops_gracefully_on_sigterm_and_removes_its_heartbeat(site: Site) -> None:
    worker = _start_worker(site)
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=WAIT) == 0
    assert worker.pid not in {pid for _, pid in site.heartbeats()}


def test_worker_runs_an_enqueued_task(site: Site) -> None:
    site.query("DELETE FROM jobs_workerheartbeat")
    worker = _start_worker(site)
    result = site.opsdesk(
        "shell",
        "-c",
        "from datetime import timedelta\n"
        "from opsdesk.core.clock import now\n"
        "from opsdesk.jobs.models import WorkerHeartbeat\n"
        "from opsdesk.jobs.tasks import heartbeat_prune_task\n"
        "WorkerHeartbeat.objects.create(worker_id='long-gone', hostname='old', pid=1,"
        " started_at=now() - timedelta(days=3), last_seen_at=now() - timedelta(days=2))\n"
        "print(heartbeat_prune_task.enqueue().id)\n",
    )
    task_id = result.stdout.strip().splitlines()[-1].replace("-", "")

    def finished() -> Any:
        rows = site.query(
            "SELECT status, return_value, worker_ids FROM django_tasks_database_dbtaskresult"
            " WHERE replace(id, '-', '') = ?",
            task_id,
        )
        return rows and rows[0][0] in {"SUCCESSFUL", "FAILED"} and rows[0]

    status, return_value, worker_ids = _wait_for("the task to finish", finished)
    assert status == "SUCCESSFUL"
    assert json.loads(return_value) == 1
    (worker_id,) = json.loads(worker_ids)
    assert worker_id in {w for w, pid in site.heartbeats() if pid == worker.pid}
    assert "long-gone" not in {w for w, _ in site.heartbeats()}
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=WAIT) == 0


def test_run_supervises_web_and_worker_and_stops_cleanly(site: Site) -> None:
    site.query("DELETE FROM jobs_workerheartbeat")
    port = _free_port()
    run = site.start("run", "--bind", f"127.0.0.1:{port}")
    url = f"http://127.0.0.1:{port}/healthz"
    _wait_for("healthz 200 from opsdesk run", lambda: (r := _get(url)) and r[0] == 200)
    ((_, first_pid),) = site.heartbeats()

    os.kill(first_pid, signal.SIGKILL)  # the supervisor restarts a dead worker
    _wait_for(
        "a restarted worker",
        lambda: any(pid != first_pid for _, pid in site.heartbeats()),
    )
    (second_pid,) = {pid for _, pid in site.heartbeats() if pid != first_pid}

    run.send_signal(signal.SIGTERM)
    assert run.wait(timeout=WAIT) == 0
    assert _get(url) is None  # the web server is gone too
    assert second_pid not in {pid for _, pid in site.heartbeats()}  # graceful worker exit
    with pytest.raises(ProcessLookupError):
        os.kill(second_pid, 0)


POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _postgres_available() -> bool:
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


@pytest.fixture
def postgres_site(tmp_path: Path) -> Iterator[tuple[Site, Callable[[str], list[tuple[Any, ...]]]]]:
    require_server(_postgres_available(), "PostgreSQL not reachable on 127.0.0.1:5432")
    name = f"opsdesk_proc_{os.getpid()}_{tmp_path.name[-8:]}".replace("-", "_").lower()
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    site = Site(tmp_path)
    site.env["OPSDESK_DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{name}"

    def query(sql: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{name}") as db:
            return db.execute(sql).fetchall()

    try:
        site.opsdesk("migrate", "--noinput", "-v0")
        yield site, query
    finally:
        site.stop_all()
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres
def test_two_workers_share_one_postgres_queue_without_running_a_task_twice(postgres_site):
    site, query = postgres_site
    workers = [
        site.start("worker", "--heartbeat-interval", "0.5", "--interval", "0.1") for _ in range(2)
    ]
    pids = {w.pid for w in workers}
    _wait_for(
        "both heartbeats",
        lambda: {pid for (pid,) in query("SELECT pid FROM jobs_workerheartbeat")} == pids,
    )
    site.opsdesk(
        "shell",
        "--no-imports",
        "-c",
        "from opsdesk.jobs.tasks import heartbeat_prune_task\n"
        "for _ in range(30):\n"
        "    heartbeat_prune_task.enqueue()\n",
    )
    table = "django_tasks_database_dbtaskresult"
    _wait_for(
        "all 30 tasks to finish",
        lambda: (
            query(f"SELECT count(*) FROM {table} WHERE finished_at IS NOT NULL")  # noqa: S608
            == [(30,)]
        ),
    )
    rows = query(f"SELECT status, worker_ids FROM {table}")  # noqa: S608
    assert {status for status, _ in rows} == {"SUCCESSFUL"}
    assert all(len(worker_ids) == 1 for _, worker_ids in rows)  # each claimed exactly once
    heartbeat_ids = {w for (w,) in query("SELECT worker_id FROM jobs_workerheartbeat")}
    assert {worker_ids[0] for _, worker_ids in rows} <= heartbeat_ids
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    assert [w.wait(timeout=WAIT) for w in workers] == [0, 0]
    assert query("SELECT count(*) FROM jobs_workerheartbeat") == [(0,)]
