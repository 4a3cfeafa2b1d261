"""Reads of the email channel; see docs/subsystems/email.md."""

from __future__ import annotations

import re
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import QuerySet

from opsdesk.core.clock import now
from opsdesk.intake.email import conf
from opsdesk.intake.models import (
    InboundAction,
    InboundMessage,
    Mailbox,
    OutboundMessage,
    OutboundStatus,
    TicketEmailParticipant,
)
from opsdesk.oncall.models import ContactMethod
from opsdesk.tickets.models import Ticket

REFERENCE_IN_SUBJECT = re.compile(r"\b(CSR|INC)-(\d{4})-(\d{6})\b", re.I)


def own_addresses() -> frozenset[str]:
    """Addresses that are OpsDesk itself: never a customer, never answered."""
    addresses = {conf.support_address(), settings.DEFAULT_FROM_EMAIL}
    addresses.update(conf.own_addresses_configured())
    addresses.update(Mailbox.objects.exclude(address="").values_list("address", flat=True))
    return frozenset(a.strip().lower() for a in addresses if a)


def message_id_domain() -> str:
    return conf.message_id_domain_configured() or conf.support_address().rsplit("@", 1)[-1]


def inbound_exists(*, dedup_key: str) -> bool:
    return InboundMessage.objects.filter(dedup_key=dedup_key).exists()


def inbound_quarantine_list() -> QuerySet[InboundMessage]:
    return InboundMessage.objects.filter(action=InboundAction.QUARANTINED).select_related("mailbox")


def ticket_by_subject_reference(*, subject: str) -> Ticket | None:
    for match in REFERENCE_IN_SUBJECT.finditer(subject):
        reference = f"{match.group(1).upper()}-{match.group(2)}-{match.group(3)}"
        ticket = Ticket.objects.filter(reference=reference).first()
        if ticket is not None:
            return ticket
    return None


def ticket_by_message_ids(*, message_ids: list[str]) -> Ticket | None:
    """The ticket a mail answers: newest referenced id first (In-Reply-To, then References)."""
    for message_id in message_ids:
        outbound = (
            OutboundMessage.objects.filter(message_id=message_id).select_related("ticket").first()
        )
        if outbound is not None:
            return outbound.ticket
        inbound = (
            InboundMessage.objects.filter(message_id=message_id, ticket__isnull=False)
            .select_related("ticket")
            .first()
        )
        if inbound is not None and inbound.ticket is not None:
            return inbound.ticket
    return None


def outbound_by_message_ids(*, message_ids: list[str]) -> OutboundMessage | None:
    return (
        OutboundMessage.objects.filter(message_id__in=message_ids).select_related("ticket").first()
    )


def ticket_thread_addresses(*, ticket: Ticket) -> set[str]:
    """Everyone on the ticket's mail thread: its contact's addresses and the participants."""
    addresses = set(
        TicketEmailParticipant.objects.filter(ticket=ticket).values_list("address", flat=True)
    )
    if ticket.contact_id is not None:
        addresses.update(ticket.contact.emails.values_list("address", flat=True))  # type: ignore[union-attr]
    return {a.lower() for a in addresses}


def ticket_participant_list(*, ticket: Ticket) -> QuerySet[TicketEmailParticipant]:
    return TicketEmailParticipant.objects.filter(ticket=ticket)


def ticket_outbound_list(*, ticket: Ticket) -> QuerySet[OutboundMessage]:
    return OutboundMessage.objects.filter(ticket=ticket)


def ticket_outbound_failures(*, ticket: Ticket) -> QuerySet[OutboundMessage]:
    return OutboundMessage.objects.filter(
        ticket=ticket, status__in=[OutboundStatus.FAILED, OutboundStatus.BOUNCED]
    )


def sender_recent_ticket_count(*, address: str, within: timedelta = timedelta(hours=1)) -> int:
    """New tickets this sender's mail opened in the window (the rate limit counts these)."""
    return InboundMessage.objects.filter(
        from_address=address, action=InboundAction.CREATED, created_at__gte=now() - within
    ).count()


def mailbox_list(*, name: str | None = None) -> QuerySet[Mailbox]:
    mailboxes = Mailbox.objects.filter(is_active=True)
    return mailboxes.filter(name=name) if name else mailboxes


def ticket_last_customer_mail(*, ticket: Ticket) -> InboundMessage | None:
    return (
        InboundMessage.objects.filter(ticket=ticket, action__in=["created", "threaded"])
        .order_by("-created_at", "-id")
        .first()
    )


def person_email_addresses(*, user: User) -> set[str]:
    """A staff member's own mail addresses: their email contact method and account email."""
    addresses = set(
        ContactMethod.objects.filter(user=user, channel="email").values_list("address", flat=True)
    )
    addresses.add(user.email)
    return {a.strip().lower() for a in addresses if a}
