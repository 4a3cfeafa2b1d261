"""Escalations and quiet hours (issue 6, "non-urgent work respects quiet hours"): a simple
incident at 23:00 reaches an engineer whose nights are quiet at 07:00; urgent and major
incidents and SLA breaches page at once; acknowledging withdraws the pages still waiting.
Time-travelled through the durable timers, Slack a fake on 127.0.0.1."""

from __future__ import annotations

import json
from datetime import date, time, timedelta

import pytest
from django.core import mail

from opsdesk.core.clock import frozen_at
from opsdesk.jobs.models import Timer
from opsdesk.notify.models import Delivery
from opsdesk.notify.outbox import DELIVERY_TIMER
from opsdesk.notify.services import quiet_hours_set
from opsdesk.oncall.mobilise import incident_mobilise, mobilisation_respond
from opsdesk.oncall.models import Escalation
from opsdesk.oncall.services import (
    contact_method_set,
    escalation_acknowledge,
    escalation_start,
    notification_rule_add,
    policy_create,
)
from opsdesk.sla.announce import sla_escalate
from opsdesk.tickets.models import TimelineEvent
from opsdesk.tickets.services import ticket_status_change
from tests.factories import make_org, make_staff, make_ticket, team
from tests.notify.fakes import fake_provider
from tests.notify.test_channels import _slack
from tests.oncall.helpers import drain, seoul, weekly_oncall

pytestmark = pytest.mark.django_db

SUNDAY_23 = seoul(2026, 12, 6, 23)
MONDAY_07 = seoul(2026, 12, 7, 7)


@pytest.fixture
def slack(settings):
    with fake_provider(_slack) as server:
        settings.OPSDESK_SLACK_BASE_URL = f"{server.base_url}/api"
        settings.OPSDESK_SLACK_TOKEN = "xoxb-test"
        yield server


@pytest.fixture
def oncall(slack):
    """An engineer on call tonight, reached by Slack (urgent rules only), whose nights are
    quiet from 22:00 to 07:00; a policy that pages the on-call and, 5 minutes later, the lead."""
    support = team("service-support")
    engineer = make_staff(team=support, role="engineer")
    lead = make_staff(team=support, role="team_lead")
    weekly_oncall(support, [engineer], start=date(2026, 11, 30))
    for person, address in ((engineer, "C0001"), (lead, "C0002")):
        contact_method_set(user=person, channel="slack", address=address)
        notification_rule_add(user=person, channel="slack")
        quiet_hours_set(user=person, starts=time(22), ends=time(7), timezone="Asia/Seoul")
    policy_create(
        name="nights",
        team=support,
        steps=[
            {"kind": "notify_oncall"},
            {"kind": "notify_team_lead", "delay_minutes": 5},
        ],
    )
    return {"team": support, "engineer": engineer, "lead": lead, "slack": slack}


def _incident(oncall, **fields):
    with frozen_at(SUNDAY_23):
        return make_ticket(make_org(), subject="DB slow", technical_team=oncall["team"], **fields)


def _page(person) -> Delivery:
    return Delivery.objects.get(user=person, channel="slack")


def _tick(at) -> None:
    with frozen_at(at):
        drain()


def test_a_simple_incident_at_night_reaches_the_engineer_when_quiet_hours_end(oncall):
    ticket = _incident(oncall, severity="simple")
    with frozen_at(SUNDAY_23):
        escalation = escalation_start(ticket=ticket, reason="Monitoring alert: DB slow")
        drain()
    assert escalation is not None and escalation.snapshot["urgent"] is False
    page = _page(oncall["engineer"])
    assert (page.status, page.urgent, page.not_before) == ("queued", False, MONDAY_07)
    timer = Timer.objects.get(key=f"delivery:{page.pk}")
    assert (timer.kind, timer.due_at) == (DELIVERY_TIMER, MONDAY_07)
    _tick(seoul(2026, 12, 7, 6, 59))
    assert oncall["slack"].requests == []
    _tick(MONDAY_07)
    page.refresh_from_db()
    assert (page.status, page.sent_at) == ("sent", MONDAY_07)
    assert [json.loads(r.body)["channel"] for r in oncall["slack"].requests[:1]] == ["C0001"]


@pytest.mark.parametrize(
    "fields",
    [{"severity": "complex"}, {"severity": "urgent"}, {"severity": "simple", "priority": "urgent"}],
)
def test_urgent_and_major_incidents_page_at_once(oncall, fields):
    ticket = _incident(oncall, **fields)
    with frozen_at(SUNDAY_23):
        escalation = escalation_start(ticket=ticket, reason="Monitoring alert: DB down")
        drain()
    assert escalation is not None and escalation.snapshot["urgent"] is True
    page = _page(oncall["engineer"])
    assert (page.status, page.urgent, page.not_before, page.sent_at) == (
        "sent",
        True,
        None,
        SUNDAY_23,
    )
    assert len(oncall["slack"].requests) == 1


def test_an_sla_breach_pages_at_once(oncall):
    ticket = _incident(oncall, severity="simple")
    with frozen_at(SUNDAY_23):
        sla_escalate(ticket=ticket, kind="breach", metric="first_response", due_at=SUNDAY_23)
        drain()
    escalation = Escalation.objects.get(ticket=ticket)
    assert escalation.snapshot["urgent"] is True
    assert _page(oncall["engineer"]).status == "sent"


def test_a_breach_after_a_warning_makes_the_waiting_chain_urgent(oncall):
    """The warning starts a non-urgent chain whose page waits; the breach joins it, and the
    waiting page goes now, as do the chain's later steps."""
    ticket = _incident(oncall, severity="simple")
    with frozen_at(SUNDAY_23):
        sla_escalate(ticket=ticket, kind="warning", metric="resolution", due_at=SUNDAY_23)
        drain()
    waiting = _page(oncall["engineer"])
    assert (waiting.status, waiting.not_before) == ("queued", MONDAY_07)
    with frozen_at(SUNDAY_23 + timedelta(minutes=2)):
        sla_escalate(ticket=ticket, kind="breach", metric="resolution", due_at=SUNDAY_23)
        drain()
    escalation = Escalation.objects.get(ticket=ticket)
    assert (escalation.state, escalation.snapshot["urgent"]) == ("active", True)
    waiting.refresh_from_db()
    assert (waiting.status, waiting.urgent, waiting.not_before) == ("sent", True, None)
    assert TimelineEvent.objects.filter(ticket=ticket, data__oncall="urgent").count() == 1
    _tick(SUNDAY_23 + timedelta(minutes=5))  # the lead's step
    lead_page = _page(oncall["lead"])
    assert (lead_page.status, lead_page.urgent) == ("sent", True)


def test_acknowledging_withdraws_the_pages_waiting_for_quiet_hours(oncall):
    ticket = _incident(oncall, severity="simple")
    with frozen_at(SUNDAY_23):
        escalation = escalation_start(ticket=ticket, reason="Monitoring alert: DB slow")
        drain()
    assert escalation is not None
    waiting = _page(oncall["engineer"])
    assert waiting.status == "queued"
    with frozen_at(SUNDAY_23 + timedelta(minutes=3)):
        # The colleague on site saw the ticket on screen and took it.
        escalation_acknowledge(escalation=escalation, user=make_staff(team=oncall["team"]))
    waiting.refresh_from_db()
    assert waiting.status == "cancelled"
    assert Timer.objects.get(key=f"delivery:{waiting.pk}").state == "cancelled"
    _tick(SUNDAY_23 + timedelta(minutes=5))  # the lead's step exits
    _tick(MONDAY_07)
    assert oncall["slack"].requests == []
    assert not Delivery.objects.filter(user=oncall["lead"]).exists()


def test_a_chain_stopped_by_resolution_withdraws_its_waiting_pages(oncall):
    ticket = _incident(oncall, severity="simple")
    with frozen_at(SUNDAY_23):
        escalation = escalation_start(ticket=ticket, reason="Monitoring alert: DB slow")
        drain()
        ticket_status_change(ticket=ticket, actor=oncall["lead"], status="resolved")
    assert escalation is not None
    _tick(SUNDAY_23 + timedelta(minutes=5))  # the next step finds the ticket resolved
    escalation.refresh_from_db()
    assert escalation.state == "resolved"
    assert _page(oncall["engineer"]).status == "cancelled"
    assert not Delivery.objects.filter(user=oncall["lead"]).exists()


def test_non_urgent_chains_follow_the_non_urgent_rules(oncall, settings):
    """An engineer with rules for both: Slack when it is urgent, only email when it is not
    (and that email waits for the end of the night)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    engineer = oncall["engineer"]
    engineer.email = "oncall.engineer@opsdesk.example"
    engineer.save(update_fields=["email"])
    notification_rule_add(user=engineer, channel="email", urgent=False)
    simple = _incident(oncall, severity="simple")
    major = _incident(oncall, severity="complex")
    with frozen_at(SUNDAY_23):
        escalation_start(ticket=simple, reason="simple")
        escalation_start(ticket=major, reason="major")
        drain()
    channels = dict(Delivery.objects.filter(user=engineer).values_list("ticket", "channel"))
    assert channels == {simple.pk: "email", major.pk: "slack"}
    assert len(oncall["slack"].requests) == 1 and mail.outbox == []
    _tick(MONDAY_07)
    assert [m.to for m in mail.outbox] == [[engineer.email]]


def test_a_mobilisation_still_reaches_everyone_after_the_first_answer(oncall):
    """Mobilised pages are urgent: the first person's answer acknowledges the chain but must
    not withdraw the calls to the others that have not gone out yet."""
    ticket = _incident(oncall, severity="urgent")
    with frozen_at(SUNDAY_23):
        escalation = incident_mobilise(ticket=ticket)
        mobilisation_respond(escalation=escalation, user=oncall["lead"], response="coming_in")
        drain()
    assert _page(oncall["engineer"]).status == "sent"


def test_a_night_chain_that_ran_out_can_still_be_taken_and_its_held_pages_withdrawn(oncall):
    ticket = _incident(oncall, severity="simple")
    with frozen_at(SUNDAY_23):
        escalation = escalation_start(ticket=ticket, reason="Monitoring alert: DB slow")
        drain()
    _tick(SUNDAY_23 + timedelta(minutes=30))  # both steps ran; every page waits for 07:00
    escalation.refresh_from_db()
    assert escalation.state == "exhausted" and escalation.acknowledgeable
    with frozen_at(SUNDAY_23 + timedelta(minutes=31)):
        taken = escalation_acknowledge(escalation=escalation, user=oncall["lead"])
    assert (taken.state, taken.acknowledged_by) == ("acknowledged", oncall["lead"])
    assert set(Delivery.objects.filter(channel="slack").values_list("status", flat=True)) == {
        "cancelled"
    }
    _tick(MONDAY_07)
    assert oncall["slack"].requests == []


def test_the_ticket_page_says_until_when_a_page_is_held(oncall, client):
    ticket = _incident(oncall, severity="simple")
    with frozen_at(SUNDAY_23):
        escalation_start(ticket=ticket, reason="Monitoring alert: DB slow")
        drain()
    client.force_login(oncall["lead"])
    with frozen_at(SUNDAY_23 + timedelta(minutes=1)):
        html = client.get(f"/tickets/{ticket.reference}/", HTTP_ACCEPT_LANGUAGE="en").content
    assert b"held for quiet hours until 12-07 07:00" in html


def test_mobilising_a_ticket_raised_to_urgent_sends_its_held_pages_now(oncall):
    ticket = _incident(oncall, severity="simple")
    with frozen_at(SUNDAY_23):
        escalation = escalation_start(ticket=ticket, reason="Monitoring alert: DB slow")
        drain()
    assert _page(oncall["engineer"]).status == "queued"  # held for the engineer's night
    ticket.severity = "urgent"  # raised by the lead (the UI goes through ticket_update)
    ticket.save(update_fields=["severity"])
    with frozen_at(SUNDAY_23 + timedelta(minutes=2)):
        mobilised = incident_mobilise(ticket=ticket)
        drain()
    assert mobilised.pk == escalation.pk and mobilised.snapshot["urgent"] is True
    assert {d.status for d in Delivery.objects.filter(channel="slack")} == {"sent"}
    assert len(oncall["slack"].requests) >= 2  # the engineer's held page and the lead's
