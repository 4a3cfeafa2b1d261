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
