from __future__ import annotations

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from opsdesk.api.models import ApiToken
from tests.factories import make_contact, make_org, make_staff, make_ticket, team
from tests.ui.conftest import Desk

pytestmark = pytest.mark.django_db


def _pages(desk: Desk, reference: str) -> list[str]:
    return [
        "/",
        "/tickets/?queue=mine",
        "/tickets/?queue=team",
        "/tickets/?queue=unassigned",
        "/tickets/?queue=open",
        "/tickets/?queue=all&status=new&kind=csr&priority=normal&channel=agent&q=Server",
        f"/tickets/{reference}/",
        "/tickets/new/",
        f"/tickets/new/?organisation={desk.org.code}",
        "/organisations/",
        f"/organisations/{desk.org.code}/",
        f"/contacts/{desk.contact.pk}/",
        "/calls/new/",
        "/calls/new/?number=010-0000-0001",
        "/calls/lookup/?number=01000000001",
        "/me/tokens/",
    ]


def test_every_agent_page_renders_for_staff(desk: Desk, agent_client: Client):
    ticket = make_ticket(desk.org, contract=desk.contract, contact=desk.contact)
    for url in _pages(desk, ticket.reference):
        response = agent_client.get(url)
        assert response.status_code == 200, url
    queue = agent_client.get("/tickets/?queue=all").content.decode()
    assert ticket.reference in queue and desk.org.name in queue


def test_anonymous_visitors_go_to_login(desk: Desk):
    response = Client().get("/tickets/?queue=all")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")
    assert Client().get("/login/").status_code == 200


def test_non_staff_users_get_403_everywhere(desk: Desk, django_user_model):
    ticket = make_ticket(desk.org, contract=desk.contract)
    customer = django_user_model.objects.create_user(username="customer1", password="x-Strong-1")
    client = Client()
    client.force_login(customer)
    for url in [*_pages(desk, ticket.reference), "/notices/poll?after=0"]:
        response = client.get(url)
        assert response.status_code == 403, url
        assert "notice-poller" not in response.content.decode()
    assert client.post(f"/tickets/{ticket.reference}/note/", {"note-body": "x"}).status_code == 403


def test_login_page_signs_staff_in(desk: Desk):
    client = Client()
    response = client.post(
        "/login/", {"username": desk.agent.username, "password": "pw-Strong-123"}
    )
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_other_team_cannot_see_ticket_anywhere(desk: Desk):
    ticket = make_ticket(desk.org, contract=desk.contract, contact=desk.contact)
    assert ticket.team.slug == "service-operations"
    outsider = make_staff(team=team("service-support"))
    client = Client()
    client.force_login(outsider)
    assert client.get(f"/tickets/{ticket.reference}/").status_code == 404
    assert client.post(f"/tickets/{ticket.reference}/note/", {"note-body": "x"}).status_code == 404
    for url in ["/tickets/?queue=all", "/tickets/?queue=open", "/tickets/?queue=unassigned"]:
        assert ticket.reference not in client.get(url).content.decode(), url
    org_page = client.get(f"/organisations/{desk.org.code}/").content.decode()
    assert ticket.reference not in org_page
    assert ticket.reference not in client.get(f"/contacts/{desk.contact.pk}/").content.decode()
    # While the owning team sees it in the same places.
    insider = Client()
    insider.force_login(desk.agent)
    assert ticket.reference in insider.get(f"/organisations/{desk.org.code}/").content.decode()
    assert ticket.reference in insider.get(f"/contacts/{desk.contact.pk}/").content.decode()


def test_queue_filters_and_keyset_next_page(desk: Desk, agent_client: Client):
    tickets = [
        make_ticket(desk.org, contract=desk.contract, subject=f"Disk {i}") for i in range(55)
    ]
    incident = make_ticket(desk.org, contract=desk.contract, kind="incident", subject="DB down")
    first = agent_client.get("/tickets/?queue=all").content.decode()
    assert "Next page" in first
    assert incident.reference in first and tickets[0].reference not in first
    cursor = first.split("cursor=")[1].split('"')[0].replace("&amp;", "&")
    second = agent_client.get(f"/tickets/?queue=all&cursor={cursor}").content.decode()
    assert tickets[0].reference in second and incident.reference not in second
    assert "Next page" not in second
    only_incidents = agent_client.get("/tickets/?queue=all&kind=incident").content.decode()
    assert incident.reference in only_incidents and tickets[-1].reference not in only_incidents
    by_ref = agent_client.get(f"/tickets/?queue=all&q={tickets[3].reference}").content.decode()
    assert tickets[3].reference in by_ref and tickets[4].reference not in by_ref
    assert "not valid" in agent_client.get("/tickets/?queue=all&cursor=%%%").content.decode()


def test_organisation_and_contact_pages_show_details(desk: Desk, agent_client: Client):
    other = make_contact(desk.org, phones=("010-0000-0002",))
    make_ticket(desk.org, contract=desk.contract, contact=other, subject="VPN flaps")
    page = agent_client.get(f"/organisations/{desk.org.code}/").content.decode()
    assert desk.contract.name in page and "IaaS" in page
    assert "02-0000-1000" in page and other.name in page and "VPN flaps" in page
    contact_page = agent_client.get(f"/contacts/{other.pk}/").content.decode()
    assert "010-0000-0002" in contact_page and "VPN flaps" in contact_page
    assert agent_client.get("/organisations/no-such-org/").status_code == 404
    assert agent_client.get("/contacts/999999/").status_code == 404
    found = agent_client.get("/organisations/?q=Hanbit").content.decode()
    assert desk.org.name in found
    assert (
        make_org("Zeta Corp").name
        not in agent_client.get("/organisations/?q=Hanbit").content.decode()
    )


def test_new_ticket_form_creates_and_routes(desk: Desk, agent_client: Client):
    response = agent_client.post(
        "/tickets/new/",
        {
            "organisation": desk.org.code,
            "contact": desk.contact.pk,
            "contract": desk.contract.pk,
            "service_line": "",
            "kind": "incident",
            "priority": "high",
            "severity": "complex",
            "subject": "Load balancer 502",
            "description": "Since 09:00",
        },
    )
    assert response.status_code == 302
    reference = response["Location"].split("/")[2]
    page = agent_client.get(response["Location"]).content.decode()
    assert "Load balancer 502" in page and reference.startswith("INC-")
    assert "Service operations" in page


def test_new_ticket_form_keeps_input_on_error(desk: Desk, agent_client: Client):
    response = agent_client.post(
        "/tickets/new/",
        {
            "organisation": desk.org.code,
            "kind": "csr",
            "priority": "normal",
            "subject": "Kept text",
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Choose a contract or a service line" in body and 'value="Kept text"' in body


def test_api_tokens_create_show_once_and_revoke(desk: Desk, agent_client: Client):
    response = agent_client.post("/me/tokens/", {"new-name": "monitoring"})
    body = response.content.decode()
    token = ApiToken.objects.get(user=desk.agent)
    assert token.name == "monitoring" and "odk_" in body and token.prefix in body
    again = agent_client.get("/me/tokens/").content.decode()
    assert token.prefix in again and body.split('id="token-secret">')[1][:30] not in again
    agent_client.post("/me/tokens/", {"token_id": token.pk, "revoke": "1"})
    token.refresh_from_db()
    assert token.revoked_at is not None
    someone = make_staff()
    theirs = ApiToken.objects.create(
        user=someone, name="x", prefix="odk_x", key_hash="h" * 64, created_at=token.created_at
    )
    assert (
        agent_client.post("/me/tokens/", {"token_id": theirs.pk, "revoke": "1"}).status_code == 404
    )


def test_own_stylesheet_and_script_are_found_by_staticfiles():
    # Needs STATICFILES_DIRS = [BASE_DIR / "static"] in settings: src/opsdesk/static is not
    # inside an app, so the app-directories finder does not see it.
    assert finders.find("opsdesk/app.css"), "src/opsdesk/static is not a staticfiles dir"
    assert finders.find("opsdesk/app.js")
