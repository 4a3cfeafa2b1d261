"""Worker liveness for /healthz. Durable timers join this app later.

See docs/subsystems/jobs.md.
"""

from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    worker_id = models.CharField(max_length=100, unique=True)
    hostname = models.CharField(max_length=200)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.worker_id} ({self.hostname}:{self.pid})"


class TimerState(models.TextChoices):
    PENDING = "pending", "pending"
    RUNNING = "running", "running"
    DONE = "done", "done"
    FAILED = "failed", "failed"
    CANCELLED = "cancelled", "cancelled"


class Timer(models.Model):
    """A durable timer: something that must happen at ``due_at`` even if every process
    restarts in between (SLA warnings, escalation steps, stabilisation windows).

    One live row per ``key``: rescheduling moves the row and changes ``token``, so a handler
    that was already running for the old schedule can tell it is stale. Claimed with
    ``select_for_update(skip_locked=True)``; a claim whose worker died is taken back after
    the lease (jobs.timers.LEASE).
    """

    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=60)
    due_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=TimerState.choices, default=TimerState.PENDING)
    token = models.CharField(max_length=32)
    payload = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    claimed_by = models.CharField(max_length=100, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["state", "due_at"], name="timer_state_due"),
            models.Index(fields=["state", "claimed_at"], name="timer_state_claimed"),
        ]

    def __str__(self) -> str:
        return f"{self.key} @ {self.due_at:%Y-%m-%d %H:%M:%S} ({self.state})"
