"""Caller recognition for the phone line. See docs/subsystems/intake.md."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import AnonymousUser, User

from opsdesk.core.phones import normalize_phone
from opsdesk.tenancy.models import Contact, ContactPhone, Organisation, OrganisationPhone
from opsdesk.tickets.models import Ticket
from opsdesk.tickets.selectors import ticket_open_for_organisation


@dataclass
class CallerMatch:
    number: str
    contact: Contact | None = None
    organisation: Organisation | None = None
    # Other contacts sharing the number (a shared office line): shown, not guessed between.
    other_contacts: list[Contact] = field(default_factory=list)
    open_tickets: list[Ticket] = field(default_factory=list)

    @property
    def recognised(self) -> bool:
        return self.contact is not None or self.organisation is not None


def caller_match(*, number: str, actor: User | AnonymousUser | None = None) -> CallerMatch:
    """Who is calling: a contact by their phone, else an organisation by its office line.

    ``number`` may be in any Korean form ('02-123-4567', '010 0000 0001', '+82 10-…');
    InvalidInput is raised for text that is not a phone number.
    """
    e164 = normalize_phone(number)
    match = CallerMatch(number=e164)
    contact_ids = list(
        ContactPhone.objects.filter(number=e164, contact__is_active=True)
        .order_by("-is_primary", "contact_id")
        .values_list("contact_id", flat=True)
        .distinct()
    )
    if contact_ids:
        contacts = {
            c.pk: c
            for c in Contact.objects.select_related("organisation").filter(pk__in=contact_ids)
        }
        ordered = [contacts[pk] for pk in contact_ids if pk in contacts]
        match.contact = ordered[0]
        match.other_contacts = ordered[1:]
        match.organisation = match.contact.organisation
    else:
        office = (
            OrganisationPhone.objects.select_related("organisation").filter(number=e164).first()
        )
        if office is not None:
            match.organisation = office.organisation
    if match.organisation is not None and actor is not None:
        match.open_tickets = ticket_open_for_organisation(
            actor=actor, organisation_id=match.organisation.pk
        )
    return match
