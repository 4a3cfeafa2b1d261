"""Email channel writes: queueing OpsDesk's mails and agents' replies; see
docs/subsystems/email.md. Inbound mail goes through ingest.email_ingest."""

from __future__ import annotations

from collections.abc import Sequence
from email.utils import make_msgid

from django.contrib.auth.models import User
from django.db import transaction
from django.template.loader import render_to_string
from django_tasks_db import DatabaseBackend

from opsdesk.core.clock import now
from opsdesk.core.people import display_name
from opsdesk.core.rows import row_insert
from opsdesk.intake.email import conf
from opsdesk.intake.email.selectors import (
    message_id_domain,
    own_addresses,
    ticket_last_customer_mail,
    ticket_participant_list,
)
from opsdesk.intake.email.senders import address_is_bouncing
from opsdesk.intake.email.tasks import outbound_send_task
from opsdesk.intake.models import InboundMessage, OutboundKind, OutboundMessage
from opsdesk.tickets.models import Attachment, Ticket, TimelineEvent
from opsdesk.tickets.services import ticket_attachment_add, ticket_reply_add

MAX_REFERENCES = 20


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0")


def _language(ticket: Ticket) -> str:
    contact_language = ticket.contact.language if ticket.contact is not None else ""
    return "en" if (contact_language or ticket.organisation.language) == "en" else "ko"


def _subject(ticket: Ticket, *, reply: bool) -> str:
    prefix = "Re: " if reply else ""
    return f"{prefix}[{ticket.reference}] {ticket.subject}"[:500]


def _thread_ids(ticket: Ticket) -> list[str]:
    inbound = InboundMessage.objects.filter(ticket=ticket).exclude(message_id="")
    ids = [
        *inbound.values_list("message_id", flat=True),
        *OutboundMessage.objects.filter(ticket=ticket).values_list("message_id", flat=True),
    ]
    return list(dict.fromkeys(ids))[-MAX_REFERENCES:]


def _deliverable(addresses: Sequence[str]) -> list[str]:
    ours = own_addresses()
    wanted = [a.lower() for a in addresses if a]
    return [
        a for a in dict.fromkeys(wanted) if a not in ours and not address_is_bouncing(address=a)
    ]


def _enqueue_send(outbound_id: int) -> None:
    """Enqueue the delivery task: in the caller's transaction when the task queue is a table
    of this database (django-tasks-db; OpsDesk has one database), so the mail row and its
    task commit together: one commit per ingested mail instead of two, and no queued mail
    without a task if the process dies between the two; after the commit for any other
    backend (one that may run the task at once must not see an uncommitted row)."""
    if isinstance(outbound_send_task.get_backend(), DatabaseBackend):
        outbound_send_task.enqueue(outbound_id=outbound_id)
    else:
        transaction.on_commit(lambda: outbound_send_task.enqueue(outbound_id=outbound_id))


# No savepoint: one INSERT has nothing to undo partially, and inside email_ingest's
# transaction a savepoint is two more statements per acknowledged mail.
@transaction.atomic(savepoint=False)
def outbound_queue(
    *,
    ticket: Ticket,
    kind: str,
    to: Sequence[str],
    subject: str,
    body: str,
    cc: Sequence[str] = (),
    in_reply_to: str = "",
    references: Sequence[str] = (),
    event: TimelineEvent | None = None,
    attachments: Sequence[Attachment] = (),
    auto_submitted: bool = False,
) -> OutboundMessage:
    """Record a mail to send and enqueue its delivery once the transaction commits."""
    outbound = OutboundMessage(
        ticket=ticket,
        event=event,
        kind=kind,
        to=list(to),
        cc=list(cc),
        subject=subject[:500],
        body=body,
        attachment_ids=[a.pk for a in attachments],
        message_id=make_msgid(domain=message_id_domain()).strip("<>"),
        in_reply_to=in_reply_to,
        references=" ".join(references),
        auto_submitted=auto_submitted,
        created_at=now(),
    )
    row_insert(outbound)  # one per ingested mail (the acknowledgment): written out, core.rows
    _enqueue_send(outbound.pk)
    return outbound


def _context(ticket: Ticket, **extra: object) -> dict[str, object]:
    return {"ticket": ticket, "site_name": conf.site_name(), **extra}


def email_acknowledgment_queue(
    *,
    ticket: Ticket,
    recipient: str,
    name: str,
    message_id: str | None,
    references: Sequence[str],
    deliverable: bool = False,
) -> OutboundMessage | None:
    """Tell a customer their mail became ticket X (never to our own or bouncing addresses;
    ``deliverable`` says the caller has checked that already, saving the queries)."""
    to = [recipient] if deliverable else _deliverable([recipient])
    if not to:
        return None
    body = render_to_string(
        f"intake/email/acknowledgment_{_language(ticket)}.txt", _context(ticket, name=name)
    )
    ids = [*references, message_id] if message_id else list(references)
    return outbound_queue(
        ticket=ticket,
        kind=OutboundKind.ACKNOWLEDGMENT,
        to=to,
        subject=_subject(ticket, reply=True),
        body=body,
        in_reply_to=message_id or "",
        references=ids[-MAX_REFERENCES:],
        auto_submitted=True,
    )


def email_oversize_notice_queue(
    *,
    ticket: Ticket,
    recipient: str,
    names: Sequence[str],
    message_id: str | None,
    message_size: int | None = None,
) -> OutboundMessage | None:
    """Tell the sender which attachments were not stored: each over the attachment limit, or
    all of them when the whole mail (``message_size``) was over the message limit."""
    to = _deliverable([recipient])
    if not to:
        return None
    body = render_to_string(
        f"intake/email/oversize_{_language(ticket)}.txt",
        _context(
            ticket,
            names=list(names),
            limit_mb=megabytes(conf.max_attachment_bytes()),
            message_mb=megabytes(message_size) if message_size is not None else "",
            message_limit_mb=megabytes(conf.max_message_bytes()),
        ),
    )
    return outbound_queue(
        ticket=ticket,
        kind=OutboundKind.NOTICE,
        to=to,
        subject=_subject(ticket, reply=True),
        body=body,
        in_reply_to=message_id or "",
        references=[message_id] if message_id else [],
        auto_submitted=True,
    )


def _quote(ticket: Ticket) -> dict[str, str]:
    last = ticket_last_customer_mail(ticket=ticket)
    if last is None or last.event is None:
        return {"quoted": ""}
    lines = last.event.body.strip().splitlines()[:200]
    return {
        "quoted": "\n".join(f"> {line}" for line in lines),
        "quoted_from": last.from_address,
        "quoted_date": f"{last.created_at:%Y-%m-%d %H:%M} UTC",
    }


def _agent_name(actor: User) -> str:
    return display_name(actor)


def _reply_recipients(ticket: Ticket) -> tuple[list[str], list[str]]:
    last = ticket_last_customer_mail(ticket=ticket)
    primary: list[str] = [last.from_address] if last is not None else []
    if ticket.contact is not None:
        primary += [e.address for e in ticket.contact.emails.order_by("-is_primary", "id")][:1]
    to = _deliverable(primary)[:1]
    cc = [p.address for p in ticket_participant_list(ticket=ticket)]
    return to, [a for a in _deliverable(cc) if a not in to]


@transaction.atomic
def ticket_email_reply_send(
    *,
    ticket: Ticket,
    actor: User,
    body: str,
    attachments: Sequence[Attachment] = (),
    files: Sequence[tuple[str, str, bytes]] = (),
) -> TimelineEvent:
    """An agent's reply: on the timeline (ticket_reply_add) and mailed with quoted history,
    threaded (In-Reply-To/References) so the customer's answer comes back to this ticket.

    ``files`` are (name, content type, bytes) the agent uploaded with the reply: stored on
    the reply's timeline entry and attached to the mail, within the mail size limit."""
    event = ticket_reply_add(ticket=ticket, actor=actor, body=body)
    attachments = [
        *attachments,
        *(
            ticket_attachment_add(
                ticket=ticket,
                event=event,
                filename=name,
                content=content,
                content_type=content_type,
                max_bytes=conf.max_attachment_bytes(),
            )
            for name, content_type, content in files
        ),
    ]
    to, cc = _reply_recipients(ticket)
    if not to:
        return event
    last = ticket_last_customer_mail(ticket=ticket)
    text = render_to_string(
        f"intake/email/reply_{_language(ticket)}.txt",
        _context(ticket, body=body, agent=_agent_name(actor), **_quote(ticket)),
    )
    outbound_queue(
        ticket=ticket,
        kind=OutboundKind.REPLY,
        to=to,
        cc=cc,
        subject=_subject(ticket, reply=True),
        body=text,
        in_reply_to=last.message_id if last is not None else "",
        references=_thread_ids(ticket),
        event=event,
        attachments=attachments,
    )
    return event
