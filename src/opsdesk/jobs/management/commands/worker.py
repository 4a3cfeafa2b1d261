"""`opsdesk worker`: run background tasks and report liveness. See docs/subsystems/jobs.md."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from opsdesk.jobs.worker import run_worker


class Command(BaseCommand):
    help = "Run a background worker (tasks from the database queue) with a liveness heartbeat."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--queue",
            action="append",
            dest="queues",
            help="Queue to process; repeat or separate with commas; '*' for all "
            "(default: default).",
        )
        parser.add_argument(
            "--interval", type=float, default=1.0, help="Seconds between polls when idle."
        )
        parser.add_argument(
            "--heartbeat-interval",
            type=float,
            default=10.0,
            help="Seconds between heartbeat writes (default: 10).",
        )
        parser.add_argument(
            "--timer-interval",
            type=float,
            default=1.0,
            help="Seconds between durable-timer ticks (default: 1).",
        )
        parser.add_argument("--worker-id", default=None, help="Unique id (default: generated).")
        parser.add_argument(
            "--max-tasks", type=int, default=None, help="Exit after this many tasks."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        queues = [
            name.strip()
            for value in (options["queues"] or ["default"])
            for name in value.split(",")
            if name.strip()
        ]
        run_worker(
            queues=queues,
            interval=options["interval"],
            heartbeat_interval=options["heartbeat_interval"],
            worker_id=options["worker_id"],
            max_tasks=options["max_tasks"],
            timer_interval=options["timer_interval"],
        )
