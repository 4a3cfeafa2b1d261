"""SLA warnings and breaches fire from durable timers, once per deadline."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail

from opsdesk.core.clock import frozen_at, now
from opsdesk.jobs.models import Timer
from opsdesk.jobs.timers import timers_run_due
from opsdesk.notify.models import AgentNotice
from opsdesk.sla.models import SlaAlert
from opsdesk.tenancy.enums import MemberRole
from opsdesk.tickets.enums import EventKind
from opsdesk.tickets.models import TimelineEvent
from opsdesk.tickets.services import ticket_reply_add
from tests.factories import make_staff, make_ticket, team

pytestmark = pytest.mark.django_db


def _sla_events(ticket):
    return list(
        TimelineEvent.objects.filter(ticket=ticket, kind=EventKind.SYSTEM).values_list(
            "data__sla", flat=True
        )
    )


def test_warning_then_breach_reach_the_assignee_and_the_lead_once():
    ops = team("service-operations")
    agent = make_staff(team=ops)
    agent.email = "agent@opsdesk.example"
    agent.save()
    lead = make_staff(team=ops, role=MemberRole.TEAM_LEAD)
    lead.email = "lead@opsdesk.example"
    lead.save()
    start = now()
    with frozen_at(start):
        ticket = make_ticket(priority="urgent", team=ops, assignee=agent)  # 15 calendar minutes
    assert Timer.objects.filter(key=f"sla:warning:{ticket.pk}").exists()
    with frozen_at(start + timedelta(minutes=11)):
        timers_run_due(worker_id="w")
    assert _sla_events(ticket) == []
    with frozen_at(start + timedelta(minutes=12)):  # 75 % of 15 minutes
        timers_run_due(worker_id="w")
        timers_run_due(worker_id="w")
    assert _sla_events(ticket) == ["warning"]
    recipients = {address for message in mail.outbox for address in message.to}
    assert recipients == {"agent@opsdesk.example", "lead@opsdesk.example"}
    assert len(mail.outbox) == 1
    assert AgentNotice.objects.filter(kind="sla_warning", recipient=lead).count() == 1
    with frozen_at(start + timedelta(minutes=15)):
        timers_run_due(worker_id="w")
    assert _sla_events(ticket) == ["warning", "breach"]
    assert SlaAlert.objects.filter(ticket=ticket).count() == 2


def test_a_reply_before_the_deadline_means_no_breach():
    ops = team("service-operations")
    agent = make_staff(team=ops)
    start = now()
    with frozen_at(start):
        ticket = make_ticket(priority="urgent", team=ops, assignee=agent)
    with frozen_at(start + timedelta(minutes=5)):
        ticket_reply_add(ticket=ticket, actor=agent, body="on it")
    with frozen_at(start + timedelta(minutes=16)):
        timers_run_due(worker_id="w")
    ticket.refresh_from_db()
    # First response was met; the next deadline (resolution) is days away.
    assert _sla_events(ticket) == []
    assert not SlaAlert.objects.filter(ticket=ticket).exists()
    assert ticket.due_at > start + timedelta(days=1)


def test_mail_server_down_keeps_the_announcement_and_says_so(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = 9  # discard port: nothing listens, connection refused
    ops = team("service-operations")
    agent = make_staff(team=ops)
    agent.email = "agent@opsdesk.example"
    agent.save()
    start = now()
    with frozen_at(start):
        ticket = make_ticket(priority="urgent", team=ops, assignee=agent)
    with frozen_at(start + timedelta(minutes=12)):
        timers_run_due(worker_id="w")
    timer = Timer.objects.get(key=f"sla:warning:{ticket.pk}")
    assert timer.state == "done" and timer.attempts == 0
    assert _sla_events(ticket) == ["warning", None]
    failed = TimelineEvent.objects.filter(ticket=ticket, data__sla_mail_failed=True).get()
    assert "could not be sent" in failed.body
    assert AgentNotice.objects.filter(kind="sla_warning", recipient=agent).count() == 1
