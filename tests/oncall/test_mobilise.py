"""Mobilise all: every member and lead of the involved teams notified at once, answers
recorded per person, a bridge on the escalation."""

from __future__ import annotations

import pytest
from django.test import Client

from opsdesk.core.errors import InvalidInput
from opsdesk.notify.models import Delivery
from opsdesk.oncall.mobilise import incident_mobilise
from opsdesk.oncall.models import MobilisationResponse
from opsdesk.oncall.services import ack_link
from tests.api.conftest import client_for
from tests.factories import make_org, make_staff, make_ticket, team

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident():
    ops, support = team("service-operations"), team("service-support")
    people = [
        make_staff(team=ops, role="agent"),
        make_staff(team=support, role="engineer"),
        make_staff(team=support, role="team_lead"),
    ]
    outsider = make_staff(team=team("platform-service"), role="engineer")
    ticket = make_ticket(
        make_org(), subject="Region down", severity="urgent", team=ops, technical_team=support
    )
    return ticket, people, outsider


def test_mobilise_notifies_everyone_once_and_records_answers(incident):
    ticket, people, outsider = incident
    escalation = incident_mobilise(ticket=ticket, bridge="https://meet.example/room-1")
    again = incident_mobilise(ticket=ticket)
    assert again.pk == escalation.pk and again.bridge == "https://meet.example/room-1"
    mobilised = set(
        MobilisationResponse.objects.filter(escalation=escalation).values_list("user", flat=True)
    )
    assert {p.pk for p in people} <= mobilised
    assert outsider.pk not in mobilised
    assert Delivery.objects.filter(user=people[2], channel="screen").count() == 1

    link = ack_link(escalation=escalation, user=people[1])
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    assert Client().post(path, {"response": "coming_in"}).status_code == 200
    response = client_for(people[2]).post(
        f"/oncall/escalations/{escalation.pk}/respond", {"response": "acknowledged"}
    )
    assert response.status_code == 200, response.content
    answers = dict(
        MobilisationResponse.objects.filter(escalation=escalation).values_list("user", "response")
    )
    assert answers[people[1].pk] == "coming_in"
    assert answers[people[2].pk] == "acknowledged"
    assert answers[people[0].pk] == "notified"


def test_only_urgent_incidents_mobilise_everyone():
    ticket = make_ticket(make_org(), subject="Slow page", severity="simple")
    with pytest.raises(InvalidInput):
        incident_mobilise(ticket=ticket)


def test_mobilise_api(incident):
    ticket, people, _outsider = incident
    response = client_for(people[2]).post(
        "/oncall/mobilise", {"ticket": ticket.reference, "bridge": "tel:+82-2-0000-0001"}
    )
    assert response.status_code == 201, response.content
    assert response.json()["bridge"] == "tel:+82-2-0000-0001"
