"""`opsdesk demo`: load fictional demo data and print the demo logins."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from opsdesk.demo import demo_exists, demo_load


class Command(BaseCommand):
    help = "Create fictional customers, contracts, the three teams' staff and ~200 tickets."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tickets", type=int, default=200)
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when demo data is already loaded."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if demo_exists():
            if options["if_empty"]:
                self.stdout.write("Demo data is already loaded.")
                return
            raise CommandError("Demo data is already loaded (use a fresh data folder).")
        if options["tickets"] < 0:
            raise CommandError("--tickets must be zero or more.")
        summary = demo_load(tickets=options["tickets"])
        self.stdout.write(
            f"Loaded {summary.organisations} organisations and {summary.tickets} tickets."
        )
        self.stdout.write("Demo logins (password for all: the second column):")
        for username, password in summary.staff:
            self.stdout.write(f"  {username:<10} {password}")
