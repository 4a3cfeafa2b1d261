"""Which ticket a mail belongs to, and whether it reopens or follows up; see
docs/subsystems/email.md."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from opsdesk.core.clock import now
from opsdesk.intake.email import conf
from opsdesk.intake.email.results import ParsedMessage
from opsdesk.intake.email.selectors import (
    ticket_by_message_ids,
    ticket_by_subject_reference,
    ticket_thread_addresses,
)
from opsdesk.intake.email.senders import contact_by_address, organisation_by_domain
from opsdesk.tickets.enums import OPEN_STATUSES, Status
from opsdesk.tickets.models import Ticket

APPEND = "append"
REOPEN = "reopen"
FOLLOW_UP = "follow_up"


@dataclass(frozen=True, slots=True)
class ThreadMatch:
    ticket: Ticket
    via: str  # "in-reply-to/references" or "subject reference"


def _referenced_ids(parsed: ParsedMessage) -> list[str]:
    ids = [parsed.in_reply_to] if parsed.in_reply_to else []
    ids.extend(reversed(parsed.references))
    return list(dict.fromkeys(i for i in ids if i))


def _sender_may_use(ticket: Ticket, address: str) -> bool:
    """A reference typed into a subject is only trusted from someone on the ticket's side:
    a thread address, or a contact or domain of the ticket's organisation."""
    if address in ticket_thread_addresses(ticket=ticket):
        return True
    contact = contact_by_address(address=address)
    if contact is not None and contact.organisation_id == ticket.organisation_id:
        return True
    organisation = organisation_by_domain(address=address)
    return organisation is not None and organisation.pk == ticket.organisation_id


def thread_find(*, parsed: ParsedMessage) -> ThreadMatch | None:
    """Our Message-IDs in In-Reply-To/References first, then a reference in the subject."""
    ticket = ticket_by_message_ids(message_ids=_referenced_ids(parsed))
    if ticket is not None:
        return ThreadMatch(ticket=ticket, via="in-reply-to/references")
    ticket = ticket_by_subject_reference(subject=parsed.subject)
    if ticket is not None and _sender_may_use(ticket, parsed.from_address or ""):
        return ThreadMatch(ticket=ticket, via="subject reference")
    return None


def thread_decision(*, ticket: Ticket) -> str:
    """Open: append. Resolved within the reopen window: reopen. Later, or closed: follow up."""
    if ticket.status in OPEN_STATUSES:
        return APPEND
    if ticket.status == Status.RESOLVED:
        window = timedelta(days=conf.reopen_days())
        if ticket.resolved_at is None or now() - ticket.resolved_at <= window:
            return REOPEN
    return FOLLOW_UP
