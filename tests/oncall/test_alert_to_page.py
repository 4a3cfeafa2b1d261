"""The issue's walk-through: a weekly rotation and a three-step policy, a monitoring alert at
23:00 on a Sunday, the on-call engineer notified, the next step when nobody acknowledges, and
the chain stopped by the link in the message."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client

from opsdesk.alerts.services import integration_create
from opsdesk.core.clock import frozen_at
from opsdesk.notify.models import Delivery
from opsdesk.oncall.models import Escalation
from opsdesk.oncall.services import ack_link, policy_create
from opsdesk.tickets.models import Ticket
from tests.alerts.conftest import webhook
from tests.factories import make_org, make_staff, team
from tests.oncall.helpers import drain, seoul, weekly_oncall

pytestmark = pytest.mark.django_db

SUNDAY_23 = seoul(2026, 12, 6, 23)


def _notified(person) -> bool:
    return Delivery.objects.filter(user=person).exists()


def test_alert_on_sunday_night_pages_the_oncall_then_the_lead_until_acknowledged():
    ops = team("service-operations")
    engineer = make_staff(team=ops, role="engineer")
    colleague = make_staff(team=ops, role="engineer")
    lead = make_staff(team=ops, role="team_lead")
    weekly_oncall(ops, [engineer, colleague], start=date(2026, 11, 30))
    policy_create(
        name="after hours",
        team=ops,
        mode="after_hours",
        steps=[
            {"kind": "notify_oncall", "delay_minutes": 0},
            {"kind": "notify_team_lead", "delay_minutes": 5},
            {"kind": "notify_centre_head", "delay_minutes": 10},
        ],
    )
    org = make_org()
    integration = integration_create(kind="alertmanager", name="prom", organisation=org)
    body = {
        "version": "4",
        "status": "firing",
        "groupKey": '{}:{alertname="DiskFull"}',
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "DiskFull", "instance": "db-1", "severity": "critical"},
                "annotations": {"summary": "Disk full on db-1"},
                "startsAt": "2026-12-06T14:00:00Z",
            }
        ],
    }
    with frozen_at(SUNDAY_23):
        assert webhook(integration, body).status_code == 200
        drain()
    incident = Ticket.objects.get()
    assert incident.channel == "monitoring" and incident.team == ops
    escalation = Escalation.objects.get(ticket=incident)
    assert _notified(engineer) and not _notified(lead)
    with frozen_at(SUNDAY_23 + timedelta(minutes=5)):
        drain()
    assert _notified(lead)
    # The on-call engineer acknowledges from the link in the message.
    with frozen_at(SUNDAY_23 + timedelta(minutes=6)):
        url = ack_link(escalation=escalation, user=engineer)
        client = Client()
        assert client.get(url).status_code == 200
        escalation.refresh_from_db()
        assert escalation.state == "active"  # a GET (link preview) does not acknowledge
        client.post(url)
    escalation.refresh_from_db()
    assert escalation.state == "acknowledged" and escalation.acknowledged_by == engineer
    sent = Delivery.objects.filter(source=f"escalation:{escalation.pk}").count()
    with frozen_at(SUNDAY_23 + timedelta(minutes=30)):
        drain()
    # The acknowledged chain stops: its third step (the centre head) never runs.
    assert Delivery.objects.filter(source=f"escalation:{escalation.pk}").count() == sent
