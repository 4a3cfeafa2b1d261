"""`opsdesk lmtp-server --bind 127.0.0.1:2525 [--smtp]`: receive mail from an MTA.

See docs/subsystems/email.md. Runs until SIGINT/SIGTERM.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from opsdesk.intake.email.lmtp import receiver_start


class Command(BaseCommand):
    help = "Receive mail over LMTP (default) or SMTP and ingest it as tickets."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default="127.0.0.1:2525", help="host:port to listen on")
        parser.add_argument("--smtp", action="store_true", help="speak SMTP instead of LMTP")

    def handle(self, *args: Any, **options: Any) -> None:
        host, _, port = options["bind"].rpartition(":")
        if not host or not port.isdigit():
            raise CommandError("--bind must be host:port")
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        controller = receiver_start(host=host, port=int(port), lmtp=not options["smtp"])
        protocol = "SMTP" if options["smtp"] else "LMTP"
        self.stdout.write(f"{protocol} receiver listening on {host}:{port}", ending="\n")
        self.stdout.flush()
        stop.wait()
        controller.stop()
