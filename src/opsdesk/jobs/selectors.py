"""Health of the running installation. See docs/subsystems/jobs.md."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from django.conf import settings
from django.db import DatabaseError, connection

from opsdesk.core.clock import now
from opsdesk.jobs.models import WorkerHeartbeat


def health_check() -> dict[str, Any]:
    """Database reachable and at least one worker seen recently.

    A missing worker makes the whole check fail: without one, nothing background
    (mail, escalations) happens, which a support centre must notice at once.
    """
    report: dict[str, Any] = {"status": "ok", "database": "ok", "worker": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        report.update(status="fail", database=f"unreachable: {exc.__class__.__name__}")
        return report
    stale_after = cast(int, settings.OPSDESK["WORKER_HEARTBEAT_STALE_SECONDS"])
    stale = now() - timedelta(seconds=stale_after)
    latest = WorkerHeartbeat.objects.order_by("-last_seen_at").first()
    if latest is None:
        report.update(status="fail", worker="no worker has started")
    elif latest.last_seen_at < stale:
        report.update(status="fail", worker=f"last heartbeat {latest.last_seen_at.isoformat()}")
    else:
        report["worker_last_seen"] = latest.last_seen_at.isoformat()
    return report
