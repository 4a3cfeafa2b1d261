"""Reads of the email channel; see docs/subsystems/email.md."""

from __future__ import annotations

import re
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import QuerySet

from opsdesk.core.clock import now
from opsdesk.core.configcache import config_cached, config_stamp
from opsdesk.core.rows import RowReader
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
    """Addresses that are OpsDesk itself: never a customer, never answered.

    The mailboxes' addresses come from the process's configuration cache (core.configcache,
    decision 0007): read again when a mailbox is saved (at once in this process, within
    OPSDESK_CONFIG_CACHE_SECONDS in the others), not by a query per mail."""
    addresses = {conf.support_address(), settings.DEFAULT_FROM_EMAIL}
    addresses.update(conf.own_addresses_configured())
    addresses.update(_mailbox_addresses())
    return frozenset(a.strip().lower() for a in addresses if a)


def _mailbox_addresses() -> frozenset[str]:
    config_stamp()

    def build() -> frozenset[str]:
        mailboxes = Mailbox.objects.exclude(address="").order_by()
        return frozenset(mailboxes.values_list("address", flat=True))

    return config_cached(("email-mailbox-addresses",), build)


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


# A ticket with the Message-ID that found it: every reply reads this, so written out
# (core.rows, decision 0007) as one statement over our mail and theirs.
_THREAD_TICKET = RowReader((Ticket, "t"))
# Ids per statement: far below SQLite's limit of bound parameters (each id is bound twice),
# so a hostile References header of thousands of ids costs a few statements, never an error.
MESSAGE_IDS_PER_QUERY = 200


def ticket_by_message_ids(*, message_ids: list[str]) -> Ticket | None:
    """The ticket a mail answers: newest referenced id first (In-Reply-To, then References);
    for each id our own mail (OutboundMessage) before an inbound mail that had a ticket.

    One statement for up to MESSAGE_IDS_PER_QUERY ids (it was two queries per id): our
    outbound mail and the inbound mail with those ids, each with its ticket; the earliest id
    in the list wins. A longer list is read in slices, in order, until one matches."""
    rank: dict[str, int] = {}
    for message_id in message_ids:
        rank.setdefault(message_id, len(rank))
    ordered = list(rank)
    for offset in range(0, len(ordered), MESSAGE_IDS_PER_QUERY):
        ticket = _ticket_by_message_id_slice(ordered[offset : offset + MESSAGE_IDS_PER_QUERY], rank)
        if ticket is not None:
            return ticket
    return None


def _ticket_by_message_id_slice(ids: list[str], rank: dict[str, int]) -> Ticket | None:
    marks = ", ".join(["%s"] * len(ids))
    columns = _THREAD_TICKET.columns()
    tickets = Ticket._meta.db_table
    sql = (
        f"SELECT 0, o.message_id, {columns} FROM {OutboundMessage._meta.db_table} o "  # noqa: S608 - names from models
        f"JOIN {tickets} t ON t.id = o.ticket_id WHERE o.message_id IN ({marks}) "
        f"UNION ALL SELECT 1, i.message_id, {columns} FROM {InboundMessage._meta.db_table} i "
        f"JOIN {tickets} t ON t.id = i.ticket_id WHERE i.message_id IN ({marks})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*ids, *ids])
        rows = cursor.fetchall()
    if not rows:
        return None
    # Earliest id first; for one id, our own mail (0) before an inbound one (1).
    best = min(rows, key=lambda row: (rank[row[1]], row[0]))
    ticket = _THREAD_TICKET.instances(best[2:])[0]
    assert isinstance(ticket, Ticket)  # noqa: S101 - inner join: never NULL
    return ticket


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
