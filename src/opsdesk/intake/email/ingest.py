"""email_ingest: the one service all inbound paths (IMAP, LMTP, files) call; see
docs/subsystems/email.md.

Order of work: the raw bytes are written to storage first, then one transaction claims the
Message-ID (unique InboundMessage.dedup_key), decides, writes the ticket, and records the
outcome. A crash before commit leaves no row, so the same mail delivered again is ingested
once; a crash after commit leaves the row, so the redelivery is a duplicate.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction

from opsdesk.core.clock import now
from opsdesk.core.configcache import config_scope
from opsdesk.core.rows import row_insert
from opsdesk.intake.email import conf
from opsdesk.intake.email.articles import MailContext, Outcome, auto_reply_keep, human_mail_file
from opsdesk.intake.email.bounces import bounce_record
from opsdesk.intake.email.classify import classify
from opsdesk.intake.email.pages import page_reply_ingest
from opsdesk.intake.email.parsing import parse_message
from opsdesk.intake.email.results import ParsedMessage, UnparseableMessage
from opsdesk.intake.email.selectors import inbound_exists, own_addresses
from opsdesk.intake.email.storage import raw_mail_store
from opsdesk.intake.models import InboundAction, InboundMessage, Mailbox

logger = logging.getLogger("opsdesk.intake.email")

_TEMPORARY = (OperationalError, InterfaceError)


@dataclass(frozen=True, slots=True)
class IngestResult:
    action: str
    ticket_ref: str | None
    subject: str
    from_address: str
    attachments: list[str] = field(default_factory=list)
    reason: str | None = None

    def as_json(self, *, source: str) -> dict[str, object]:
        return {
            "source": source,
            "action": self.action,
            "ticket": self.ticket_ref,
            "subject": self.subject,
            "from": self.from_address,
            "attachments": self.attachments,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class _Stored:
    name: str
    sha256: str
    size: int
    received_via: str
    mailbox: Mailbox | None


def email_ingest(*, raw: bytes, received_via: str, mailbox: Mailbox | None = None) -> IngestResult:
    """Turn one raw mail into a ticket, a reply on a ticket, an ignored or a quarantined row.

    Raises only for temporary database trouble (the caller retries: LMTP 451, IMAP keeps the
    UID unprocessed); every other failure is quarantined with its reason.
    """
    name, digest = raw_mail_store(raw=raw)
    stored = _Stored(name, digest, len(raw), received_via, mailbox)
    oversize = len(raw) > conf.max_message_bytes()
    try:
        # Attachments above the limit (all of them in an oversize mail) are counted, not kept.
        parsed = parse_message(raw, max_part_bytes=0 if oversize else conf.max_attachment_bytes())
    except UnparseableMessage as exc:
        return _record_alone(stored, f"sha256:{digest}", f"unparseable: {exc.reason}")
    try:
        return _ingest_parsed_safely(parsed, stored, digest)
    finally:
        parsed.close()  # temporary files of spooled attachments


def _ingest_parsed_safely(parsed: ParsedMessage, stored: _Stored, digest: str) -> IngestResult:
    result = _result_for(parsed)
    dedup_key = parsed.message_id or f"sha256:{digest}"
    # No "exists?" query first: the unique dedup_key insert at the start of the transaction
    # is the check (a duplicate rolls back and is answered below), one query less per mail.
    try:
        # One configuration check for the mail: our own addresses, then routing and the SLA
        # of a new ticket, share it (core.configcache).
        with config_scope():
            return _ingest_parsed(parsed, stored, dedup_key, result)
    except IntegrityError:
        if inbound_exists(dedup_key=dedup_key):  # seen before, or another worker was first
            return _duplicate(result, dedup_key)
        raise
    except _TEMPORARY:
        raise
    except Exception as exc:  # a bug or a service refusal must not lose the mail
        logger.exception("email ingest failed; quarantined", extra={"sha256": digest})
        return _record_alone(stored, dedup_key, f"ingest error: {type(exc).__name__}: {exc}")


def _result_for(parsed: ParsedMessage) -> IngestResult:
    return IngestResult(
        action="",
        ticket_ref=None,
        subject=parsed.subject,
        from_address=parsed.from_address or "",
        attachments=parsed.attachment_names,
    )


def _duplicate(result: IngestResult, dedup_key: str) -> IngestResult:
    """The same Message-ID again: one article; the answer names the ticket it went to."""
    first = InboundMessage.objects.filter(dedup_key=dedup_key).select_related("ticket").first()
    ticket = first.ticket if first is not None else None
    return _with(result, Outcome(InboundAction.IGNORED, "duplicate", ticket))


def _with(result: IngestResult, outcome: Outcome) -> IngestResult:
    return IngestResult(
        action=outcome.action,
        ticket_ref=outcome.ticket.reference if outcome.ticket is not None else None,
        subject=result.subject,
        from_address=result.from_address,
        attachments=result.attachments,
        reason=outcome.reason or None,
    )


def _record_alone(stored: _Stored, dedup_key: str, reason: str) -> IngestResult:
    """Quarantine without a parse (or after a failed attempt): the raw mail stays for admins."""
    with transaction.atomic():
        row, created = InboundMessage.objects.get_or_create(
            dedup_key=dedup_key[:998],
            defaults={
                "raw": stored.name,
                "sha256": stored.sha256,
                "size": stored.size,
                "received_via": stored.received_via,
                "mailbox": stored.mailbox,
                "action": InboundAction.QUARANTINED,
                "reason": reason[:500],
                "created_at": now(),
            },
        )
    if not created:
        return IngestResult(
            InboundAction.IGNORED, None, row.subject, row.from_address, [], "duplicate"
        )
    return IngestResult(InboundAction.QUARANTINED, None, "", "", [], reason[:500])


@transaction.atomic
def _ingest_parsed(
    parsed: ParsedMessage, stored: _Stored, dedup_key: str, result: IngestResult
) -> IngestResult:
    row = InboundMessage(
        message_id=(parsed.message_id or "")[:998],
        dedup_key=dedup_key[:998],
        raw=stored.name,
        sha256=stored.sha256,
        size=stored.size,
        received_via=stored.received_via,
        mailbox=stored.mailbox,
        from_address=(parsed.from_address or "")[:320],
        subject=parsed.subject[:500],
        action=InboundAction.IGNORED,
        created_at=now(),
    )
    # Written out (core.rows), as is the update below: two statements on every mail, which
    # the ORM took several times their own cost to build.
    row_insert(row)
    outcome = _decide(parsed, row)
    _inbound_outcome_store(row, outcome)
    return _with(result, outcome)


def _inbound_outcome_store(row: InboundMessage, outcome: Outcome) -> None:
    meta = InboundMessage._meta
    quote = connection.ops.quote_name
    column = {field.name: field.column for field in meta.concrete_fields}
    names = ("action", "reason", "ticket", "event")
    assignments = ", ".join(f"{quote(column[name])} = %s" for name in names)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE id = %s",  # noqa: S608 - names from the model
            [
                outcome.action,
                outcome.reason[:500],
                outcome.ticket.pk if outcome.ticket is not None else None,
                outcome.event.pk if outcome.event is not None else None,
                row.pk,
            ],
        )


def _decide(parsed: ParsedMessage, row: InboundMessage) -> Outcome:
    sender = parsed.from_address
    if not sender:
        return Outcome(InboundAction.QUARANTINED, "no sender address")
    ours = own_addresses()
    if sender in ours:
        return Outcome(InboundAction.IGNORED, "sent from one of our own addresses")
    verdict = classify(parsed)
    ctx = MailContext(parsed=parsed, row=row, ours=ours)
    if verdict.kind == "bounce":
        return bounce_record(parsed=parsed, verdict=verdict)
    if verdict.kind == "auto_reply":
        return auto_reply_keep(ctx, verdict)
    if verdict.is_automated:
        return Outcome(InboundAction.IGNORED, f"{verdict.kind}: {verdict.reason}")
    page_reply = page_reply_ingest(parsed=parsed, row=row)
    if page_reply is not None:  # a person answering an on-call page: no customer ticket
        return Outcome(page_reply.action, page_reply.reason, page_reply.ticket, page_reply.event)
    return human_mail_file(ctx)
