"""The escalation engine, time-travelled: a weekly rotation, a three-step policy, an alert at
23:00 on a Sunday, the next step when nobody acknowledges, the chain stopped by the link."""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client

from opsdesk.core.clock import frozen_at
from opsdesk.jobs.models import Timer, TimerState
from opsdesk.jobs.timers import timer_cancel, timers_run_due
from opsdesk.notify.models import AgentNotice, Delivery
from opsdesk.oncall.models import Escalation
from opsdesk.oncall.selectors import policy_select
from opsdesk.oncall.services import (
    ack_link,
    escalation_start,
    escalation_step_run,
    policy_create,
)
from opsdesk.sla.announce import sla_escalate
from opsdesk.tenancy.enums import StaffRole
from opsdesk.tickets.models import TimelineEvent
from opsdesk.tickets.services import ticket_status_change
from tests.api.conftest import client_for
from tests.factories import make_org, make_staff, make_ticket, team
from tests.oncall.helpers import drain, seoul, weekly_oncall

pytestmark = pytest.mark.django_db

SUNDAY_23 = seoul(2026, 12, 6, 23)


@pytest.fixture
def setup():
    support = team("service-support")
    engineer = make_staff(team=support, role="engineer")
    other = make_staff(team=support, role="engineer")
    lead = make_staff(team=support, role="team_lead")
    head = make_staff(staff_role=StaffRole.CENTRE_HEAD)
    for person in (engineer, other, lead, head):
        person.email = f"{person.username}@opsdesk.example"
        person.save(update_fields=["email"])
    weekly_oncall(support, [engineer, other], start=date(2026, 11, 30))
    policy = policy_create(
        name="after hours",
        team=support,
        mode="after_hours",
        steps=[
            {"kind": "notify_oncall", "delay_minutes": 0},
            {"kind": "notify_team_lead", "delay_minutes": 5},
            {"kind": "notify_centre_head", "delay_minutes": 10},
        ],
    )
    with frozen_at(SUNDAY_23):
        ticket = make_ticket(make_org(), subject="DB down", technical_team=support)
    return {
        "team": support,
        "engineer": engineer,
        "lead": lead,
        "head": head,
        "policy": policy,
        "ticket": ticket,
    }


def _mailed_to(person) -> list[str]:
    return [str(m.subject) for m in mail.outbox if person.email in m.to]


def test_policy_selection_by_mode(setup):
    business = policy_create(
        name="day", team=setup["team"], mode="business", steps=[{"kind": "notify_team"}]
    )
    assert policy_select(ticket=setup["ticket"], at=SUNDAY_23)[0] == setup["policy"]
    assert policy_select(ticket=setup["ticket"], at=seoul(2026, 12, 7, 10))[0] == business


def test_sunday_night_chain_steps_then_stops_on_the_signed_link(setup):
    engineer, lead, head, ticket = setup["engineer"], setup["lead"], setup["head"], setup["ticket"]
    with frozen_at(SUNDAY_23):
        escalation = escalation_start(ticket=ticket, reason="alert")
        assert escalation is not None
        assert escalation_start(ticket=ticket, reason="again") == escalation  # idempotent
        drain()
    assert len(_mailed_to(engineer)) == 1
    assert AgentNotice.objects.filter(recipient=engineer, kind="escalation").count() == 1
    assert _mailed_to(lead) == []
    with frozen_at(SUNDAY_23 + timedelta(minutes=4)):
        assert drain() == 0
    with frozen_at(SUNDAY_23 + timedelta(minutes=5)):
        drain()
    assert len(_mailed_to(lead)) == 1
    assert _mailed_to(head) == []
    # The lead opens the link: GET only confirms, POST acknowledges.
    link = ack_link(escalation=escalation, user=lead)
    path = link.split("://", 1)[1].split("/", 1)[1]
    client = Client()
    assert client.get(f"/{path}").status_code == 200
    escalation.refresh_from_db()
    assert escalation.state == "active"
    assert client.post(f"/{path}").status_code == 200
    escalation.refresh_from_db()
    assert (escalation.state, escalation.acknowledged_by) == ("acknowledged", lead)
    assert Timer.objects.get(key=f"esc:{escalation.pk}").state == TimerState.CANCELLED
    with frozen_at(SUNDAY_23 + timedelta(minutes=30)):
        drain()
    assert _mailed_to(head) == []
    kinds = [
        e.data.get("oncall")
        for e in TimelineEvent.objects.filter(ticket=ticket).order_by("id")
        if e.data.get("oncall")
    ]
    assert kinds == ["started", "step", "step", "acknowledged"]


def test_a_tampered_or_foreign_link_acknowledges_nothing(setup):
    with frozen_at(SUNDAY_23):
        escalation = escalation_start(ticket=setup["ticket"], reason="alert")
    assert escalation is not None
    link = ack_link(escalation=escalation, user=setup["lead"])
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    assert Client().post(path.replace("/ack/", "/ack/x")).status_code == 404
    escalation.refresh_from_db()
    assert escalation.state == "active"


def test_stale_token_and_old_step_runs_exit(setup):
    with frozen_at(SUNDAY_23):
        escalation = escalation_start(ticket=setup["ticket"], reason="alert")
        assert escalation is not None
        payload = dict(Timer.objects.get(key=f"esc:{escalation.pk}").payload)
        stale = {**payload, "token": "0" * 16}
        assert escalation_step_run(escalation_id=escalation.pk, payload=stale) is False
        assert escalation_step_run(escalation_id=escalation.pk, payload=payload) is True
        # The same step again (a duplicate run) exits: the escalation moved on.
        assert escalation_step_run(escalation_id=escalation.pk, payload=payload) is False
    assert Delivery.objects.filter(user=setup["engineer"]).count() == 2  # screen + email


def test_two_ticks_on_the_same_due_step_send_once(setup):
    with frozen_at(SUNDAY_23):
        escalation_start(ticket=setup["ticket"], reason="alert")
        assert timers_run_due(worker_id="w1") == 1
        assert timers_run_due(worker_id="w2") == 2  # the two deliveries, not the step again
        assert timers_run_due(worker_id="w1") == 0
    assert Delivery.objects.filter(user=setup["engineer"], status="sent").count() == 2
    assert len(_mailed_to(setup["engineer"])) == 1


def test_resolving_the_ticket_stops_everything(setup):
    ticket = setup["ticket"]
    with frozen_at(SUNDAY_23):
        escalation = escalation_start(ticket=ticket, reason="alert")
        drain()
        ticket_status_change(ticket=ticket, actor=setup["lead"], status="resolved")
    assert escalation is not None
    with frozen_at(SUNDAY_23 + timedelta(minutes=5)):
        drain()
    escalation.refresh_from_db()
    assert escalation.state == "resolved"
    assert _mailed_to(setup["lead"]) == []


def test_repeat_then_exhausted(setup):
    support = setup["team"]
    policy_create(
        name="contract",
        team=support,
        contract=None,
        mode="any",
        repeat_count=1,
        steps=[{"kind": "notify_user", "user": setup["head"], "delay_minutes": 1}],
    )
    setup["policy"].is_active = False
    setup["policy"].save(update_fields=["is_active"])
    with frozen_at(SUNDAY_23):
        escalation = escalation_start(ticket=setup["ticket"], reason="alert")
    assert escalation is not None
    for minute in (1, 2, 3, 4):
        with frozen_at(SUNDAY_23 + timedelta(minutes=minute)):
            drain()
    escalation.refresh_from_db()
    assert escalation.state == "exhausted"
    assert len(_mailed_to(setup["head"])) == 2


def test_api_acknowledge_and_scope(setup):
    with frozen_at(SUNDAY_23):
        escalation = escalation_start(ticket=setup["ticket"], reason="alert")
    assert escalation is not None
    outsider = client_for(make_staff(team=team("platform-service")))
    assert outsider.post(f"/oncall/escalations/{escalation.pk}/ack", {}).status_code == 404
    response = client_for(setup["lead"]).post(f"/oncall/escalations/{escalation.pk}/ack", {})
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "acknowledged"
    assert response.json()["acknowledged_by"] == setup["lead"].username


def test_sla_hook_starts_the_escalation_or_falls_back(setup):
    ticket = setup["ticket"]
    with frozen_at(SUNDAY_23):
        sla_escalate(ticket=ticket, kind="breach", metric="first_response", due_at=SUNDAY_23)
    assert Escalation.objects.filter(ticket=ticket, state="active").count() == 1
    other = make_ticket(make_org(), subject="Quiet", technical_team=team("platform-service"))
    with frozen_at(seoul(2026, 12, 7, 10)):
        sla_escalate(ticket=other, kind="warning", metric="first_response", due_at=SUNDAY_23)
    assert not Escalation.objects.filter(ticket=other).exists()


def test_audit_reschedules_a_chain_whose_timer_was_lost(setup):
    with frozen_at(SUNDAY_23):
        escalation = escalation_start(ticket=setup["ticket"], reason="alert")
        assert escalation is not None
        timer_cancel(key=f"esc:{escalation.pk}")
        assert drain() == 0
        out = StringIO()
        call_command("oncall", "audit", stdout=out)
        assert out.getvalue().strip() == "rescheduled 1"
        drain()
        call_command("oncall", "audit", stdout=out)
    assert out.getvalue().split() == ["rescheduled", "1", "rescheduled", "0"]
    assert len(_mailed_to(setup["engineer"])) == 1


def test_a_chain_started_with_its_new_ticket_is_the_same_chain_for_fewer_statements(setup):
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from opsdesk.tickets.services import ticket_create

    with frozen_at(SUNDAY_23):
        usual = escalation_start(ticket=setup["ticket"], reason="alert")
        with transaction.atomic():
            ticket = ticket_create(
                actor=None,
                organisation=setup["ticket"].organisation,
                subject="Disk full",
                kind="incident",
                technical_team=setup["team"],
            )
            with CaptureQueriesContext(connection) as captured:
                fresh = escalation_start(ticket=ticket, reason="alert", new_ticket=True)
    assert fresh is not None and usual is not None
    # The insert, the first step's timer, the timeline entry: no look-up, lock or savepoint
    # (and the configuration check, which tests make on every use).
    statements = [q["sql"] for q in captured.captured_queries]
    stamps = [sql for sql in statements if sql.startswith("SELECT (SELECT COUNT(*)")]
    assert len(stamps) == 1 and len(statements) == 4
    assert fresh.snapshot == usual.snapshot and fresh.policy_id == usual.policy_id
    stored = Escalation.objects.get(pk=fresh.pk)
    assert (stored.state, stored.step_index, stored.run_token) == ("active", 0, fresh.run_token)
    assert Timer.objects.get(key=f"esc:{fresh.pk}").state == TimerState.PENDING
    entry = TimelineEvent.objects.get(ticket=ticket, kind="system")
    assert entry.data["escalation"] == fresh.pk and "after hours" in entry.body


def test_an_edited_policy_reaches_the_next_chain(setup):
    from opsdesk.oncall.models import EscalationStep

    step = EscalationStep.objects.get(policy=setup["policy"], order=1)
    step.delay_minutes = 2
    step.save()  # as the admin does; the policy cache is rebuilt
    with frozen_at(SUNDAY_23):
        escalation = escalation_start(ticket=setup["ticket"], reason="alert")
    assert [s["delay_minutes"] for s in escalation.snapshot["steps"]] == [0, 2, 10]
    setup["policy"].is_active = False
    setup["policy"].save()
    with frozen_at(SUNDAY_23):
        other = make_ticket(make_org(), subject="Queue stuck", technical_team=setup["team"])
        assert escalation_start(ticket=other, reason="alert") is None
