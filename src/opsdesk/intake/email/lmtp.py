"""LMTP (and plain SMTP) receiver so an MTA such as Postfix delivers straight into OpsDesk;
see docs/subsystems/email.md.

Each message goes through email_ingest in a worker thread; the reply is 250 only after the
ingest transaction committed, 451 (the MTA keeps the mail and retries) on any failure.
LMTP answers once per recipient, as RFC 2033 requires; the message is ingested once.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.db import close_old_connections

from opsdesk.intake.email import conf
from opsdesk.intake.email.ingest import email_ingest
from opsdesk.intake.models import ReceivedVia

logger = logging.getLogger("opsdesk.intake.email")

TEMPORARY_FAILURE = "451 4.3.0 Temporary failure; please try again later"


def protocol_size_limit() -> int:
    """Mail up to twice the message limit is taken in and answered by OpsDesk itself (a ticket
    with the text and a notice naming the limit); above that the receiver answers 552 and the
    MTA returns the mail to its sender. aiosmtpd holds what it accepts in memory once."""
    return 2 * conf.max_message_bytes()


def _ingest_in_thread(raw: bytes) -> str:
    close_old_connections()
    try:
        result = email_ingest(raw=raw, received_via=ReceivedVia.LMTP)
    finally:
        close_old_connections()
    return f"250 2.0.0 {result.action} {result.ticket_ref or ''}".strip()


class IngestHandler:
    """aiosmtpd handler: one email_ingest per DATA."""

    def __init__(self, *, lmtp: bool) -> None:
        self.lmtp = lmtp

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        loop = asyncio.get_running_loop()
        try:
            status = await loop.run_in_executor(None, _ingest_in_thread, bytes(raw))
        except Exception:
            logger.exception("LMTP ingest failed; answered 451")
            status = TEMPORARY_FAILURE
        if self.lmtp:  # one reply per accepted recipient
            return "\r\n".join([status] * max(len(envelope.rcpt_tos), 1))
        return status


class ReceiverController(Controller):
    def __init__(self, handler: IngestHandler, **kwargs: Any) -> None:
        super().__init__(handler, data_size_limit=protocol_size_limit(), **kwargs)
        self.lmtp = handler.lmtp

    def factory(self) -> SMTP:
        server_class = LMTP if self.lmtp else SMTP
        return server_class(self.handler, **self.SMTP_kwargs)


def receiver_start(*, host: str, port: int, lmtp: bool = True) -> ReceiverController:
    controller = ReceiverController(IngestHandler(lmtp=lmtp), hostname=host, port=port)
    controller.start()
    return controller
