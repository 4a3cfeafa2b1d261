"""Writes for worker liveness. See docs/subsystems/jobs.md."""

from __future__ import annotations

from datetime import datetime, timedelta

from opsdesk.core.clock import now
from opsdesk.jobs.models import WorkerHeartbeat


def heartbeat_beat(
    *, worker_id: str, hostname: str, pid: int, started_at: datetime
) -> WorkerHeartbeat:
    """Record that ``worker_id`` is alive now (one row per worker, updated in place)."""
    heartbeat, _ = WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={
            "hostname": hostname[:200],
            "pid": pid,
            "started_at": started_at,
            "last_seen_at": now(),
        },
    )
    return heartbeat


def heartbeat_remove(*, worker_id: str) -> int:
    """A worker that stops cleanly says so at once instead of waiting to go stale."""
    deleted, _ = WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()
    return deleted


def heartbeat_prune(*, older_than: timedelta = timedelta(days=1)) -> int:
    """Forget workers not seen for ``older_than`` (crashed, or killed without a goodbye)."""
    deleted, _ = WorkerHeartbeat.objects.filter(last_seen_at__lt=now() - older_than).delete()
    return deleted
