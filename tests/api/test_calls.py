from __future__ import annotations

import pytest

from opsdesk.intake.models import PhoneCall
from opsdesk.notify.models import AgentNotice
from tests.factories import make_contact, make_org, make_ticket, team

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "number",
    ["010-0000-0004", "01000000004", "010 0000 0004", "+82 10-0000-0004", "+821000000004"],
)
def test_incoming_call_recognises_contact_in_korean_formats(api, number):
    org = make_org()
    contact = make_contact(org, phones=("010-0000-0004",))
    ticket = make_ticket(org, contact=contact, team=team("service-operations"))
    hidden = make_ticket(org, team=team("platform-service"))
    before = AgentNotice.objects.count()
    response = api.post("/calls/incoming", {"number": number})
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["number"] == "+821000000004"
    assert data["recognised"] is True
    assert data["contact"] == {"id": contact.pk, "name": contact.name}
    assert data["organisation"] == {"code": org.code, "name": org.name}
    refs = [t["reference"] for t in data["open_tickets"]]
    assert refs == [ticket.reference]
    assert hidden.reference not in refs
    assert PhoneCall.objects.get(pk=data["call_id"]).contact == contact
    notices = AgentNotice.objects.filter(kind="incoming_call")
    assert notices.count() == before + 1
    assert notices.last().data["call_id"] == data["call_id"]


def test_incoming_call_by_office_line_and_unknown(api):
    org = make_org(phones=("02-0000-0005",))
    office = api.post("/calls/incoming", {"number": "0200000005"}).json()
    assert office["contact"] is None and office["organisation"]["code"] == org.code
    unknown = api.post("/calls/incoming", {"number": "010-0000-0099"}).json()
    assert unknown["recognised"] is False and unknown["organisation"] is None
    assert unknown["open_tickets"] == []


@pytest.mark.parametrize("number", ["hello", "", "1", "0" * 41])
def test_incoming_call_rejects_non_numbers(api, number):
    response = api.post("/calls/incoming", {"number": number})
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [["body", "number"]]
