from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from opsdesk.api.services import api_token_revoke
from opsdesk.tenancy.models import StaffProfile
from tests.api.conftest import ApiClient, client_for
from tests.factories import make_staff, make_ticket, team

pytestmark = pytest.mark.django_db


def test_no_credentials_is_401():
    client = Client()
    assert client.get("/api/v1/tickets").status_code == 401
    response = client.post("/api/v1/tickets", {}, content_type="application/json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_unknown_or_revoked_token_is_401(ops_agent):
    assert ApiClient("odk_not-a-token").get("/tickets").status_code == 401
    assert ApiClient("odk_\u0000bad").get("/tickets").status_code == 401
    client = client_for(ops_agent)
    assert client.get("/tickets").status_code == 200
    token = ops_agent.api_tokens.get()
    api_token_revoke(user=ops_agent, token_id=token.pk)
    assert client.get("/tickets").status_code == 401


def test_token_of_deactivated_staff_is_refused(ops_agent):
    client = client_for(ops_agent)
    StaffProfile.objects.filter(user=ops_agent).update(is_active=False)
    assert client.get("/tickets").status_code == 403


def test_session_of_non_staff_user_is_403():
    User.objects.create_user(username="customer-contact", password="pw-Strong-123")
    client = Client()
    assert client.login(username="customer-contact", password="pw-Strong-123")
    assert client.get("/api/v1/tickets").status_code == 403
    assert client.get("/api/v1/teams").status_code == 403
    assert client.post(
        "/api/v1/calls/incoming", {"number": "010-0000-0001"}, content_type="application/json"
    ).status_code in (403,)


def test_session_auth_works_and_enforces_csrf():
    agent = make_staff(team=team("service-operations"))
    ticket = make_ticket(team=team("service-operations"))
    client = Client(enforce_csrf_checks=True)
    assert client.login(username=agent.username, password="pw-Strong-123")
    assert client.get(f"/api/v1/tickets/{ticket.reference}").status_code == 200
    url = f"/api/v1/tickets/{ticket.reference}/notes"
    refused = client.post(url, {"body": "no csrf"}, content_type="application/json")
    assert refused.status_code == 403
    client.get("/login/")  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    accepted = client.post(
        url, {"body": "with csrf"}, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert accepted.status_code == 201, accepted.content


def test_openapi_and_docs_are_served():
    client = Client()
    schema = client.get("/api/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/tickets/{reference}/timeline" in paths
    assert "/api/v1/calls/incoming" in paths
    assert client.get("/api/docs").status_code == 200


def test_errors_speak_the_language_the_client_asks_for_and_korean_by_default(ops_agent):
    from tests.api.conftest import ApiClient, client_for

    english = client_for(ops_agent)
    korean = ApiClient(english.headers["Authorization"].split(" ", 1)[1], language="")
    assert english.get("/tickets/CSR-1999-000001").json()["detail"].startswith("No ticket")
    assert not korean.get("/tickets/CSR-1999-000001").json()["detail"].startswith("No ticket")
