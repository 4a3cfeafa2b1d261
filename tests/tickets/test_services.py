from __future__ import annotations

import pytest

from opsdesk.core.errors import InvalidInput
from opsdesk.tickets.enums import EventKind, Status
from opsdesk.tickets.models import TimelineEvent
from opsdesk.tickets.services import (
    ticket_assign,
    ticket_note_add,
    ticket_reply_add,
    ticket_status_change,
    ticket_update,
)
from tests.factories import make_contract, make_org, make_staff, make_ticket, team

pytestmark = pytest.mark.django_db


def test_reference_is_sequential_per_kind_and_year():
    org = make_org()
    a = make_ticket(org)
    b = make_ticket(org)
    inc = make_ticket(org, kind="incident")
    assert a.reference.startswith("CSR-") and len(a.reference) == len("CSR-2026-000001")
    assert int(b.reference[-6:]) == int(a.reference[-6:]) + 1
    assert inc.reference.startswith("INC-")
    assert inc.severity == "simple"


def test_routing_by_service_line_and_round_robin():
    ops = team("service-operations")
    first = make_staff(team=ops)
    second = make_staff(team=ops)
    org = make_org()
    contract = make_contract(org, ("consulting",))
    t1 = make_ticket(org, contract=contract)
    t2 = make_ticket(org, contract=contract)
    t3 = make_ticket(org, contract=contract)
    assert t1.team.slug == "service-operations"
    assert t1.technical_team.slug == "service-support"
    assert {t1.assignee, t2.assignee} == {first, second}
    assert t3.assignee == t1.assignee


def test_unavailable_members_are_skipped():
    ops = team("service-operations")
    away = make_staff(team=ops)
    away.staff_profile.is_available = False
    away.staff_profile.save()
    here = make_staff(team=ops)
    org = make_org()
    ticket = make_ticket(org, contract=make_contract(org, ("migration",)))
    assert ticket.assignee == here
    assert ticket.technical_team.slug == "platform-service"


def test_every_change_is_a_timeline_event_with_before_and_after():
    agent = make_staff(team=team("service-operations"))
    other = make_staff(team=team("service-operations"))
    ticket = make_ticket(actor=agent, auto_assign=False)
    ticket = ticket_assign(ticket=ticket, actor=agent, assignee=other)
    ticket = ticket_update(ticket=ticket, actor=agent, changes={"priority": "high"})
    ticket_note_add(ticket=ticket, actor=agent, body="checked the load balancer")
    ticket_reply_add(ticket=ticket, actor=agent, body="We are on it.")
    ticket = ticket_status_change(ticket=ticket, actor=agent, status=Status.RESOLVED)
    kinds = list(TimelineEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert kinds == [
        EventKind.CREATED,
        EventKind.ASSIGNED,
        EventKind.FIELD_CHANGED,
        EventKind.NOTE,
        EventKind.REPLY,
        EventKind.STATUS_CHANGED,
    ]
    assigned = TimelineEvent.objects.get(ticket=ticket, kind=EventKind.ASSIGNED)
    assert assigned.changes["assignee"]["before"] is None
    assert assigned.changes["assignee"]["after"]["id"] == other.pk
    changed = TimelineEvent.objects.get(ticket=ticket, kind=EventKind.FIELD_CHANGED)
    assert changed.changes == {"priority": {"before": "normal", "after": "high"}}
    reply = TimelineEvent.objects.get(ticket=ticket, kind=EventKind.REPLY)
    assert reply.changes["status"] == {"before": "new", "after": "open"}
    ticket.refresh_from_db()
    assert ticket.first_response_at is not None and ticket.resolved_at is not None


def test_timeline_is_append_only():
    ticket = make_ticket()
    event = TimelineEvent.objects.get(ticket=ticket)
    event.body = "rewritten"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        TimelineEvent.objects.filter(ticket=ticket).update(body="x")
    with pytest.raises(TypeError):
        TimelineEvent.objects.filter(ticket=ticket).delete()


def test_status_workflow_rejects_illegal_moves_and_loses_nothing():
    ticket = make_ticket()
    ticket = ticket_status_change(ticket=ticket, actor=None, status=Status.RESOLVED)
    ticket = ticket_status_change(ticket=ticket, actor=None, status=Status.CLOSED)
    with pytest.raises(InvalidInput) as err:
        ticket_status_change(ticket=ticket, actor=None, status=Status.OPEN)
    assert err.value.field == "status"
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    assert TimelineEvent.objects.filter(ticket=ticket).count() == 3


def test_contract_must_cover_service_line():
    org = make_org()
    contract = make_contract(org, ("consulting",))
    with pytest.raises(InvalidInput) as err:
        make_ticket(org, contract=contract, service_line="iaas")
    assert err.value.field == "service_line"
    other = make_org()
    with pytest.raises(InvalidInput):
        make_ticket(other, contract=contract)


def test_assignee_must_be_staff():
    from django.contrib.auth.models import User

    outsider = User.objects.create_user(username="customer", password="x")
    with pytest.raises(InvalidInput):
        make_ticket(assignee=outsider)


def test_unrouted_ticket_goes_to_first_line_triage_not_nowhere():
    ops = team("service-operations")
    agent = make_staff(team=ops)
    ticket = make_ticket(actor=agent)  # no contract, no service line
    assert ticket.team == ops
    assert ticket.assignee == agent


def test_system_events_record_without_changing_fields():
    from opsdesk.tickets.services import ticket_system_event_add

    ticket = make_ticket()
    event = ticket_system_event_add(
        ticket=ticket, actor_label="Alertmanager", body="alert repeated", data={"count": 2}
    )
    assert event.kind == EventKind.SYSTEM and event.data == {"count": 2}
    assert event.actor is None and event.actor_label == "Alertmanager"


def test_routing_sees_an_edited_rule_on_the_next_ticket():
    # Rules and teams come from a per-process cache (core.configcache); an admin's edit,
    # which saves the row, must reach the very next ticket.
    from opsdesk.tenancy.models import RoutingRule

    ops, platform = team("service-operations"), team("platform-service")
    make_staff(team=ops)
    engineer = make_staff(team=platform, role="engineer")
    org = make_org()
    contract = make_contract(org, ("consulting",))
    assert make_ticket(org, contract=contract).team == ops
    rule = RoutingRule.objects.get(service_line="consulting", contract=None)
    rule.first_line_team = platform
    rule.save()
    moved = make_ticket(org, contract=contract)
    assert (moved.team, moved.assignee) == (platform, engineer)
    specific = RoutingRule.objects.create(
        service_line="consulting", contract=contract, first_line_team=ops, fixed_assignee=engineer
    )
    fixed = make_ticket(org, contract=contract)
    assert (fixed.team, fixed.assignee) == (ops, engineer)
    specific.delete()
    RoutingRule.objects.filter(service_line="consulting").delete()
    assert make_ticket(org, contract=contract).team == ops  # no rule left: triage


def test_opening_inside_a_callers_transaction_needs_no_savepoint_and_a_refusal_breaks_nothing():
    # Mail and monitoring open tickets inside their own transaction: no SAVEPOINT pair per
    # ticket, and a refused ticket (raised before any write) leaves that transaction usable.
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    make_staff(team=team("service-operations"))
    org = make_org()
    make_ticket(org, subject="The year's first makes its reference counter")
    with transaction.atomic():
        with CaptureQueriesContext(connection) as captured:
            ticket = make_ticket(org, subject="Inside")
        with pytest.raises(InvalidInput):
            make_ticket(org, subject="   ")
        after = make_ticket(org, subject="Still fine")
    assert not [q for q in captured.captured_queries if "SAVEPOINT" in q["sql"].upper()]
    assert ticket.pk and after.pk and after.reference != ticket.reference
