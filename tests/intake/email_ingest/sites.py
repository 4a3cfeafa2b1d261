"""A temporary OpsDesk site (SQLite data folder) for tests that start real processes."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

WAIT = 60.0  # an upper bound for slow machines, never an expectation


def wait_for(what: str, probe: Callable[[], Any], timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.1)


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


class Site:
    def __init__(self, data_dir: Path, **extra_env: str) -> None:
        self.data_dir = data_dir
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith("OPSDESK_") or k == "CI"
        }
        self.env.update(
            OPSDESK_DATA_DIR=str(data_dir),
            OPSDESK_EMAIL_RATE_LIMIT_PER_HOUR="0",
            OPSDESK_SUPPORT_EMAIL="support@opsdesk.test",
            PYTHONUNBUFFERED="1",
        )
        self.env.update(extra_env)
        self.processes: list[subprocess.Popen[bytes]] = []

    def opsdesk(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "opsdesk", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode:
            pytest.fail(
                f"opsdesk {' '.join(args)} exited {done.returncode}:\n{done.stderr[-3000:]}"
            )
        return done

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

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.data_dir / "opsdesk.sqlite3", timeout=20) as db:
            return db.execute(sql).fetchall()

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait()
