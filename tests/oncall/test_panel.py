"""The ticket page's escalation panel: policy, current step, who was notified over which
channel and how it went, next step due, Acknowledge (htmx), mobilisation answers, bridge."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client

from opsdesk.core.clock import frozen_at
from opsdesk.oncall.mobilise import incident_mobilise, mobilisation_respond
from opsdesk.oncall.models import Escalation
from opsdesk.oncall.panels import escalation_panel_context
from opsdesk.oncall.services import escalation_start, policy_create
from opsdesk.tickets.panels import panels_for
from tests.factories import make_org, make_staff, make_ticket, team
from tests.oncall.helpers import drain, seoul, weekly_oncall

pytestmark = pytest.mark.django_db

SUNDAY_23 = seoul(2026, 12, 6, 23)


@pytest.fixture
def escalated():
    ops = team("service-operations")
    engineer = make_staff(team=ops, role="engineer")
    engineer.email = "engineer@opsdesk.test"
    engineer.save(update_fields=["email"])
    agent = make_staff(team=ops)
    weekly_oncall(ops, [engineer], start=date(2026, 11, 30))
    policy_create(
        name="Night chain",
        team=ops,
        repeat_count=1,
        steps=[
            {"kind": "notify_oncall"},
            {"kind": "notify_team_lead", "delay_minutes": 5},
        ],
    )
    ticket = make_ticket(make_org(), subject="DB down", team=ops)
    with frozen_at(SUNDAY_23):
        escalation = escalation_start(ticket=ticket, reason="monitoring")
        drain()
    assert escalation is not None
    return ticket, escalation, engineer, agent


def _page(client: Client, ticket) -> str:
    response = client.get(f"/tickets/{ticket.reference}/", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    return response.content.decode()


def test_panel_shows_policy_step_deliveries_and_next_step(escalated, client):
    ticket, _escalation, engineer, agent = escalated
    client.force_login(agent)
    html = _page(client, ticket)
    assert 'id="escalation-panel"' in html
    assert "Night chain" in html and "repeats 1 time" in html
    assert "Notify the team lead" in html and 'aria-current="step"' in html
    assert engineer.staff_profile.display_name in html
    assert "Screen · " in html and "Email · " in html  # no rules: screen notice and email
    # The next step (the lead, 5 minutes after the first) is due at 23:05 Seoul.
    assert "12-06 23:05" in html
    assert "Acknowledge" in html


def test_acknowledge_button_re_renders_the_panel_over_htmx(escalated, client):
    ticket, escalation, engineer, _agent = escalated
    client.force_login(engineer)
    url = f"/oncall/escalations/{escalation.pk}/ack/"
    response = client.post(url, headers={"HX-Request": "true", "Accept-Language": "en"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith('<section class="panel" id="escalation-panel">')
    assert "Acknowledged by" in html and engineer.staff_profile.display_name in html
    assert "<form" not in html  # nothing left to acknowledge
    escalation.refresh_from_db()
    assert escalation.state == "acknowledged" and escalation.acknowledged_by == engineer
    # A plain form post (no JavaScript) goes back to the ticket page.
    assert client.post(url).url == f"/tickets/{ticket.reference}/"


def test_someone_who_cannot_see_the_ticket_cannot_acknowledge(escalated, client):
    _ticket, escalation, *_ = escalated
    client.force_login(make_staff(team=team("platform-service")))
    response = client.post(f"/oncall/escalations/{escalation.pk}/ack/")
    assert response.status_code == 404
    escalation.refresh_from_db()
    assert escalation.state == "active"
    assert Client().post(f"/oncall/escalations/{escalation.pk}/ack/").status_code == 302


def test_mobilisation_answers_and_bridge(client):
    ops = team("service-operations")
    people = [make_staff(team=ops, role="engineer"), make_staff(team=ops, role="team_lead")]
    ticket = make_ticket(make_org(), subject="Region down", severity="urgent", team=ops)
    escalation = incident_mobilise(ticket=ticket, bridge="https://meet.example/room-7")
    mobilisation_respond(escalation=escalation, user=people[0], response="coming_in")
    client.force_login(people[1])
    html = _page(client, ticket)
    assert "https://meet.example/room-7" in html
    assert "Coming in" in html and "Notified" in html


def test_panel_costs_one_query_without_escalation_and_two_or_three_with(
    escalated, django_assert_num_queries
):
    ticket, escalation, _engineer, agent = escalated
    quiet = make_ticket(make_org(), subject="Question", team=team("service-operations"))
    with django_assert_num_queries(1):
        assert escalation_panel_context(quiet, agent) is None
    with django_assert_num_queries(2):
        context = escalation_panel_context(ticket, agent)
    assert context is not None
    [row] = context["escalations"]
    assert row["policy"] == "Night chain"
    assert row["next_due_at"] == SUNDAY_23 + timedelta(minutes=5)
    assert {d["delivery"].channel for d in row["deliveries"]} == {"screen", "email"}
    Escalation.objects.filter(pk=escalation.pk).update(bridge="010-0000-0001")
    incident_mobilise_ticket = make_ticket(
        make_org(), subject="Outage", severity="urgent", team=team("service-operations")
    )
    incident_mobilise(ticket=incident_mobilise_ticket)
    with django_assert_num_queries(3):
        escalation_panel_context(incident_mobilise_ticket, agent)
    assert [p["key"] for p in panels_for(ticket=ticket, actor=agent)].count("escalation") == 1
