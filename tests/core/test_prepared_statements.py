"""On PostgreSQL, a statement the ORM runs again and again is prepared on the server
(docs/decisions/0008), and the written-out SQL of the busiest reads works with server-side
parameters."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection

from opsdesk.tenancy.models import Organisation

pytestmark = pytest.mark.django_db


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_a_repeated_statement_is_prepared_on_the_server():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite's driver keeps its own statement cache")
    threshold = settings.DATABASES["default"]["OPTIONS"]["prepare_threshold"]
    assert settings.DATABASES["default"]["OPTIONS"]["server_side_binding"] is True
    assert threshold is not None
    Organisation.objects.create(code="acme", name="ACME", notes="prepared")
    # A query of a shape no other code runs, so earlier tests on this connection cannot
    # have prepared it already.
    query = Organisation.objects.filter(code="acme", notes="prepared")

    def ours() -> list[str]:
        return [s for s in _prepared_statements() if '"notes" = $' in s]

    for _ in range(threshold):
        assert [o.name for o in query.all()] == ["ACME"]
    assert ours() == []
    # One run more than the threshold: from now on PostgreSQL skips parsing and planning.
    assert [o.name for o in query.all()] == ["ACME"]
    (prepared,) = ours()
    assert "tenancy_organisation" in prepared  # the values are bound, not quoted in
