from __future__ import annotations

import pytest

from opsdesk.tickets.enums import EventKind
from opsdesk.tickets.models import Ticket, TimelineEvent
from tests.api.conftest import client_for
from tests.factories import make_contact, make_contract, make_org, make_staff, make_ticket, team

pytestmark = pytest.mark.django_db


def test_create_read_update_timeline_notes(api, ops_agent):
    org = make_org(phones=())
    contact = make_contact(org, phones=("010-0000-0001",))
    contract = make_contract(org, ("consulting",))
    created = api.post(
        "/tickets",
        {
            "subject": "VM does not boot",
            "organisation": org.code,
            "contact": contact.pk,
            "contract": contract.code,
            "priority": "high",
            "team": "service-operations",
            "assignee": ops_agent.username,
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    ref = body["reference"]
    assert ref.startswith("CSR-")
    assert "id" not in body
    assert body["channel"] == "api"
    assert body["organisation"] == {"code": org.code, "name": org.name}
    assert body["contact"] == {"id": contact.pk, "name": contact.name}
    assert body["contract"] == {"code": contract.code, "name": contract.name}
    assert body["service_line"] == "consulting"
    assert body["team"]["slug"] == "service-operations"
    assert body["assignee"]["username"] == ops_agent.username
    # Personal data stays in the contact endpoints.
    assert "010" not in created.content.decode() and "@" not in created.content.decode()

    read = api.get(f"/tickets/{ref}")
    assert read.status_code == 200 and read.json()["subject"] == "VM does not boot"
    assert api.get(f"/tickets/{ref.lower()}").status_code == 200

    other = make_staff(team=team("service-operations"))
    patched = api.patch(
        f"/tickets/{ref}",
        {
            "subject": "VM does not boot after patching",
            "priority": "urgent",
            "status": "open",
            "assignee": other.username,
        },
    )
    assert patched.status_code == 200, patched.content
    data = patched.json()
    assert data["subject"] == "VM does not boot after patching"
    assert data["priority"] == "urgent"
    assert data["status"] == "open"
    assert data["assignee"]["username"] == other.username

    note = api.post(f"/tickets/{ref}/notes", {"body": "Checked the hypervisor."})
    assert note.status_code == 201 and note.json()["is_internal"] is True
    reply = api.post(f"/tickets/{ref}/replies", {"body": "We are on it."})
    assert reply.status_code == 201 and reply.json()["kind"] == "reply"

    timeline = api.get(f"/tickets/{ref}/timeline")
    assert timeline.status_code == 200
    kinds = [e["kind"] for e in timeline.json()]
    assert kinds == [
        EventKind.CREATED,
        EventKind.FIELD_CHANGED,
        EventKind.ASSIGNED,
        EventKind.STATUS_CHANGED,
        EventKind.NOTE,
        EventKind.REPLY,
    ]
    changed = timeline.json()[1]["changes"]
    assert set(changed) == {"subject", "priority"}
    assert timeline.json()[0]["actor"]["username"] == ops_agent.username
    ticket = Ticket.objects.get(reference=ref)
    assert ticket.first_response_at is not None
    assert TimelineEvent.objects.filter(ticket=ticket).count() == 6


def test_patch_can_clear_nullable_fields_and_rejects_null_for_others(api):
    org = make_org()
    ticket = make_ticket(org, contact=make_contact(org), team=team("service-operations"))
    ok = api.patch(f"/tickets/{ticket.reference}", {"contact": None})
    assert ok.status_code == 200 and ok.json()["contact"] is None
    bad = api.patch(f"/tickets/{ticket.reference}", {"subject": None})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "subject"]


def test_patch_is_all_or_nothing(api):
    ticket = make_ticket(team=team("service-operations"))
    # "closed" is not reachable from "new": the subject change must be rolled back too.
    response = api.patch(f"/tickets/{ticket.reference}", {"subject": "Changed", "status": "closed"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "status"]
    ticket.refresh_from_db()
    assert ticket.subject == "Server unreachable"
    assert TimelineEvent.objects.filter(ticket=ticket).count() == 1


def test_pagination_walks_every_page_once(api):
    org = make_org()
    refs = {make_ticket(org, team=team("service-operations")).reference for _ in range(7)}
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"queue": "all", "organisation": org.code, "limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = api.get("/tickets", **params)
        assert page.status_code == 200, page.content
        seen += [t["reference"] for t in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        pages += 1
        if cursor is None:
            break
    assert pages == 3
    assert len(seen) == len(set(seen)) == 7
    assert set(seen) == refs
    # Newest first.
    assert seen == sorted(seen, reverse=True)


def test_filters(api, ops_agent):
    org = make_org()
    ops = team("service-operations")
    incident = make_ticket(org, kind="incident", team=ops, priority="urgent", subject="Disk full")
    csr = make_ticket(org, team=ops, assignee=ops_agent, subject="New account")
    other_org = make_ticket(make_org(), team=ops)

    def refs(**params):
        params.setdefault("queue", "all")
        response = api.get("/tickets", **params)
        assert response.status_code == 200, response.content
        return {t["reference"] for t in response.json()["items"]}

    assert refs(organisation=org.code) == {incident.reference, csr.reference}
    assert refs(organisation=org.code, kind="incident") == {incident.reference}
    assert refs(organisation=org.code, priority="urgent") == {incident.reference}
    assert refs(organisation=org.code, assignee=ops_agent.username) == {csr.reference}
    assert refs(q="Disk full") == {incident.reference}
    assert refs(q=csr.reference) == {csr.reference}
    assert other_org.reference in refs(team="service-operations")
    assert refs(queue="mine") >= {csr.reference}
    assert incident.reference not in refs(queue="mine")


def test_other_teams_ticket_is_invisible(api):
    org = make_org()
    hidden = make_ticket(org, team=team("platform-service"), subject="Secret outage")
    ref = hidden.reference
    assert api.get(f"/tickets/{ref}").status_code == 404
    assert api.patch(f"/tickets/{ref}", {"subject": "x"}).status_code == 404
    assert api.patch(f"/tickets/{ref}", {"status": "open"}).status_code == 404
    assert api.get(f"/tickets/{ref}/timeline").status_code == 404
    assert api.post(f"/tickets/{ref}/notes", {"body": "hi"}).status_code == 404
    assert api.post(f"/tickets/{ref}/replies", {"body": "hi"}).status_code == 404
    for params in (
        {"queue": "all"},
        {"queue": "all", "organisation": org.code},
        {"queue": "all", "q": "Secret outage"},
        {"queue": "all", "q": ref},
        {"queue": "unassigned"},
        {"queue": "all", "team": "platform-service"},
    ):
        listed = api.get("/tickets", **params)
        assert listed.status_code == 200
        assert ref not in listed.content.decode()
    hidden.refresh_from_db()
    assert hidden.subject == "Secret outage"
    assert TimelineEvent.objects.filter(ticket=hidden).count() == 1
    # A member of the ticket's team does see it.
    insider = client_for(make_staff(team=team("platform-service")))
    assert insider.get(f"/tickets/{ref}").status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"organisation": "org-x"}, "subject"),
        ({"subject": "x"}, "organisation"),
        ({"subject": "x", "organisation": "ORG", "priority": "extreme"}, "priority"),
        ({"subject": "x", "organisation": "ORG", "contact": "abc"}, "contact"),
        ({"subject": "x", "organisation": "ORG", "contact": 10**30}, "contact"),
        ({"subject": "x" * 301, "organisation": "ORG"}, "subject"),
        ({"subject": "a\u0000b", "organisation": "ORG"}, "subject"),
        ({"subject": "   ", "organisation": "ORG"}, "subject"),
    ],
)
def test_bad_bodies_are_422_with_the_field(api, body, field):
    org = make_org()
    body = {k: (org.code if v == "ORG" else v) for k, v in body.items()}
    response = api.post("/tickets", body)
    assert response.status_code == 422, response.content
    locs = [e["loc"] for e in response.json()["detail"]]
    assert any(loc[:2] == ["body", field] for loc in locs), locs


def test_unknown_references_in_body_are_422_on_that_field(api):
    org = make_org()
    for extra, field in (
        ({"organisation": "no-such-org"}, "organisation"),
        ({"contact": 987654321}, "contact"),
        ({"contract": "no-such-contract"}, "contract"),
        ({"team": "no-such-team"}, "team"),
        ({"assignee": "nobody-here"}, "assignee"),
    ):
        response = api.post("/tickets", {"subject": "x", "organisation": org.code, **extra})
        assert response.status_code == 422, (field, response.content)
        assert response.json()["detail"][0]["loc"] == ["body", field]


def test_service_invalid_input_is_422(api):
    org = make_org()
    contact_elsewhere = make_contact(make_org())
    response = api.post(
        "/tickets", {"subject": "x", "organisation": org.code, "contact": contact_elsewhere.pk}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "contact"]


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b"\xff\xfe\x00garbage",
        b"[]",
        b'"just a string"',
    ],
)
def test_unparsable_bodies_are_422(api, raw):
    response = api.client.post(
        "/api/v1/tickets", raw, content_type="application/json", headers=api.headers
    )
    assert response.status_code == 422, response.content


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 201},
        {"limit": 10**40},
        {"limit": "many"},
        {"cursor": "garbage!!"},
        {"cursor": "MjAyNi0wMS0wMVQwMDowMDowMCswMDowMHw5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OQ"},
        {"status": "exploded"},
        {"queue": "everyone"},
        {"organisation": "no-such-org"},
        {"q": "a\u0000b"},
    ],
)
def test_bad_list_queries_are_422(api, params):
    response = api.get("/tickets", **params)
    assert response.status_code == 422, response.content


def test_unknown_or_garbage_reference_is_404(api):
    for ref in ("CSR-2026-999999", "nonsense", "x" * 500, "a%00b"):
        assert api.get(f"/tickets/{ref}").status_code == 404
