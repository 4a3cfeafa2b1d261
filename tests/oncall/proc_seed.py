"""Seed the real-process test's database: an on-call engineer reached by Slack, a one-step
policy and a started escalation. Run as `python -m tests.oncall.proc_seed`."""

from __future__ import annotations

from datetime import time, timedelta

import django


def main() -> None:
    django.setup()
    from opsdesk.core.clock import now
    from opsdesk.oncall.services import (
        contact_method_set,
        escalation_start,
        notification_rule_add,
        policy_create,
        rotation_add,
        schedule_create,
    )
    from tests.factories import make_org, make_staff, make_ticket, team

    support = team("service-support")
    engineer = make_staff(team=support, role="engineer")
    contact_method_set(user=engineer, channel="slack", address="C0001")
    notification_rule_add(user=engineer, channel="slack")
    for kind in ("on_call", "on_site"):
        schedule = schedule_create(team=support, name=kind, kind=kind)
        rotation_add(
            schedule=schedule,
            participants=[engineer],
            start_date=(now() - timedelta(days=3)).date(),
            handoff_time=time(0),
        )
    policy_create(name="all", team=support, steps=[{"kind": "notify_oncall"}])
    # A major incident: paged at once whatever the hour (quiet hours do not apply).
    ticket = make_ticket(
        make_org(), subject="Node down", severity="complex", technical_team=support
    )
    escalation_start(ticket=ticket, reason="process test")


if __name__ == "__main__":
    main()
