"""`opsdesk sla ...`: SLA deadlines of many tickets at once (docs/subsystems/sla.md).

    opsdesk sla recompute --all-open [--dry-run] [--chunk N]
    opsdesk sla recompute --policy NAME [--dry-run] [--chunk N]

`recompute` derives every selected open ticket's ``due_at`` / ``sla_warn_at`` again from its
timeline and the current policies and calendars, and moves the SLA timers of the tickets
whose deadline moved. Run it after changing a policy's targets, its calendar, a calendar's
hours or days, or a contract's policy: tickets pick up such changes by themselves only at
their next clock-moving event.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from opsdesk.sla.bulk import open_tickets
from opsdesk.sla.models import SlaPolicy
from opsdesk.sla.services import RECOMPUTE_CHUNK, sla_recompute


class Command(BaseCommand):
    help = "SLA deadlines: recompute due times of open tickets after a policy or calendar change."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["recompute"])
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--all-open", action="store_true", help="every open ticket")
        which.add_argument("--policy", help="open tickets governed by this SLA policy")
        parser.add_argument("--chunk", type=int, default=RECOMPUTE_CHUNK)
        parser.add_argument(
            "--dry-run", action="store_true", help="count the moved deadlines, write nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["chunk"] < 1:
            raise CommandError("--chunk must be at least 1.")
        tickets = open_tickets()
        if options["policy"]:
            name = options["policy"]
            if not SlaPolicy.objects.filter(name=name).exists():
                raise CommandError(f"no SLA policy named {name!r}")
            governed = Q(contract__sla_policy__name=name)
            if name == settings.OPSDESK["DEFAULT_SLA_POLICY"]:
                governed |= Q(contract__sla_policy__isnull=True)
            tickets = tickets.filter(governed)
        started = time.perf_counter()
        result = sla_recompute(
            tickets=tickets, chunk_size=options["chunk"], dry_run=options["dry_run"]
        )
        verb = "would move" if options["dry_run"] else "moved"
        self.stdout.write(
            f"checked {result.checked} open tickets, {verb} {result.changed} deadlines "
            f"in {time.perf_counter() - started:.1f} s"
        )
