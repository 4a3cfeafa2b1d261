from __future__ import annotations

import pytest

from opsdesk.tenancy.models import Organisation
from tests.factories import make_contact, make_contract, make_org, make_staff, team

pytestmark = pytest.mark.django_db


def test_organisation_create_and_detail(api):
    response = api.post(
        "/organisations",
        {
            "code": "acme-cloud",
            "name": "Acme Cloud",
            "domains": ["acme.example"],
            "phones": ["02-0000-0001"],
        },
    )
    assert response.status_code == 201, response.content
    org = Organisation.objects.get(code="acme-cloud")
    make_contract(org, ("iaas",))
    detail = api.get("/organisations/acme-cloud").json()
    assert detail["domains"] == ["acme.example"]
    assert detail["phones"][0]["number"] == "+82200000001"
    assert len(detail["contracts"]) == 1 and detail["contracts"][0]["service_lines"] == ["iaas"]
    assert api.get("/organisations/no-such").status_code == 404
    duplicate = api.post("/organisations", {"code": "acme-cloud", "name": "Again"})
    assert duplicate.status_code == 422
    assert duplicate.json()["detail"][0]["loc"] == ["body", "code"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "has space", "name": "X"}, "code"),
        ({"code": "ok", "name": ""}, "name"),
        ({"code": "ok", "name": "X", "language": "fr"}, "language"),
        ({"code": "ok", "name": "X", "phones": ["not a phone"]}, "phones"),
        ({"code": "ok", "name": "X", "domains": ["not a domain"]}, "domains"),
    ],
)
def test_organisation_create_field_errors(api, body, field):
    response = api.post("/organisations", body)
    assert response.status_code == 422, response.content
    assert any(e["loc"][:2] == ["body", field] for e in response.json()["detail"])


def test_organisation_list_pages_and_search(api):
    made = {make_org(f"Pager {i}").code for i in range(5)}
    seen: list[str] = []
    cursor = None
    while True:
        params = {"search": "Pager", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = api.get("/organisations", **params).json()
        seen += [o["code"] for o in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 5 and set(seen) == made
    assert api.get("/organisations", cursor="###").status_code == 422


def test_contacts_show_personal_data_only_here(api):
    org = make_org()
    contact = make_contact(org, phones=("010-0000-0002",), emails=("kim@example.com",))
    make_contact(make_org())
    listed = api.get("/contacts", organisation=org.code).json()["items"]
    assert [c["id"] for c in listed] == [contact.pk]
    detail = api.get(f"/contacts/{contact.pk}").json()
    assert detail["emails"] == [{"address": "kim@example.com", "is_primary": True}]
    assert detail["phones"][0]["number"] == "+821000000002"
    assert api.get("/contacts/999999999").status_code == 404
    assert api.get(f"/contacts/{10**30}").status_code in (404, 422)
    assert api.get("/contacts", organisation="nope").status_code == 422


def test_contact_create(api):
    org = make_org()
    response = api.post(
        "/contacts",
        {
            "name": "Park Test",
            "organisation": org.code,
            "emails": ["park@example.com"],
            "phones": ["010 0000 0003"],
        },
    )
    assert response.status_code == 201, response.content
    assert response.json()["phones"][0]["number"] == "+821000000003"
    again = api.post("/contacts", {"name": "Copy", "emails": ["park@example.com"]})
    assert again.status_code == 422 and again.json()["detail"][0]["loc"] == ["body", "emails"]
    bad = api.post("/contacts", {"name": "X", "emails": ["not-an-email"]})
    assert bad.status_code == 422


def test_teams_with_members_and_roles(api, ops_agent):
    lead = make_staff(team=team("service-operations"), role="team_lead")
    teams = api.get("/teams").json()
    slugs = {t["slug"] for t in teams}
    assert {"service-operations", "platform-service"} <= slugs
    ops = api.get("/teams/service-operations").json()
    members = {m["username"]: m["role"] for m in ops["members"]}
    assert members[lead.username] == "team_lead"
    assert members[ops_agent.username] == "agent"
    assert api.get("/teams/none-such").status_code == 404
