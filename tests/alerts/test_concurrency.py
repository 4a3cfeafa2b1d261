"""Two webhook calls that bring the first alerts of one group at the same instant open one
incident, not two (each call in its own transaction, on real database connections)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from opsdesk.alerts.models import AlertGroup
from opsdesk.tickets.models import Ticket
from tests.alerts.conftest import webhook
from tests.alerts.test_ingest import am_alert, am_body

ROUNDS = 12


def _send(integration, body: dict, start: threading.Barrier, statuses: list[int]) -> None:
    try:
        start.wait()
        statuses.append(webhook(integration, body).status_code)
    finally:
        connections.close_all()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_simultaneous_first_alerts_of_a_group_open_one_incident(make_integration):
    if connection.vendor != "postgresql":
        # SQLite takes its write lock at BEGIN, so two calls never overlap (the test
        # database, in shared memory, answers the second call 503 instead of waiting).
        pytest.skip("PostgreSQL only: SQLite transactions never overlap")
    integration = make_integration("alertmanager", group_by=["cluster"])
    for round_no in range(ROUNDS):
        start = threading.Barrier(2)
        statuses: list[int] = []
        threads = [
            threading.Thread(
                target=_send,
                args=(
                    integration,
                    am_body(am_alert(instance=f"web-{n}", cluster=f"c{round_no}")),
                    start,
                    statuses,
                ),
            )
            for n in (1, 2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert statuses == [200, 200]
        groups = AlertGroup.objects.filter(group_key=f"cluster=c{round_no}")
        assert groups.count() == 1, f"round {round_no}: {groups.count()} groups"
        assert groups.get().alert_count == 2
    assert Ticket.objects.filter(channel="monitoring").count() == ROUNDS


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_call_takes_its_group_locks_in_key_order(make_integration):
    """Calls lock the keys of their groups in one order, whatever order their alerts come
    in: a call waiting for one key holds none that sorts after it, so two calls with the
    same groups in opposite orders cannot wait for each other."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite transactions never overlap")
    from django.db import transaction

    from opsdesk.alerts.services.groups import group_lock_keys

    integration = make_integration("alertmanager", group_by=["cluster"])
    first, second = sorted(["cluster=a-first", "cluster=b-second"])
    held = group_lock_keys(integration_id=integration.pk, key=first)
    later = group_lock_keys(integration_id=integration.pk, key=second)
    body = am_body(am_alert(instance="web-1", cluster="b-second"))
    body["alerts"].append(am_alert(instance="web-2", cluster="a-first"))
    statuses: list[int] = []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", held)
        call = threading.Thread(
            target=_send, args=(integration, body, threading.Barrier(1), statuses)
        )
        call.start()
        # The call now waits for the first key; the second must still be free.
        waited = False
        for _ in range(100):
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            )
            if cursor.fetchone()[0]:
                waited = True
                break
            threading.Event().wait(0.05)
        assert waited, "the call never waited for the held key"
        probe = connections.create_connection("default")
        try:
            with probe.cursor() as other:
                other.execute("SELECT pg_try_advisory_lock(%s, %s)", later)
                assert other.fetchone()[0] is True
                other.execute("SELECT pg_advisory_unlock(%s, %s)", later)
        finally:
            probe.close()
    call.join(timeout=30)
    assert statuses == [200]
    assert AlertGroup.objects.filter(integration=integration).count() == 2
