"""Background tasks of the jobs app: thin adapters around services.

See docs/subsystems/jobs.md.
"""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from opsdesk.jobs.services import heartbeat_prune


@task()
def heartbeat_prune_task(*, older_than_seconds: int = 86_400) -> int:
    """Delete heartbeats of workers gone for more than a day; returns how many."""
    return heartbeat_prune(older_than=timedelta(seconds=older_than_seconds))
