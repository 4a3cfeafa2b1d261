from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from opsdesk.tenancy.models import ContactPhone, OrganisationPhone, StaffProfile
from opsdesk.tickets.models import Ticket, TimelineEvent

pytestmark = pytest.mark.django_db

FICTIONAL = re.compile(r"^\+82(10|2)0000\d{4}$")


def test_demo_loads_fictional_data_and_prints_logins():
    out = StringIO()
    call_command("demo", "--tickets", "40", stdout=out)
    text = out.getvalue()
    assert "agent1" in text and "opsdesk-demo" in text
    assert Ticket.objects.count() == 41  # and the monitoring incident of the on-call demo
    assert {t.channel for t in Ticket.objects.all()} >= {"phone", "email"}
    assert Ticket.objects.filter(status="closed").exists()
    # Histories are back-dated but ordered: no event before its ticket was opened.
    for ticket in Ticket.objects.all()[:10]:
        times = list(
            TimelineEvent.objects.filter(ticket=ticket).values_list("created_at", flat=True)
        )
        assert times[0] == ticket.created_at and times == sorted(times)
    numbers = [
        *ContactPhone.objects.values_list("number", flat=True),
        *OrganisationPhone.objects.values_list("number", flat=True),
        *StaffProfile.objects.values_list("phone", flat=True),
    ]
    assert numbers and all(FICTIONAL.match(n) for n in numbers)
    with pytest.raises(CommandError):
        call_command("demo", stdout=StringIO())
    call_command("demo", "--if-empty", stdout=StringIO())
    assert Ticket.objects.count() == 41


def test_demo_has_an_on_call_network_and_a_monitoring_incident_being_escalated():
    from opsdesk.alerts.models import Alert, Silence
    from opsdesk.oncall.models import Escalation
    from opsdesk.oncall.selectors import oncall_who
    from opsdesk.tenancy.models import Team

    call_command("demo", "--tickets", "10", stdout=StringIO())
    alert = Alert.objects.get(labels__alertname="HighDiskUsage")
    incident = alert.group.incident
    assert incident.kind == "incident" and incident.channel == "monitoring"
    assert incident.status not in ("resolved", "closed")
    escalation = Escalation.objects.get(ticket=incident)
    assert escalation.state == "active"
    assert Silence.objects.filter(kind="maintenance").count() == 1
    for team in Team.objects.all():
        assert oncall_who(team=team, at=incident.created_at)  # someone is always reachable
