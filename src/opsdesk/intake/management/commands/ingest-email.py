"""`opsdesk ingest-email FILE...`: raw RFC 5322 files through email_ingest, one JSON line each.

See docs/subsystems/email.md. Exit status 0 even when messages are quarantined; 1 when a file
could not be read (a line is still printed for it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from opsdesk.intake.email.ingest import email_ingest
from opsdesk.intake.models import ReceivedVia


class Command(BaseCommand):
    help = "Ingest raw email files (RFC 5322 or Outlook .msg) as tickets; prints JSON lines."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE")

    def handle(self, *args: Any, **options: Any) -> None:
        unreadable = 0
        for name in options["files"]:
            try:
                raw = Path(name).read_bytes()
            except OSError as exc:
                unreadable += 1
                self._line(
                    {
                        "source": name,
                        "action": "error",
                        "ticket": None,
                        "subject": "",
                        "from": "",
                        "attachments": [],
                        "reason": f"unreadable: {exc.strerror}",
                    }
                )
                continue
            result = email_ingest(raw=raw, received_via=ReceivedVia.FILE)
            self._line(result.as_json(source=name))
        if unreadable:
            raise CommandError(f"{unreadable} file(s) could not be read", returncode=1)

    def _line(self, payload: dict[str, object]) -> None:
        self.stdout.write(json.dumps(payload, ensure_ascii=False))
