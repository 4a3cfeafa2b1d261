"""email_ingest: the one service all inbound paths (IMAP, LMTP, files) call; see
docs/subsystems/email.md.

Order of work: the raw bytes are written to storage first, then one transaction claims the
Message-ID (unique InboundMessage.dedup_key), decides, writes the ticket, and records the
outcome. A crash before commit leaves no row, so the same mail delivered again is ingested
once; a crash after commit leaves the row, so the redelivery is a duplicate.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.utils.translation import gettext as _

from opsdesk.core.clock import now
from opsdesk.intake.email import conf
from opsdesk.intake.email.classify import Classification, classify
from opsdesk.intake.email.parsing import parse_message
from opsdesk.intake.email.results import ParsedMessage, UnparseableMessage
from opsdesk.intake.email.selectors import (
    inbound_exists,
    outbound_by_message_ids,
    own_addresses,
    sender_recent_ticket_count,
)
from opsdesk.intake.email.senders import SenderRejected, address_is_bouncing, sender_resolve
from opsdesk.intake.email.services import (
    email_acknowledgment_queue,
    email_oversize_notice_queue,
)
from opsdesk.intake.email.storage import raw_mail_store
from opsdesk.intake.email.threading import FOLLOW_UP, REOPEN, thread_decision, thread_find
from opsdesk.intake.models import (
    InboundAction,
    InboundMessage,
    Mailbox,
    OutboundStatus,
    ParticipantKind,
    TicketEmailParticipant,
)
from opsdesk.tenancy.models import ContactEmail
from opsdesk.tickets.enums import Channel, Status
from opsdesk.tickets.models import Ticket, TimelineEvent
from opsdesk.tickets.services import (
    ticket_attachment_add,
    ticket_create,
    ticket_customer_message_add,
    ticket_related_set,
    ticket_status_change,
    ticket_system_event_add,
)

logger = logging.getLogger("opsdesk.intake.email")

_MESSAGE_ID_LINE = re.compile(r"^message-id:\s*<([^<>\s]+@[^<>\s]+)>", re.I | re.M)
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


@dataclass
class _Outcome:
    action: str
    reason: str = ""
    ticket: Ticket | None = None
    event: TimelineEvent | None = None


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
    try:
        parsed = parse_message(raw)
    except UnparseableMessage as exc:
        return _record_alone(stored, f"sha256:{digest}", f"unparseable: {exc.reason}")
    result = _result_for(parsed)
    dedup_key = parsed.message_id or f"sha256:{digest}"
    if inbound_exists(dedup_key=dedup_key):
        return _duplicate(result, dedup_key)
    try:
        return _ingest_parsed(parsed, stored, dedup_key, result)
    except IntegrityError:
        if inbound_exists(dedup_key=dedup_key):  # another worker committed it meanwhile
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
    return _with(result, _Outcome(InboundAction.IGNORED, "duplicate", ticket))


def _with(result: IngestResult, outcome: _Outcome) -> IngestResult:
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
    row = InboundMessage.objects.create(
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
    outcome = _decide(parsed, row)
    row.action, row.reason = outcome.action, outcome.reason[:500]
    row.ticket, row.event = outcome.ticket, outcome.event
    row.save(update_fields=["action", "reason", "ticket", "event"])
    return _with(result, outcome)


def _decide(parsed: ParsedMessage, row: InboundMessage) -> _Outcome:
    sender = parsed.from_address
    if not sender:
        return _Outcome(InboundAction.QUARANTINED, "no sender address")
    if sender in own_addresses():
        return _Outcome(InboundAction.IGNORED, "sent from one of our own addresses")
    verdict = classify(parsed)
    if verdict.kind == "bounce":
        return _bounce(parsed, verdict)
    if verdict.kind == "auto_reply":
        return _auto_reply(parsed, verdict, row)
    if verdict.is_automated:
        return _Outcome(InboundAction.IGNORED, f"{verdict.kind}: {verdict.reason}")
    return _human(parsed, row)


# --- bounces and automatic mail -------------------------------------------------------


def _bounced_message_ids(parsed: ParsedMessage) -> list[str]:
    ids = [i for i in (parsed.in_reply_to, *parsed.references) if i]
    texts = [parsed.text_body[:100_000]]
    texts += [
        a.payload[:100_000].decode("utf-8", "replace")
        for a in parsed.attachments
        if a.filename.endswith((".eml", ".txt")) or a.content_type.startswith(("message/", "text/"))
    ]
    for text in texts:
        ids += _MESSAGE_ID_LINE.findall(text)
    return list(dict.fromkeys(ids))


def _mark_bouncing(addresses: tuple[str, ...]) -> list[str]:
    marked = []
    for email in ContactEmail.objects.filter(address__in=addresses, bouncing_since__isnull=True):
        email.bouncing_since = now()
        email.save(update_fields=["bouncing_since"])
        marked.append(email.address)
    return marked


def _bounce(parsed: ParsedMessage, verdict: Classification) -> _Outcome:
    """Never answered. A permanent failure marks our contacts' addresses as bouncing, and the
    bounced outbound mail (found by its Message-ID) gets a note on its ticket."""
    permanent = verdict.permanent is not False
    marked = _mark_bouncing(verdict.failed_recipients) if permanent else []
    outbound = outbound_by_message_ids(message_ids=_bounced_message_ids(parsed))
    reason = "bounce ({}): {}".format(
        "permanent" if permanent else "temporary", ", ".join(verdict.failed_recipients) or "-"
    )
    if outbound is None:
        return _Outcome(InboundAction.IGNORED, reason)
    if permanent:
        outbound.status = OutboundStatus.BOUNCED
        outbound.last_error = f"{reason} {' '.join(verdict.status_codes)}"[:2000]
        outbound.save(update_fields=["status", "last_error"])
    event = ticket_system_event_add(
        ticket=outbound.ticket,
        actor_label="email",
        body=_("Mail to %(to)s bounced (%(codes)s).")
        % {
            "to": ", ".join(verdict.failed_recipients or outbound.to),
            "codes": ", ".join(verdict.status_codes) or verdict.reason,
        },
        data={"bounce": True, "outbound_id": outbound.pk, "bouncing": marked},
    )
    return _Outcome(InboundAction.IGNORED, reason, outbound.ticket, event)


def _auto_reply(parsed: ParsedMessage, verdict: Classification, row: InboundMessage) -> _Outcome:
    """Kept silently on the ticket it answers (never answered back); otherwise ignored."""
    match = thread_find(parsed=parsed)
    if match is None:
        return _Outcome(InboundAction.IGNORED, f"auto-reply: {verdict.reason}")
    event = _append(match.ticket, parsed, row, automated=verdict.reason)
    return _Outcome(
        InboundAction.THREADED, f"auto-reply kept silently: {verdict.reason}", match.ticket, event
    )


# --- human mail ---------------------------------------------------------------------------


def _human(parsed: ParsedMessage, row: InboundMessage) -> _Outcome:
    match = thread_find(parsed=parsed)
    related: Ticket | None = None
    if match is not None:
        decision = thread_decision(ticket=match.ticket)
        if decision != FOLLOW_UP:
            return _threaded(parsed, row, match.ticket, reopen=decision == REOPEN, via=match.via)
        related = match.ticket
    return _new_ticket(parsed, row, related)


def _label(parsed: ParsedMessage) -> str:
    address = parsed.from_address or ""
    return f"{parsed.from_name} <{address}>" if parsed.from_name else address


def _threaded(
    parsed: ParsedMessage, row: InboundMessage, ticket: Ticket, *, reopen: bool, via: str
) -> _Outcome:
    if reopen:
        ticket = ticket_status_change(
            ticket=ticket,
            actor=None,
            status=Status.OPEN,
            actor_label=_label(parsed),
            comment=_("Reopened by the customer's email."),
        )
    event = _append(ticket, parsed, row)
    reason = f"{'reopened; ' if reopen else ''}matched by {via}"
    return _Outcome(InboundAction.THREADED, reason, ticket, event)


def _append(
    ticket: Ticket, parsed: ParsedMessage, row: InboundMessage, *, automated: str = ""
) -> TimelineEvent:
    data: dict[str, object] = {"inbound_id": row.pk, "from": parsed.from_address}
    data["cc"] = [a for _, a in parsed.cc]
    if automated:
        data["automated"] = automated
    event = ticket_customer_message_add(
        ticket=ticket, actor_label=_label(parsed), body=parsed.text_body, data=data
    )
    _participants_add(ticket, parsed)
    _attachments_add(ticket, event, parsed, notify=not automated)
    return event


def _rate_limited(address: str) -> str | None:
    limit = conf.rate_limit_per_hour()
    if limit <= 0:
        return None
    count = sender_recent_ticket_count(address=address, within=timedelta(hours=1))
    return f"rate limit: {count} new tickets in the last hour" if count >= limit else None


def _new_ticket(parsed: ParsedMessage, row: InboundMessage, related: Ticket | None) -> _Outcome:
    address = parsed.from_address or ""
    limited = _rate_limited(address)
    if limited:
        return _Outcome(InboundAction.QUARANTINED, limited)
    try:
        sender = sender_resolve(address=address, name=parsed.from_name)
    except SenderRejected as exc:
        return _Outcome(InboundAction.QUARANTINED, str(exc))
    ticket = ticket_create(
        actor=None,
        actor_label=_label(parsed),
        organisation=sender.organisation,
        contact=sender.contact,
        channel=Channel.EMAIL,
        subject=(parsed.subject or _("(no subject)"))[:300],
        description=parsed.text_body,
    )
    if related is not None:
        ticket = ticket_related_set(ticket=ticket, related_to=related, actor_label="email")
    event = ticket.events.order_by("id").first()
    _participants_add(ticket, parsed)
    _attachments_add(ticket, event, parsed, notify=True)
    if not address_is_bouncing(address=address):
        email_acknowledgment_queue(
            ticket=ticket,
            recipient=address,
            name=sender.contact.name,
            message_id=parsed.message_id,
            references=parsed.references,
        )
    reason = f"follow-up to {related.reference}" if related is not None else ""
    return _Outcome(InboundAction.CREATED, reason, ticket, event)


def _participants_add(ticket: Ticket, parsed: ParsedMessage) -> None:
    """Keep every customer address on To/Cc (never ours, never the sender) on the ticket."""
    ours = own_addresses() | {parsed.from_address or ""}
    at = now()
    for kind, addresses in ((ParticipantKind.CC, parsed.cc), (ParticipantKind.TO, parsed.to)):
        for name, address in addresses[:50]:
            if address and address not in ours and "@" in address:
                TicketEmailParticipant.objects.get_or_create(
                    ticket=ticket,
                    address=address[:254],
                    defaults={"name": name[:200], "kind": kind, "created_at": at},
                )


def _attachments_add(
    ticket: Ticket, event: TimelineEvent | None, parsed: ParsedMessage, *, notify: bool
) -> None:
    limit = conf.max_attachment_bytes()
    too_large = []
    for item in parsed.attachments:
        if item.size > limit:
            too_large.append(item.filename)
            continue
        ticket_attachment_add(
            ticket=ticket,
            event=event,
            filename=item.filename,
            content=item.payload,
            content_type=item.content_type,
            content_id=item.content_id or "",
            is_inline=item.is_inline,
            max_bytes=limit,
        )
    if too_large:
        _oversize_report(ticket, parsed, too_large, notify=notify)


def _oversize_report(
    ticket: Ticket, parsed: ParsedMessage, names: list[str], *, notify: bool
) -> None:
    ticket_system_event_add(
        ticket=ticket,
        actor_label="email",
        body=_("Attachments over the size limit were not stored: %(names)s")
        % {"names": ", ".join(names)},
        data={"dropped_attachments": names},
    )
    if notify and parsed.from_address:
        email_oversize_notice_queue(
            ticket=ticket, recipient=parsed.from_address, names=names, message_id=parsed.message_id
        )
