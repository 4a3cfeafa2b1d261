"""Phone intake: incoming calls from telephony and calls logged by agents.

See docs/subsystems/intake.md.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from opsdesk.core.clock import now
from opsdesk.core.errors import InvalidInput
from opsdesk.core.phones import format_phone_national, try_normalize_phone
from opsdesk.intake.models import CallDirection, CallSource, PhoneCall
from opsdesk.intake.selectors import CallerMatch, caller_match
from opsdesk.notify.services import notice_broadcast
from opsdesk.tenancy.models import Contact, Contract, Organisation
from opsdesk.tickets.enums import Channel, TicketKind
from opsdesk.tickets.models import Ticket
from opsdesk.tickets.services import ticket_call_record, ticket_create


@transaction.atomic
def call_incoming(*, number: str) -> tuple[PhoneCall, CallerMatch]:
    """Telephony (CTI) reports a ringing call: match the caller and tell the agents' screens."""
    match = caller_match(number=number)
    call = PhoneCall.objects.create(
        number_raw=number[:40],
        number=match.number,
        source=CallSource.CTI,
        direction=CallDirection.INBOUND,
        contact=match.contact,
        organisation=match.organisation,
        started_at=now(),
    )
    who = (
        match.contact.name
        if match.contact
        else (match.organisation.name if match.organisation else _("Unknown caller"))
    )
    org = match.organisation.name if match.organisation and match.contact else ""
    url = reverse("intake:call_new") + f"?number={match.number}&call={call.pk}"
    notice_broadcast(
        kind="incoming_call",
        title=_("Incoming call: %(who)s") % {"who": who},
        body=" · ".join(p for p in (org, format_phone_national(match.number)) if p),
        url=url,
        data={"call_id": call.pk, "recognised": match.recognised},
    )
    return call, match


@transaction.atomic
def call_log(
    *,
    agent: User,
    number: str,
    notes: str,
    duration_seconds: int | None = None,
    ticket: Ticket | None = None,
    new_ticket_subject: str = "",
    contact: Contact | None = None,
    organisation: Organisation | None = None,
    contract: Contract | None = None,
    service_line: str = "",
    kind: str = TicketKind.CSR,
    priority: str = "normal",
    severity: str = "",
    call_id: int | None = None,
) -> tuple[PhoneCall, Ticket]:
    """Record a call and attach it to ``ticket`` or to a new ticket opened from it.

    The customer is the contact's organisation, else ``organisation`` (an unknown caller the
    agent placed by hand), else the organisation whose office line called.

    With ``call_id`` the call row that telephony created is completed instead of a second
    row being made.
    """
    if duration_seconds is not None and duration_seconds < 0:
        raise InvalidInput(_("The duration cannot be negative."), field="duration_seconds")
    e164 = try_normalize_phone(number) or ""
    match = caller_match(number=number) if e164 else CallerMatch(number="")
    contact = contact or match.contact
    if contact is not None and contact.organisation is not None:
        organisation = contact.organisation
    organisation = organisation or match.organisation
    if ticket is None:
        if not new_ticket_subject.strip():
            raise InvalidInput(
                _("Give the new ticket a subject, or choose an open ticket."), field="subject"
            )
        if organisation is None:
            raise InvalidInput(
                _("The caller is not recognised: choose the customer before opening a ticket."),
                field="organisation",
            )
        ticket = ticket_create(
            actor=agent,
            organisation=organisation,
            contact=contact,
            contract=contract,
            service_line=service_line,
            kind=kind,
            channel=Channel.PHONE,
            subject=new_ticket_subject,
            description=notes,
            priority=priority,
            severity=severity,
        )
    call = _call_row(call_id=call_id, number=number, e164=e164)
    call.agent = agent
    call.ticket = ticket
    call.contact = contact
    call.organisation = organisation
    call.duration_seconds = duration_seconds
    call.notes = notes
    call.save()
    ticket_call_record(
        ticket=ticket,
        actor=agent,
        number=e164 or number,
        notes=notes,
        duration_seconds=duration_seconds,
        call_id=call.pk,
    )
    return call, ticket


def _call_row(*, call_id: int | None, number: str, e164: str) -> PhoneCall:
    if call_id is not None:
        existing = (
            PhoneCall.objects.select_for_update().filter(pk=call_id, ticket__isnull=True).first()
        )
        if existing is not None:
            return existing
    return PhoneCall(
        number_raw=number[:40],
        number=e164,
        source=CallSource.AGENT,
        direction=CallDirection.INBOUND,
        started_at=now(),
    )
