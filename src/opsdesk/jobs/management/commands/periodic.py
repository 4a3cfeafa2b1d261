"""`opsdesk periodic [list]`: the periodic jobs, their schedule, next run and last error.
`opsdesk periodic run NAME`: run one now, in this process (its timer row is not moved).
`opsdesk periodic ensure`: create or revive their timer rows (workers do this at start).

See docs/subsystems/jobs.md.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from opsdesk.jobs.models import Timer
from opsdesk.jobs.periodic import periodic_ensure, periodic_get, periodic_jobs, periodic_run


class Command(BaseCommand):
    help = "Periodic jobs: `list` (default), `run NAME`, `ensure`."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", nargs="?", default="list", choices=["list", "run", "ensure"])
        parser.add_argument("name", nargs="?", default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "ensure":
            for name in periodic_ensure():
                self.stdout.write(f"scheduled {name}")
            return
        if action == "run":
            job = periodic_get(options["name"] or "")
            if job is None:
                raise CommandError(f"no periodic job {options['name']!r}")
            error = periodic_run(job)
            if error:
                raise CommandError(error)
            self.stdout.write(f"ran {job.name}")
            return
        jobs = periodic_jobs()
        rows = {t.key: t for t in Timer.objects.filter(key__in=[j.key for j in jobs])}
        for job in jobs:
            row = rows.get(job.key)
            due = f"{row.due_at.isoformat()} ({row.state})" if row else "not scheduled"
            line = f"{job.name}\t{job.schedule.describe()}\tnext {due}"
            if row is not None and row.last_error:
                line += f"\tlast error: {row.last_error.splitlines()[0]}"
            self.stdout.write(line)
