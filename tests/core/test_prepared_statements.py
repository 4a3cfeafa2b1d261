"""On PostgreSQL, a statement the ORM runs again and again is prepared on the server
(docs/decisions/0008), and the written-out SQL of the busiest reads works with server-side
parameters."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection

from opsdesk.tenancy.models import Organisation
from opsdesk.tenancy.selectors import organisation_get

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
    Organisation.objects.create(code="acme", name="ACME")
    for _ in range(threshold):
        assert organisation_get(code="acme", details=False).name == "ACME"
    assert not any("tenancy_organisation" in s for s in _prepared_statements())
    # One run more than the threshold: from now on PostgreSQL skips parsing and planning.
    assert organisation_get(code="acme", details=False).name == "ACME"
    prepared = [s for s in _prepared_statements() if "tenancy_organisation" in s]
    assert len(prepared) == 1
    assert "$1" in prepared[0]  # the parameter is bound on the server, not quoted in
