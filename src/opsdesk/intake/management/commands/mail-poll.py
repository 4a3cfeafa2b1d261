"""`opsdesk mail-poll [--once] [--mailbox NAME]`: read the configured IMAP mailboxes.

See docs/subsystems/email.md. Without --once it runs until SIGINT/SIGTERM: one thread per
active mailbox, each using IDLE where the server offers it (else its poll interval).
`opsdesk run` can start it as a supervised child: ["opsdesk", "mail-poll"].
"""

from __future__ import annotations

import json
import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from opsdesk.intake.email.imap import mailbox_poll, mailbox_watch
from opsdesk.intake.email.selectors import mailbox_list


class Command(BaseCommand):
    help = "Fetch new mail from the configured IMAP mailboxes and ingest it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="one batch per mailbox, then exit")
        parser.add_argument("--mailbox", help="only this mailbox (by name)")

    def handle(self, *args: Any, **options: Any) -> None:
        mailboxes = list(mailbox_list(name=options["mailbox"]))
        if not mailboxes:
            raise CommandError("no active mailbox to poll (configure one in the admin)")
        if options["once"]:
            for mailbox in mailboxes:
                report = mailbox_poll(mailbox=mailbox)
                for result in report.results:
                    self.stdout.write(json.dumps(result.as_json(source=mailbox.name)))
            return
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        threads = [
            threading.Thread(target=mailbox_watch, kwargs={"mailbox": m, "stop": stop}, daemon=True)
            for m in mailboxes
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
