"""`oncall audit`: gaps in coverage in the next 7 days reach the team leads, once; the daily
09:00 Seoul periodic job runs it; escalations whose step timer is gone are rescheduled."""

from __future__ import annotations

from datetime import date, time, timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from opsdesk.core.clock import frozen_at
from opsdesk.jobs.models import Timer, TimerState
from opsdesk.jobs.periodic import Daily, periodic_ensure, periodic_get
from opsdesk.notify.models import AgentNotice
from opsdesk.oncall.audit import oncall_audit, oncall_coverage_audit
from opsdesk.oncall.selectors import coverage_gaps
from opsdesk.oncall.services import escalation_start, override_add, policy_create
from tests.factories import make_org, make_staff, make_ticket, team
from tests.oncall.helpers import drain, seoul, weekly_oncall

pytestmark = pytest.mark.django_db

MONDAY_9 = seoul(2026, 12, 7, 9)


def test_gaps_are_the_stretches_nobody_covers_across_the_teams_schedules():
    ops = team("service-operations")
    a, b = make_staff(team=ops, role="engineer"), make_staff(team=ops, role="engineer")
    # The rotation starts on Wednesday 09:00: Monday and Tuesday are uncovered...
    schedule = weekly_oncall(ops, [a], start=date(2026, 12, 9))
    # ...except Monday night, which b covers.
    override_add(
        schedule=schedule, user=b, starts_at=seoul(2026, 12, 7, 18), ends_at=seoul(2026, 12, 8, 9)
    )
    gaps = coverage_gaps(team=ops, start=MONDAY_9, end=MONDAY_9 + timedelta(days=7))
    assert gaps == [
        (MONDAY_9, seoul(2026, 12, 7, 18)),
        (seoul(2026, 12, 8, 9), seoul(2026, 12, 9, 9)),
    ]
    b.is_active = False  # someone who left covers nothing
    b.save(update_fields=["is_active"])
    gaps = coverage_gaps(team=ops, start=MONDAY_9, end=MONDAY_9 + timedelta(days=7))
    assert gaps == [(MONDAY_9, seoul(2026, 12, 9, 9))]


def test_leads_get_one_notice_per_change_and_a_leaderless_team_reaches_the_centre_head():
    ops = team("service-operations")
    support = team("service-support")
    lead = make_staff(team=ops, role="team_lead")
    engineer = make_staff(team=ops, role="engineer")
    head = make_staff(staff_role="centre_head")
    weekly_oncall(ops, [engineer], start=date(2026, 12, 9))
    weekly_oncall(support, [make_staff(team=support, role="engineer")], start=date(2026, 12, 1))
    with frozen_at(MONDAY_9):
        [row] = oncall_coverage_audit()  # support is covered all week: not reported
    assert row.team == ops and row.notified == [lead]
    notice = AgentNotice.objects.get(recipient=lead)
    assert notice.kind == "oncall_gap"
    assert "2026-12-07 09:00 – 2026-12-09 09:00" in notice.body
    with frozen_at(MONDAY_9 + timedelta(hours=1)):
        [again] = oncall_coverage_audit()
    # The same gaps an hour later (a manual run, a recovered timer): no second notice...
    assert again.notified == [] and AgentNotice.objects.filter(recipient=lead).count() == 1
    # ...but a gap that changed is news.
    with frozen_at(MONDAY_9 + timedelta(hours=2)):
        override_add(
            schedule=ops.schedules.get(),
            user=engineer,
            starts_at=seoul(2026, 12, 8, 0),
            ends_at=seoul(2026, 12, 8, 6),
        )
        oncall_coverage_audit()
    assert AgentNotice.objects.filter(recipient=lead).count() == 2

    lead.memberships.update(role="engineer")
    with frozen_at(MONDAY_9):
        [row] = oncall_coverage_audit()
    assert row.notified == [head]


def test_the_daily_job_at_0900_seoul_runs_the_audit():
    job = periodic_get("oncall-audit")
    assert job is not None and job.schedule == Daily(at=time(9, 0), zone="Asia/Seoul")
    ops = team("service-operations")
    lead = make_staff(team=ops, role="team_lead")
    weekly_oncall(ops, [make_staff(team=ops, role="engineer")], start=date(2026, 12, 10))
    with frozen_at(seoul(2026, 12, 6, 22)):
        periodic_ensure()
    row = Timer.objects.get(key="periodic:oncall-audit")
    assert row.due_at == seoul(2026, 12, 7, 9)
    with frozen_at(seoul(2026, 12, 7, 8, 59)):
        drain()
    assert not AgentNotice.objects.filter(recipient=lead).exists()
    with frozen_at(seoul(2026, 12, 7, 9)):
        drain()
    assert AgentNotice.objects.filter(recipient=lead, kind="oncall_gap").count() == 1
    row.refresh_from_db()
    assert row.state == TimerState.PENDING and row.due_at == seoul(2026, 12, 8, 9)


def test_audit_reschedules_an_escalation_whose_step_timer_is_gone_and_cli_prints_gaps():
    ops = team("service-operations")
    engineer = make_staff(team=ops, role="engineer")
    weekly_oncall(ops, [engineer], start=date(2026, 12, 10))
    policy_create(name="p", team=ops, steps=[{"kind": "notify_user", "user": engineer}])
    with frozen_at(MONDAY_9):
        escalation = escalation_start(ticket=make_ticket(make_org(), team=ops), reason="test")
        assert escalation is not None
        timer_key = f"esc:{escalation.pk}"
        Timer.objects.filter(key=timer_key).update(state=TimerState.FAILED)
        report = oncall_audit()
        assert report.rescheduled == 1
        assert Timer.objects.get(key=timer_key).state == TimerState.PENDING
        out = StringIO()
        call_command("oncall", "audit", stdout=out)
    text = out.getvalue()
    assert "rescheduled 0" in text
    assert "service-operations: 1 gap(s)" in text
    assert "2026-12-07 09:00 - 2026-12-10 09:00" in text
