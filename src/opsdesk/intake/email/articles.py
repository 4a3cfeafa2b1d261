"""What an inbound mail writes on tickets: a new ticket, a message on one (reopening it, or
a linked follow-up), its participants and attachments; see docs/subsystems/email.md.

Called by ingest.email_ingest inside its transaction. ``MailContext`` carries what every step
needs once per mail (the parsed mail, its InboundMessage row, our own addresses), so no step
looks the same thing up again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import IO

from django.utils.translation import gettext as _

from opsdesk.core.clock import now
from opsdesk.intake.email import conf
from opsdesk.intake.email.classify import Classification
from opsdesk.intake.email.rendering import message_text
from opsdesk.intake.email.results import ParsedMessage
from opsdesk.intake.email.selectors import sender_recent_ticket_count
from opsdesk.intake.email.senders import SenderRejected, sender_resolve
from opsdesk.intake.email.services import (
    email_acknowledgment_queue,
    email_oversize_notice_queue,
    megabytes,
)
from opsdesk.intake.email.threading import FOLLOW_UP, REOPEN, thread_decision, thread_find
from opsdesk.intake.models import (
    InboundAction,
    InboundMessage,
    ParticipantKind,
    TicketEmailParticipant,
)
from opsdesk.tickets.enums import Channel, Status
from opsdesk.tickets.models import Ticket, TimelineEvent
from opsdesk.tickets.services import (
    ticket_attachment_add,
    ticket_create,
    ticket_created_event,
    ticket_customer_message_add,
    ticket_related_set,
    ticket_status_change,
    ticket_system_event_add,
)

MAX_PARTICIPANTS = 50


@dataclass
class Outcome:
    action: str
    reason: str = ""
    ticket: Ticket | None = None
    event: TimelineEvent | None = None


@dataclass(frozen=True, slots=True)
class MailContext:
    parsed: ParsedMessage
    row: InboundMessage
    ours: frozenset[str]  # selectors.own_addresses(), read once per mail


def auto_reply_keep(ctx: MailContext, verdict: Classification) -> Outcome:
    """Kept silently on the ticket it answers (never answered back); otherwise ignored."""
    match = thread_find(parsed=ctx.parsed)
    if match is None:
        return Outcome(InboundAction.IGNORED, f"auto-reply: {verdict.reason}")
    event = _append(ctx, match.ticket, automated=verdict.reason)
    return Outcome(
        InboundAction.THREADED, f"auto-reply kept silently: {verdict.reason}", match.ticket, event
    )


def human_mail_file(ctx: MailContext) -> Outcome:
    """On the ticket it answers (reopening it within the window), else a new ticket (linked to
    the one it answers when that one is closed or long resolved)."""
    match = thread_find(parsed=ctx.parsed)
    related: Ticket | None = None
    if match is not None:
        decision = thread_decision(ticket=match.ticket)
        if decision != FOLLOW_UP:
            return _threaded(ctx, match.ticket, reopen=decision == REOPEN, via=match.via)
        related = match.ticket
    return _new_ticket(ctx, related)


def _label(parsed: ParsedMessage) -> str:
    address = parsed.from_address or ""
    return f"{parsed.from_name} <{address}>" if parsed.from_name else address


def _threaded(ctx: MailContext, ticket: Ticket, *, reopen: bool, via: str) -> Outcome:
    if reopen:
        ticket = ticket_status_change(
            ticket=ticket,
            actor=None,
            status=Status.OPEN,
            actor_label=_label(ctx.parsed),
            comment=_("Reopened by the customer's email."),
        )
    event = _append(ctx, ticket)
    reason = f"{'reopened; ' if reopen else ''}matched by {via}"
    return Outcome(InboundAction.THREADED, reason, ticket, event)


def _append(ctx: MailContext, ticket: Ticket, *, automated: str = "") -> TimelineEvent:
    parsed = ctx.parsed
    data: dict[str, object] = {"inbound_id": ctx.row.pk, "from": parsed.from_address}
    data["cc"] = [a for _, a in parsed.cc]
    if automated:
        data["automated"] = automated
    event = ticket_customer_message_add(
        ticket=ticket, actor_label=_label(parsed), body=message_text(parsed), data=data
    )
    _participants_add(ctx, ticket)
    _attachments_add(ctx, ticket, event, notify=not automated)
    return event


def _rate_limited(address: str) -> str | None:
    limit = conf.rate_limit_per_hour()
    if limit <= 0:
        return None
    count = sender_recent_ticket_count(address=address, within=timedelta(hours=1))
    return f"rate limit: {count} new tickets in the last hour" if count >= limit else None


def _new_ticket(ctx: MailContext, related: Ticket | None) -> Outcome:
    parsed = ctx.parsed
    address = parsed.from_address or ""
    limited = _rate_limited(address)
    if limited:
        return Outcome(InboundAction.QUARANTINED, limited)
    try:
        sender = sender_resolve(address=address, name=parsed.from_name)
    except SenderRejected as exc:
        return Outcome(InboundAction.QUARANTINED, str(exc))
    ticket = ticket_create(
        actor=None,
        actor_label=_label(parsed),
        organisation=sender.organisation,
        contact=sender.contact,
        channel=Channel.EMAIL,
        subject=(parsed.subject or _("(no subject)"))[:300],
        description=message_text(parsed),
    )
    if related is not None:
        ticket = ticket_related_set(ticket=ticket, related_to=related, actor_label="email")
    # The attachments hang on the "created" entry, and the InboundMessage names it.
    event = ticket_created_event(ticket)
    _participants_add(ctx, ticket)
    _attachments_add(ctx, ticket, event, notify=True)  # nothing to do without attachments
    if not sender.bouncing and address not in ctx.ours:
        email_acknowledgment_queue(
            ticket=ticket,
            recipient=address,
            name=sender.contact.name,
            message_id=parsed.message_id,
            references=parsed.references,
            deliverable=True,  # checked just above: not ours, not bouncing
        )
    reason = f"follow-up to {related.reference}" if related is not None else ""
    return Outcome(InboundAction.CREATED, reason, ticket, event)


def _participants_add(ctx: MailContext, ticket: Ticket) -> None:
    """Keep every customer address on To/Cc (never ours, never the sender) on the ticket."""
    parsed = ctx.parsed
    skip = ctx.ours | {parsed.from_address or ""}
    wanted: dict[str, tuple[str, str]] = {}
    for kind, addresses in ((ParticipantKind.CC, parsed.cc), (ParticipantKind.TO, parsed.to)):
        for name, address in addresses[:MAX_PARTICIPANTS]:
            if address and address not in skip and "@" in address:
                wanted.setdefault(address[:254], (name[:200], kind))
    if not wanted:  # most mail is addressed to us alone: no query at all
        return
    known = set(
        TicketEmailParticipant.objects.filter(ticket=ticket, address__in=wanted).values_list(
            "address", flat=True
        )
    )
    at = now()
    TicketEmailParticipant.objects.bulk_create(
        [
            TicketEmailParticipant(ticket=ticket, address=a, name=n, kind=k, created_at=at)
            for a, (n, k) in wanted.items()
            if a not in known
        ],
        ignore_conflicts=True,  # a concurrent mail on the same ticket added it meanwhile
    )


def _attachments_add(
    ctx: MailContext, ticket: Ticket, event: TimelineEvent | None, *, notify: bool
) -> None:
    """Store the attachments within the limits; name the others on the timeline and to the
    sender. A mail over the message limit keeps its text but none of its attachments."""
    parsed = ctx.parsed
    limit = conf.max_attachment_bytes()
    whole_mail_too_large = ctx.row.size > conf.max_message_bytes()
    too_large = []
    for item in parsed.attachments:
        if whole_mail_too_large or item.size > limit or not item.complete:
            too_large.append(item.filename)
            continue
        spooled = item.spooled
        if spooled is not None and spooled.file is not None:
            # Copied from the spool file to storage in chunks: never in memory whole.
            content: bytes | IO[bytes] = spooled.file
            size, sha256 = spooled.size, spooled.sha256
        else:
            content, size, sha256 = item.payload, None, ""
        ticket_attachment_add(
            ticket=ticket,
            event=event,
            filename=item.filename,
            content=content,
            content_type=item.content_type,
            content_id=item.content_id or "",
            is_inline=item.is_inline,
            max_bytes=limit,
            size=size,
            sha256=sha256,
        )
    if too_large:
        message_size = ctx.row.size if whole_mail_too_large else None
        _oversize_report(ctx, ticket, too_large, message_size, notify=notify)


def _oversize_report(
    ctx: MailContext,
    ticket: Ticket,
    names: list[str],
    message_size: int | None,
    *,
    notify: bool,
) -> None:
    if message_size is not None:
        body = _(
            "The mail (%(size)s MB) is over the limit of %(limit)s MB for one mail; its "
            "attachments were not stored: %(names)s"
        ) % {
            "size": megabytes(message_size),
            "limit": megabytes(conf.max_message_bytes()),
            "names": ", ".join(names),
        }
    else:
        body = _("Attachments over the size limit were not stored: %(names)s") % {
            "names": ", ".join(names)
        }
    ticket_system_event_add(
        ticket=ticket,
        actor_label="email",
        body=body,
        data={"dropped_attachments": names, "message_size": message_size},
    )
    if notify and ctx.parsed.from_address:
        email_oversize_notice_queue(
            ticket=ticket,
            recipient=ctx.parsed.from_address,
            names=names,
            message_id=ctx.parsed.message_id,
            message_size=message_size,
        )
