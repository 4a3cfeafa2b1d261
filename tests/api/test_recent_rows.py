"""API tokens and organisations read by the API are kept per process for the configuration
interval (core.recent): a burst reads each once, a change made in this process is seen at
once, another process's change within the interval.

Transactional tests: rows read inside a transaction are never kept (they might roll back),
and a normal test runs inside one."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from opsdesk.api.models import ApiToken
from opsdesk.api.services import api_token_revoke
from opsdesk.tenancy.models import Organisation, StaffProfile
from tests.api.conftest import client_for
from tests.factories import make_org, make_staff, team

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def interval(settings):
    # tests/conftest.py sets 0 (read every time) for stable query counts elsewhere.
    settings.OPSDESK = {**settings.OPSDESK, "CONFIG_CACHE_SECONDS": 60}


def _token_reads(queries: CaptureQueriesContext) -> int:
    return sum(ApiToken._meta.db_table in q["sql"] for q in queries.captured_queries)


def test_a_burst_reads_the_token_once_and_a_revocation_here_is_seen_at_once(interval):
    agent = make_staff(team=team("service-operations"))
    client = client_for(agent)
    # The first use stamps last_used_at and so reads the row afresh once more.
    assert client.get("/teams").status_code == 200
    assert client.get("/teams").status_code == 200
    with CaptureQueriesContext(connection) as burst:
        for _ in range(3):
            assert client.get("/teams").status_code == 200
    assert _token_reads(burst) == 0
    api_token_revoke(user=agent, token_id=agent.api_tokens.get().pk)
    assert client.get("/teams").status_code == 401


def test_staff_deactivated_here_is_refused_at_once(interval):
    agent = make_staff(team=team("service-operations"))
    client = client_for(agent)
    assert client.get("/teams").status_code == 200
    profile = StaffProfile.objects.get(user=agent)
    profile.is_active = False
    profile.save()
    assert client.get("/teams").status_code == 403


def test_another_process_revocation_is_seen_after_the_interval(settings):
    settings.OPSDESK = {**settings.OPSDESK, "CONFIG_CACHE_SECONDS": 0.3}
    agent = make_staff(team=team("service-operations"))
    client = client_for(agent)
    assert client.get("/teams").status_code == 200
    # How another process's revocation looks from here: the row changes, no signal.
    ApiToken.objects.filter(user=agent).update(revoked_at="2026-01-01T00:00:00Z")
    time.sleep(0.35)
    assert client.get("/teams").status_code == 401


def test_an_unknown_token_is_read_every_time(interval):
    from tests.api.conftest import ApiClient

    stranger = ApiClient("odk_not-a-token")
    with CaptureQueriesContext(connection) as reads:
        assert stranger.get("/teams").status_code == 401
        assert stranger.get("/teams").status_code == 401
    assert _token_reads(reads) == 2


def test_ticket_create_reads_its_organisation_once_per_interval(interval):
    agent = make_staff(team=team("service-operations"))
    client = client_for(agent)
    org = make_org()
    body = {"subject": "Disk full on db-01", "organisation": org.code}
    assert client.post("/tickets", body).status_code == 201
    table = Organisation._meta.db_table
    with CaptureQueriesContext(connection) as second:
        assert client.post("/tickets", body).status_code == 201
    assert not [q for q in second.captured_queries if f"FROM {table}" in q["sql"]]
    org.is_active = False
    org.save()  # seen at once in this process
    refused = client.post("/tickets", body)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "organisation"]
