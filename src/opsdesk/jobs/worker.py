"""`opsdesk worker`: the django-tasks-db worker loop plus a liveness heartbeat.

See docs/subsystems/jobs.md. The loop itself is django_tasks_db's Worker (claims one task at
a time under a row lock, so several workers can share one PostgreSQL database). Next to it a
daemon thread writes a WorkerHeartbeat row every ``heartbeat_interval`` seconds; /healthz
reads it. The thread keeps beating while a long task runs, so a slow task does not make the
installation look dead; a wedged or killed process stops beating and goes stale.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from datetime import datetime

from django.db import DatabaseError, close_old_connections, connection
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker

from opsdesk.core.clock import now
from opsdesk.jobs.periodic import periodic_ensure
from opsdesk.jobs.services import heartbeat_beat, heartbeat_remove
from opsdesk.jobs.timers import timers_run_due

logger = logging.getLogger("opsdesk.jobs.worker")

DEFAULT_BACKEND = "default"


def new_worker_id() -> str:
    """Unique across hosts and restarts; django-tasks-db allows at most 64 characters."""
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{get_random_string(8)}"


class HeartbeatThread(threading.Thread):
    def __init__(self, *, worker_id: str, started_at: datetime, interval: float) -> None:
        super().__init__(name="opsdesk-heartbeat", daemon=True)
        self.worker_id = worker_id
        self.started_at = started_at
        self.interval = interval
        self.stopped = threading.Event()

    def beat(self) -> None:
        heartbeat_beat(
            worker_id=self.worker_id,
            hostname=socket.gethostname(),
            pid=os.getpid(),
            started_at=self.started_at,
        )

    def run(self) -> None:
        try:
            while not self.stopped.wait(self.interval):
                close_old_connections()
                try:
                    self.beat()
                except DatabaseError:
                    # The database may be restarting; the next beat tries again and
                    # /healthz reports the gap meanwhile.
                    logger.exception("heartbeat failed", extra={"worker_id": self.worker_id})
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=self.interval + 5)


class TimerThread(threading.Thread):
    """Runs due durable timers (jobs/timers.py) once a second next to the task loop, and
    checks every few minutes that each periodic job (jobs/periodic.py) has its timer row."""

    ENSURE_EVERY = 300.0

    def __init__(self, *, worker_id: str, interval: float = 1.0) -> None:
        super().__init__(name="opsdesk-timers", daemon=True)
        self.worker_id = worker_id
        self.interval = interval
        self.stopped = threading.Event()
        self.ensured_at: float | None = None

    def ensure_periodic(self) -> None:
        if self.ensured_at is not None and time.monotonic() - self.ensured_at < self.ENSURE_EVERY:
            return
        self.ensured_at = time.monotonic()
        periodic_ensure()

    def run(self) -> None:
        try:
            while not self.stopped.wait(self.interval):
                close_old_connections()
                try:
                    self.ensure_periodic()
                    # Drain: a burst of due timers is worked off without waiting a tick each.
                    while timers_run_due(worker_id=self.worker_id) and not self.stopped.is_set():
                        pass
                except DatabaseError:
                    logger.exception("timer tick failed", extra={"worker_id": self.worker_id})
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=30)


def run_worker(
    *,
    queues: list[str],
    interval: float = 1.0,
    heartbeat_interval: float = 10.0,
    worker_id: str | None = None,
    max_tasks: int | None = None,
    timer_interval: float = 1.0,
) -> None:
    """Run until SIGTERM/SIGINT (or ``max_tasks``); the current task finishes first.

    A first heartbeat is written before any task is claimed, so a worker that cannot
    reach its database fails at once and loudly instead of looking alive.
    """
    worker_id = worker_id or new_worker_id()
    heartbeat = HeartbeatThread(worker_id=worker_id, started_at=now(), interval=heartbeat_interval)
    heartbeat.beat()
    worker = Worker(
        queue_names=queues,
        interval=interval,
        batch=False,
        backend_name=DEFAULT_BACKEND,
        startup_delay=True,
        max_tasks=max_tasks,
        worker_id=worker_id,
        excluded_queue_names=[],
    )
    logger.info(
        "worker started",
        extra={"worker_id": worker_id, "queues": ",".join(queues), "pid": os.getpid()},
    )
    heartbeat.start()
    timers = TimerThread(worker_id=worker_id, interval=timer_interval)
    timers.start()
    try:
        worker.configure_signals()
        worker.run()
    finally:
        worker.reset_signals()
        timers.stop()
        heartbeat.stop()
        _say_goodbye(worker_id)


def _say_goodbye(worker_id: str) -> None:
    try:
        close_old_connections()
        heartbeat_remove(worker_id=worker_id)
    except DatabaseError:
        logger.exception("could not remove heartbeat", extra={"worker_id": worker_id})
    logger.info("worker stopped", extra={"worker_id": worker_id})
