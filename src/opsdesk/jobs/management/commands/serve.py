"""`opsdesk serve`: the production web server. See docs/subsystems/jobs.md."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from opsdesk.config import env
from opsdesk.jobs.web import run_web_server


def default_workers() -> int:
    try:
        return env.get_int("WEB_WORKERS", 2)
    except ValueError as exc:
        raise CommandError(str(exc)) from exc


class Command(BaseCommand):
    help = "Serve OpsDesk with uWSGI (preforked workers) and WhiteNoise for static files."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--bind", default="127.0.0.1:8000", help="host:port to listen on.")
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="Worker processes (default: OPSDESK_WEB_WORKERS or 2).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        workers = options["workers"] if options["workers"] is not None else default_workers()
        if workers < 1:
            raise CommandError("--workers must be at least 1")
        run_web_server(bind=options["bind"], workers=workers)
