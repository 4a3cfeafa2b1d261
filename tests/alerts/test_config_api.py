"""Mapping rules and silences through the REST API: who may change them, validation, and
their effect on ingest."""

from __future__ import annotations

from datetime import timedelta

import pytest

from opsdesk.alerts.models import Alert, MappingRule, Silence
from opsdesk.core.clock import now
from opsdesk.tenancy.enums import MemberRole, StaffRole
from opsdesk.tickets.models import Ticket
from tests.alerts.conftest import webhook
from tests.alerts.test_ingest import am_alert, am_body
from tests.api.conftest import client_for
from tests.factories import make_contract, make_org, make_staff, team

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return client_for(make_staff(staff_role=StaffRole.ADMIN))


@pytest.fixture
def lead():
    return client_for(make_staff(team=team("service-operations"), role=MemberRole.TEAM_LEAD))


@pytest.fixture
def agent():
    return client_for(make_staff(team=team("service-operations")))


def delete(client, path):
    return client.client.delete(f"/api/v1{path}", headers=client.headers)


def in_hours(hours: float) -> str:
    return (now() + timedelta(hours=hours)).isoformat()


def test_rule_crud_by_an_administrator(admin, make_integration):
    integration = make_integration("alertmanager")
    customer = make_org("Mapped Customer")
    contract = make_contract(customer)
    created = admin.post(
        "/integrations/rules",
        {
            "matchers": ['instance=~"db-[0-9]+"', 'env!="staging"'],
            "organisation": customer.code,
            "contract": contract.code,
            "integration_id": integration.pk,
            "severity": "urgent",
            "order": 10,
        },
    )
    assert created.status_code == 201, created.content
    rule = created.json()
    assert rule["matchers"] == [
        {"name": "instance", "op": "=~", "value": "db-[0-9]+"},
        {"name": "env", "op": "!=", "value": "staging"},
    ]
    assert (rule["organisation"], rule["contract"], rule["integration_id"]) == (
        customer.code,
        contract.code,
        integration.pk,
    )
    webhook(integration, am_body(am_alert(instance="db-7")))
    assert Ticket.objects.get().organisation == customer

    changed = admin.patch(
        f"/integrations/rules/{rule['id']}", {"contract": None, "priority": "high", "order": 5}
    )
    assert changed.status_code == 200, changed.content
    assert (changed.json()["contract"], changed.json()["priority"]) == (None, "high")
    assert changed.json()["matchers"] == rule["matchers"]  # unchanged
    assert admin.get(f"/integrations/rules/{rule['id']}").json()["order"] == 5
    listed = admin.get("/integrations/rules").json()["items"]
    assert [r["id"] for r in listed] == [rule["id"]]

    assert delete(admin, f"/integrations/rules/{rule['id']}").status_code == 204
    assert not MappingRule.objects.exists()
    assert delete(admin, f"/integrations/rules/{rule['id']}").status_code == 404


def test_matchers_are_validated_with_clear_422s(admin, org):
    cases = {
        "env~prod": "matchers[0]: cannot read 'env~prod'",
        'instance=~"web-("': "is not a valid regular expression",
    }
    for matcher, reason in cases.items():
        response = admin.post(
            "/integrations/rules", {"matchers": [matcher], "organisation": org.code}
        )
        assert response.status_code == 422
        [error] = response.json()["detail"]
        assert error["loc"] == ["body", "matchers"] and reason in error["msg"]
    empty = admin.post("/integrations/rules", {"matchers": [], "organisation": org.code})
    assert empty.status_code == 422
    unknown_org = admin.post(
        "/integrations/rules", {"matchers": ['a="b"'], "organisation": "no-such-org"}
    )
    assert unknown_org.json()["detail"][0]["loc"] == ["body", "organisation"]
    other = make_org("Other")
    contract_elsewhere = admin.post(
        "/integrations/rules",
        {"matchers": ['a="b"'], "organisation": org.code, "contract": make_contract(other).code},
    )
    assert contract_elsewhere.status_code == 422
    assert not MappingRule.objects.exists()


def test_agents_read_but_only_admins_and_team_leads_change(agent, lead, org):
    body = {"matchers": ['env="prod"'], "organisation": org.code}
    assert agent.post("/integrations/rules", body).status_code == 403
    assert (
        agent.post(
            "/integrations/silences", {"matchers": ['env="x"'], "ends_at": in_hours(1)}
        ).status_code
        == 403
    )
    created = lead.post("/integrations/rules", body)
    assert created.status_code == 201
    assert agent.get("/integrations/rules").status_code == 200
    rule_id = created.json()["id"]
    assert agent.patch(f"/integrations/rules/{rule_id}", {"order": 1}).status_code == 403
    assert delete(agent, f"/integrations/rules/{rule_id}").status_code == 403
    silence = lead.post("/integrations/silences", {"matchers": ['env="x"'], "ends_at": in_hours(1)})
    assert silence.status_code == 201
    assert (
        agent.post(f"/integrations/silences/{silence.json()['id']}/expire", {}).status_code == 403
    )


def test_silence_lifecycle_through_the_api(admin, make_integration):
    integration = make_integration("alertmanager")
    created = admin.post(
        "/integrations/silences",
        {
            "matchers": '{instance=~"web-.*", env!="staging"}',
            "ends_at": in_hours(2),
            "kind": "maintenance",
            "comment": "Kernel patching",
        },
    )
    assert created.status_code == 201, created.content
    silence = created.json()
    assert (silence["state"], silence["kind"], silence["created_by"]) == (
        "active",
        "maintenance",
        Silence.objects.get().created_by.username,
    )
    webhook(integration, am_body(am_alert(instance="web-1")))
    assert Alert.objects.get().is_silenced and not Ticket.objects.exists()

    later = admin.patch(f"/integrations/silences/{silence['id']}", {"ends_at": in_hours(4)})
    assert later.status_code == 200
    assert (
        admin.get("/integrations/silences", state="active").json()["items"][0]["id"]
        == silence["id"]
    )

    expired = admin.post(f"/integrations/silences/{silence['id']}/expire", {})
    assert expired.json()["state"] == "expired"
    assert admin.get("/integrations/silences", state="active").json()["items"] == []
    assert len(admin.get("/integrations/silences", state="expired").json()["items"]) == 1
    # an expired silence is history: changing it is a conflict, expiring again a no-op
    assert (
        admin.patch(f"/integrations/silences/{silence['id']}", {"comment": "x"}).status_code == 409
    )
    assert delete(admin, f"/integrations/silences/{silence['id']}").status_code == 204
    assert Silence.objects.count() == 1

    webhook(integration, am_body(am_alert(instance="web-2")))
    assert Ticket.objects.count() == 1  # no longer silenced


def test_pending_silence_and_its_checks(admin):
    pending = admin.post(
        "/integrations/silences",
        {"matchers": ['env="prod"'], "starts_at": in_hours(1), "ends_at": in_hours(3)},
    )
    assert pending.json()["state"] == "pending"
    backwards = admin.post(
        "/integrations/silences",
        {"matchers": ['env="prod"'], "starts_at": in_hours(3), "ends_at": in_hours(1)},
    )
    assert backwards.json()["detail"][0]["loc"] == ["body", "ends_at"]
    everything = admin.post(
        "/integrations/silences", {"matchers": ['env=~".*"'], "ends_at": in_hours(1)}
    )
    assert everything.status_code == 422
    assert "every alert" in everything.json()["detail"][0]["msg"]
    assert admin.post(
        "/integrations/silences",
        {"matchers": ['env="prod"'], "ends_at": in_hours(1), "integration_id": 999999},
    ).json()["detail"][0]["loc"] == ["body", "integration_id"]
    expired = admin.post(f"/integrations/silences/{pending.json()['id']}/expire", {}).json()
    assert expired["state"] == "expired" and expired["starts_at"] == expired["ends_at"]
