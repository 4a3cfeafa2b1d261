"""The webhook's hot statements read by their unique keys in the plan PostgreSQL keeps.

A connection prepares a statement it runs often (decision 0008) and keeps its generic plan,
made without the call's values, until an ANALYZE of its tables; a server without
autovacuum may never run one. When the alert table also had an index on the integration
alone, that generic plan read every alert of the integration per repeat (the bench's
repeats at 1,100/s instead of 2,100/s). These tests ask PostgreSQL for the generic plan of
each statement and check that it looks the row up by its key.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection, transaction
from psycopg import sql as pgsql

from opsdesk.alerts.models import Alert
from opsdesk.alerts.services.groups import group_latest_sql
from opsdesk.alerts.services.ingest import known_sql, repeat_sql_built
from opsdesk.core.clock import now

pytestmark = pytest.mark.django_db


def _generic_plan(sql: str, params: list[Any]) -> str:
    """EXPLAIN of the plan PostgreSQL keeps for ``sql`` once prepared (its generic plan)."""
    numbers = iter(range(1, len(params) + 1))
    text = re.sub(r"%s", lambda _: f"${next(numbers)}", sql)
    values = pgsql.SQL(", ").join(pgsql.Literal(p) for p in params)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute(f"PREPARE plan_probe AS {text}")
        cursor.execute(f"EXPLAIN EXECUTE plan_probe({values.as_string(cursor.connection)})")
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("DEALLOCATE plan_probe")
    return plan


@pytest.fixture
def stored(make_integration):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite plans every statement with its values")
    integration = make_integration("alertmanager")
    at = now()
    # Enough rows for a table of several pages, all of one integration.
    Alert.objects.bulk_create(
        Alert(
            integration=integration,
            fingerprint=f"fp-{i}",
            status="firing",
            first_seen=at,
            last_seen=at,
        )
        for i in range(400)
    )
    return integration


def test_a_repeat_updates_its_alert_by_the_unique_key(stored):
    sql = repeat_sql_built("postgresql", 1, False)
    plan = _generic_plan(sql, [now(), stored.pk, "firing", "fp-7"])
    assert "alert_unique_fingerprint" in plan, plan
    assert "Seq Scan" not in plan, plan


def test_a_state_change_reads_its_alert_by_the_unique_key(stored):
    plan = _generic_plan(known_sql(2), [stored.pk, "fp-7", "fp-8"])
    assert "alert_unique_fingerprint" in plan, plan
    assert "Seq Scan on alerts_alert" not in plan, plan


def test_a_group_is_found_by_its_key(stored):
    plan = _generic_plan(group_latest_sql(), [stored.pk, "instance=web-1"])
    assert "alerts_aler_integra_815ae8_idx" in plan, plan
    assert "Seq Scan on alerts_alertgroup" not in plan, plan
