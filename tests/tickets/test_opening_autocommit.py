"""Opening a ticket on PostgreSQL outside any caller's transaction: the pick with its stamp
(which also draws the ticket's ids and reference) and one INSERT, each its own statement
with no BEGIN or COMMIT around them (tickets.services.lifecycle._opening_transaction). The
INSERT is atomic on its own."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from opsdesk.jobs.models import Timer
from opsdesk.tenancy.models import StaffProfile, TeamMembership
from opsdesk.tickets.models import Ticket, TimelineEvent
from opsdesk.tickets.services import ticket_create
from tests.factories import make_contract, make_org, make_staff, team

# Transactional: the point is what happens outside a transaction.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(autouse=True)
def _postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite opens a ticket in one transaction, row by row")


def test_an_opening_is_two_statements_without_a_transaction():
    ops = team("service-operations")
    first, second = make_staff(team=ops), make_staff(team=ops)
    org = make_org()
    contract = make_contract(org, ("consulting",))
    opened = [ticket_create(actor=first, organisation=org, contract=contract, subject="warm-up")]
    with CaptureQueriesContext(connection) as captured:
        opened.append(
            ticket_create(actor=first, organisation=org, contract=contract, subject="second")
        )
    statements = [q["sql"] for q in captured.captured_queries]
    statements = [sql for sql in statements if not sql.startswith("SELECT (SELECT COUNT(*)")]
    assert len(statements) == 2, [sql[:60] for sql in statements]
    assert "synchronous_commit" in statements[0]  # the stamp need not wait for the disk
    assert statements[0].count("nextval(") == 3  # the ticket's and its entry's ids, the number
    # Both committed: the rotation moved on and the rows are there for everyone.
    assert {t.assignee for t in opened} == {first, second}
    stamps = TeamMembership.objects.filter(team=ops).values_list("last_assigned_at", flat=True)
    assert all(stamp is not None for stamp in stamps)
    ticket = opened[-1]
    assert TimelineEvent.objects.filter(ticket=ticket, kind="created").count() == 1
    assert Timer.objects.filter(key__endswith=f":{ticket.pk}").count() == 2
    first_number = int(opened[0].reference.rsplit("-", 1)[1])
    assert ticket.reference.endswith(f"-{first_number + 1:06d}")


def test_a_pick_that_finds_nobody_still_draws_the_ids():
    ops = team("service-operations")
    away = make_staff(team=ops)
    StaffProfile.objects.filter(user=away).update(is_available=False)
    org = make_org()
    contract = make_contract(org, ("consulting",))
    ticket_create(actor=away, organisation=org, contract=contract, subject="warm-up")
    with CaptureQueriesContext(connection) as captured:
        ticket = ticket_create(actor=away, organisation=org, contract=contract, subject="none")
    statements = [q["sql"] for q in captured.captured_queries]
    statements = [sql for sql in statements if not sql.startswith("SELECT (SELECT COUNT(*)")]
    assert [sql[:15] for sql in statements] == ["WITH pick AS (S", "WITH w0 AS (INS"]
    assert statements[0].count("nextval(") == 3
    stored = Ticket.objects.get(pk=ticket.pk)
    assert (stored.reference, stored.team, stored.assignee) == (ticket.reference, ops, None)
    assert TimelineEvent.objects.filter(ticket=ticket, kind="created").count() == 1
    assert not TeamMembership.objects.filter(last_assigned_at__isnull=False).exists()


def test_without_a_pick_the_ids_are_drawn_on_their_own():
    ops = team("service-operations")
    agent = make_staff(team=ops)
    org = make_org()
    ticket_create(actor=agent, organisation=org, subject="warm-up", assignee=agent)
    with CaptureQueriesContext(connection) as captured:
        ticket = ticket_create(actor=agent, organisation=org, subject="given", assignee=agent)
    statements = [q["sql"] for q in captured.captured_queries]
    statements = [sql for sql in statements if not sql.startswith("SELECT (SELECT COUNT(*)")]
    assert [sql[:15] for sql in statements] == ["SELECT nextval(", "WITH w0 AS (INS"]
    stored = Ticket.objects.get(pk=ticket.pk)
    assert (stored.reference, stored.assignee) == (ticket.reference, agent)


def test_a_failing_insert_leaves_no_part_of_the_ticket(monkeypatch):
    ops = team("service-operations")
    agent = make_staff(team=ops)
    org = make_org()
    earlier = ticket_create(actor=agent, organisation=org, subject="earlier")
    taken = TimelineEvent.objects.filter(ticket=earlier).values_list("id", flat=True).first()
    from opsdesk.tickets.services import lifecycle

    real = lifecycle.reference_and_ids

    def clashing(**kwargs):
        reference, ids = real(**kwargs)
        return reference, [ids[0], taken]  # the entry's id is already used

    monkeypatch.setattr(lifecycle, "reference_and_ids", clashing)
    before = Ticket.objects.count()
    with pytest.raises(IntegrityError):
        ticket_create(actor=agent, organisation=org, subject="doomed")
    assert Ticket.objects.count() == before
    assert not Ticket.objects.filter(subject="doomed").exists()
    assert Timer.objects.count() == 2  # the earlier ticket's, nothing of the doomed one
