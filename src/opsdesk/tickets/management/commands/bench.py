"""`opsdesk bench seed --tickets N`: fill the database with realistic synthetic data."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from opsdesk.benchseed import seed


class Command(BaseCommand):
    help = "Benchmark helpers. 'seed' adds N synthetic tickets with 5-30 timeline events each."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["seed"])
        parser.add_argument("--tickets", type=int, required=True)
        parser.add_argument("--organisations", type=int, default=None)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["tickets"] < 1:
            raise CommandError("--tickets must be at least 1.")
        started = time.monotonic()
        try:
            result = seed(
                tickets=options["tickets"],
                organisations=options["organisations"],
                seed=options["seed"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"seeded {result.tickets} tickets, {result.events} events, "
            f"{result.organisations} organisations, {result.contacts} contacts "
            f"in {elapsed:.1f} s ({result.tickets / elapsed:.0f} tickets/s)"
        )
