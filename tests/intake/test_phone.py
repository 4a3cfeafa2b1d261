from __future__ import annotations

import pytest

from opsdesk.core.errors import InvalidInput
from opsdesk.intake.models import CallSource, PhoneCall
from opsdesk.intake.selectors import caller_match
from opsdesk.intake.services import call_incoming, call_log
from opsdesk.notify.models import AgentNotice
from opsdesk.tickets.enums import Channel, EventKind
from opsdesk.tickets.models import TimelineEvent
from tests.factories import make_contact, make_org, make_staff, make_ticket, team

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "typed",
    ["010-0000-0042", "01000000042", "010 0000 0042", "+82 10 0000 0042", "+82-10-0000-0042"],
)
def test_contact_recognised_from_any_korean_form(typed):
    org = make_org()
    contact = make_contact(org, phones=("010-0000-0042",))
    match = caller_match(number=typed)
    assert match.contact == contact
    assert match.organisation == org
    assert match.number == "+821000000042"


@pytest.mark.parametrize("typed", ["02-0000-0777", "0200000777", "+82 2 0000 0777"])
def test_office_line_recognises_the_organisation(typed):
    org = make_org(phones=("02-0000-0777",))
    match = caller_match(number=typed)
    assert match.contact is None
    assert match.organisation == org


def test_unknown_and_invalid_numbers():
    assert not caller_match(number="010-0000-9999").recognised
    with pytest.raises(InvalidInput):
        caller_match(number="call me maybe")


def test_shared_number_shows_every_contact_instead_of_guessing():
    org = make_org()
    first = make_contact(org, phones=("02-0000-0555",))
    second = make_contact(org, phones=("02-0000-0555",))
    match = caller_match(number="02-0000-0555")
    assert {match.contact, *match.other_contacts} == {first, second}


def test_open_tickets_are_shown_only_within_the_agents_scope():
    ops = team("service-operations")
    agent = make_staff(team=ops)
    outsider = make_staff(team=team("service-support"))
    org = make_org()
    make_contact(org, phones=("010-0000-0043",))
    ticket = make_ticket(org, team=ops)
    assert caller_match(number="01000000043", actor=agent).open_tickets == [ticket]
    assert caller_match(number="01000000043", actor=outsider).open_tickets == []


def test_incoming_call_creates_a_call_and_a_screen_notice():
    org = make_org()
    contact = make_contact(org, phones=("010-0000-0044",))
    call, _match = call_incoming(number="010 0000 0044")
    assert call.source == CallSource.CTI and call.contact == contact
    notice = AgentNotice.objects.get()
    assert contact.name in notice.title
    assert f"call={call.pk}" in notice.url


def test_logging_a_call_opens_a_phone_ticket_with_a_call_event():
    agent = make_staff(team=team("service-operations"))
    org = make_org()
    contact = make_contact(org, phones=("010-0000-0045",))
    call, ticket = call_log(
        agent=agent,
        number="010-0000-0045",
        notes="VM does not boot",
        duration_seconds=125,
        new_ticket_subject="VM boot failure",
    )
    assert ticket.channel == Channel.PHONE and ticket.contact == contact
    assert ticket.organisation == org
    event = TimelineEvent.objects.get(ticket=ticket, kind=EventKind.CALL)
    assert event.data["duration_seconds"] == 125 and event.body == "VM does not boot"
    assert event.data["call_id"] == call.pk


def test_logging_a_call_on_an_open_ticket_completes_the_cti_call():
    agent = make_staff(team=team("service-operations"))
    org = make_org()
    make_contact(org, phones=("010-0000-0046",))
    ticket = make_ticket(org)
    cti_call, _ = call_incoming(number="01000000046")
    call, same = call_log(
        agent=agent,
        number="01000000046",
        notes="customer confirms recovery",
        ticket=ticket,
        call_id=cti_call.pk,
    )
    assert same == ticket and call.pk == cti_call.pk
    assert PhoneCall.objects.count() == 1
    assert TimelineEvent.objects.filter(ticket=ticket, kind=EventKind.CALL).count() == 1


def test_unknown_caller_cannot_open_a_ticket_without_a_customer():
    agent = make_staff(team=team("service-operations"))
    with pytest.raises(InvalidInput) as err:
        call_log(agent=agent, number="010-0000-0047", notes="x", new_ticket_subject="help")
    assert err.value.field == "organisation"
    assert PhoneCall.objects.count() == 0


def test_unknown_caller_placed_by_hand_with_an_organisation():
    agent = make_staff(team=team("service-operations"))
    org = make_org()
    _, ticket = call_log(
        agent=agent,
        number="010-0000-0048",
        notes="new customer contact",
        new_ticket_subject="access request",
        organisation=org,
    )
    assert ticket.organisation == org and ticket.contact is None
    assert ticket.team is not None
