"""API calls with a bearer token skip the browser's middleware (api/middleware.py) and answer
as before: same headers, same language, same errors; session calls keep the normal path."""

from __future__ import annotations

import pytest
from django.contrib.sessions.middleware import SessionMiddleware
from django.test import Client

from tests.api.conftest import ApiClient, client_for
from tests.factories import make_org, make_staff, team

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_sessions(monkeypatch):
    def refused(self, request):
        raise AssertionError("the session middleware ran")

    monkeypatch.setattr(SessionMiddleware, "process_request", refused)


def test_a_token_call_never_touches_the_session_and_keeps_its_headers(ops_agent, no_sessions):
    api = client_for(ops_agent)
    org = make_org()
    created = api.post("/tickets", {"subject": "Disk full on db-01", "organisation": org.code})
    assert created.status_code == 201, created.content
    assert created["X-Frame-Options"] == "DENY"
    assert created["Content-Language"] == "en"
    assert created["X-Content-Type-Options"] == "nosniff"  # SecurityMiddleware, before it
    assert "Cookie" not in created.get("Vary", "")
    assert "csrftoken" not in created.cookies


def test_the_language_still_follows_accept_language(ops_agent, no_sessions):
    token = client_for(ops_agent).headers["Authorization"].removeprefix("Bearer ")
    korean = ApiClient(token, language="ko")
    refused = korean.post("/tickets", {"subject": "", "organisation": "nowhere"})
    assert refused.status_code == 422
    assert refused["Content-Language"] == "ko"


def test_errors_of_the_short_path_are_the_apis_own(ops_agent, no_sessions):
    api = client_for(ops_agent)
    assert api.get("/tickets/CSR-1999-000001").status_code == 404
    missing = api.get("/no-such-endpoint")
    assert missing.status_code == 404
    assert ApiClient("odk_not-a-token").get("/tickets").status_code == 401


def test_a_token_wins_over_a_session_cookie_of_someone_else(ops_agent):
    other = make_staff(team=team("platform-service"))
    browser = Client()
    assert browser.login(username=other.username, password="pw-Strong-123")
    token = client_for(ops_agent).headers["Authorization"]
    response = browser.get("/api/v1/teams", headers={"Authorization": token})
    assert response.status_code == 200
    mine = client_for(ops_agent).get("/teams").json()
    assert response.json() == mine


def test_session_calls_keep_the_normal_path():
    agent = make_staff(team=team("service-operations"))
    browser = Client()
    assert browser.login(username=agent.username, password="pw-Strong-123")
    response = browser.get("/api/v1/teams")
    assert response.status_code == 200
    assert "Cookie" in response.get("Vary", "")  # the session was read
