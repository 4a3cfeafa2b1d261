"""Peak memory of parsing and ingesting one mail with a large attachment (tracemalloc); see
docs/subsystems/email.md.

Usage: .venv/bin/python bench/email_memory.py [--megabytes 50] [--limit-megabytes 100]

(the message limit is set to twice the attachment limit)

Builds one mail with a base64 attachment of the given size (incompressible bytes, as a
gzipped log file is), then reports the peak of Python allocations (tracemalloc) while
(1) ``parse_message`` parses it and (2) ``email_ingest`` stores it end to end on a throwaway
SQLite site. The raw mail itself (held by the caller, as IMAP and LMTP hand it over) is
allocated before the measurement starts and not counted. No assertions.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import tracemalloc
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def build_mail(megabytes: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Customer One <customer1@example.com>"
    msg["To"] = "support@opsdesk.example"
    msg["Subject"] = "Full logs of db-02"
    msg["Message-ID"] = "<memory-bench@example.com>"
    msg.set_content("Hello,\n\nthe full syslog is attached.\n")
    msg.add_attachment(os.urandom(megabytes * 1024 * 1024), maintype="application",
                       subtype="gzip", filename="syslog.gz")  # fmt: skip
    return msg.as_bytes()


def peak(label: str, work: Callable[[], object], size: int) -> None:
    tracemalloc.start()
    tracemalloc.reset_peak()
    result = work()
    _, peak_bytes = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{label:<28} peak {peak_bytes / 1e6:8.1f} MB  ({peak_bytes / size:4.2f}x the raw mail)")
    print(f"{'':<28} -> {_describe(result)}")


def _describe(result: object) -> str:
    attachments = getattr(result, "attachments", [])
    if hasattr(result, "action"):
        return f"{result.action} {result.ticket_ref} attachments {attachments}"
    return "attachments " + ", ".join(f"{a.filename} ({a.size} bytes)" for a in attachments)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=50)
    parser.add_argument("--limit-megabytes", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-email-memory-") as data_dir:
        _measure(args, data_dir)


def _measure(args: argparse.Namespace, data_dir: str) -> None:
    os.environ["OPSDESK_DATA_DIR"] = data_dir
    os.environ["OPSDESK_LOG_LEVEL"] = "WARNING"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsdesk.config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from opsdesk.intake.email.ingest import email_ingest
    from opsdesk.intake.email.parsing import parse_message

    settings.OPSDESK["EMAIL_MAX_ATTACHMENT_BYTES"] = args.limit_megabytes * 1024 * 1024
    settings.OPSDESK["EMAIL_MAX_MESSAGE_BYTES"] = 2 * args.limit_megabytes * 1024 * 1024
    call_command("migrate", verbosity=0)
    raw = build_mail(args.megabytes)
    print(f"mail of {len(raw) / 1e6:.1f} MB with a {args.megabytes} MB attachment")
    peak("parse_message", lambda: parse_message(raw), len(raw))
    peak("email_ingest (SQLite)", lambda: email_ingest(raw=raw, received_via="file"), len(raw))


if __name__ == "__main__":
    main()
