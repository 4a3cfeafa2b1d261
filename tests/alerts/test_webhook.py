"""The webhook's delivery semantics: authentication, dead letters, signatures, overload."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import OperationalError

from opsdesk.alerts import apis
from opsdesk.alerts.enums import DeadLetterReason
from opsdesk.alerts.models import Alert, DeadLetter, Integration
from opsdesk.alerts.sources.base import hmac_signature
from opsdesk.tenancy.enums import StaffRole
from opsdesk.tickets.enums import Severity, Status
from opsdesk.tickets.models import Ticket
from tests.alerts.conftest import webhook
from tests.api.conftest import client_for
from tests.factories import make_staff, team

pytestmark = pytest.mark.django_db

GENERIC_ALERT = {
    "fingerprint": "fp-1",
    "status": "firing",
    "summary": "Disk full",
    "severity": "critical",
    "labels": {"host": "db-1"},
}


def test_unknown_token_is_404_and_dead_lettered(make_integration):
    integration = make_integration("alertmanager")
    integration.token = "not-the-token"
    response = webhook(integration, {"alerts": []}, headers={"Authorization": "Bearer secret"})
    assert response.status_code == 404
    letter = DeadLetter.objects.get()
    assert (letter.reason, letter.integration, letter.kind) == (
        DeadLetterReason.UNKNOWN_TOKEN,
        None,
        "alertmanager",
    )
    assert letter.headers["authorization"] == "***"


def test_unknown_kind_is_404_and_keeps_nothing(make_integration):
    integration = make_integration("alertmanager")
    integration.kind = "nagios"
    assert webhook(integration, {"alerts": []}).status_code == 404
    assert not DeadLetter.objects.exists()


def test_inactive_integration_is_404(make_integration):
    integration = make_integration("alertmanager")
    Integration.objects.filter(pk=integration.pk).update(is_active=False)
    assert webhook(integration, {"alerts": []}).status_code == 404
    assert DeadLetter.objects.get().reason == DeadLetterReason.UNKNOWN_TOKEN


def test_a_body_that_is_not_json_is_422_and_kept(make_integration):
    integration = make_integration("alertmanager")
    response = webhook(integration, b"\xff{not json")
    assert response.status_code == 422
    letter = DeadLetter.objects.get()
    assert letter.reason == DeadLetterReason.MALFORMED
    assert letter.body.startswith("\\xff{not json")


def test_odd_shapes_are_422_never_500(make_integration):
    integration = make_integration("alertmanager")
    for body in ([1, 2], {"alerts": [1]}, {"alerts": [{"labels": ["x"]}]}, "text"):
        assert webhook(integration, body).status_code == 422
    assert DeadLetter.objects.count() == 4


def test_generic_hmac_signature_good_and_bad(make_integration):
    integration = make_integration("generic", hmac_secret="s3cret")
    body = json.dumps(GENERIC_ALERT).encode()
    good = webhook(
        integration,
        body,
        headers={"X-OpsDesk-Signature": "sha256=" + hmac_signature("s3cret", body)},
    )
    assert good.status_code == 200
    bad = webhook(integration, body, headers={"X-OpsDesk-Signature": "sha256=" + "0" * 64})
    assert bad.status_code == 401
    missing = webhook(integration, body)
    assert missing.status_code == 401
    letters = DeadLetter.objects.filter(reason=DeadLetterReason.BAD_SIGNATURE)
    assert letters.count() == 2
    assert all(letter.headers.get("x-opsdesk-signature", "***") == "***" for letter in letters)
    assert Alert.objects.get().count == 1


def test_generic_default_mapping(make_integration):
    integration = make_integration("generic")
    assert webhook(integration, GENERIC_ALERT).status_code == 200
    incident = Ticket.objects.get()
    assert (incident.subject, incident.severity) == ("Disk full", Severity.COMPLEX)


def test_zabbix_media_type_contract_problem_then_resolved(make_integration):
    integration = make_integration("zabbix")
    problem = {
        "event_id": "1001",
        "event_status": "PROBLEM",
        "trigger_id": "23456",
        "trigger_name": "High CPU utilisation",
        "severity": "High",
        "host": "web-01",
        "starts_at": "2026-11-28T01:00:00Z",
        "tags": {"service": "shop"},
    }
    assert webhook(integration, problem).status_code == 200
    alert = Alert.objects.get()
    assert (alert.fingerprint, alert.labels["service"]) == ("zabbix-trigger-23456", "shop")
    incident = Ticket.objects.get()
    assert incident.subject == "web-01: High CPU utilisation"
    assert webhook(integration, {**problem, "event_status": "RESOLVED"}).status_code == 200
    incident.refresh_from_db()
    assert incident.status == Status.RESOLVED


def test_zabbix_media_type_definition_ships_with_the_source():
    path = Path(__file__).resolve().parents[2] / "src/opsdesk/alerts/sources/zabbix_mediatype.yaml"
    text = path.read_text()
    for field in ("event_id", "event_status", "trigger_id", "trigger_name", "severity", "host"):
        assert field in text


def test_overload_answers_503_with_retry_after(make_integration, monkeypatch):
    """Fault injection: the database refusing work (SQLite 'database is locked')."""
    integration = make_integration("alertmanager")

    def locked(**kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(apis, "webhook_receive", locked)
    response = webhook(integration, {"alerts": []})
    assert response.status_code == 503
    assert response["Retry-After"] == "5"


# --- staff API and command -----------------------------------------------------------------


def test_staff_lists_integrations_triage_and_dead_letters(make_integration):
    make_integration("alertmanager", organisation=None)
    integration = Integration.objects.get()
    webhook(integration, {"alerts": [{"status": "firing", "labels": {"alertname": "X"}}]})
    webhook(integration, b"nope")
    agent = client_for(make_staff(team=team("service-operations")))
    listed = agent.get("/integrations").json()["items"]
    assert [i["name"] for i in listed] == ["alertmanager monitoring"]
    assert "token" not in listed[0]
    triage = agent.get("/integrations/alert-groups", status="triage").json()["items"]
    assert [g["summary"] for g in triage] == ["X"] and triage[0]["incident_reference"] is None
    assert agent.get("/integrations/dead-letters").status_code == 403
    admin = client_for(make_staff(staff_role=StaffRole.ADMIN))
    letters = admin.get("/integrations/dead-letters").json()["items"]
    assert [letter["body"] for letter in letters] == ["nope"]


def test_staff_see_the_alerts_behind_an_incident(make_integration):
    integration = make_integration("alertmanager")
    body = {"alerts": [{"status": "firing", "labels": {"alertname": "X", "instance": "a"}}]}
    webhook(integration, body)
    webhook(integration, body)
    reference = Ticket.objects.get().reference
    admin = client_for(make_staff(staff_role=StaffRole.ADMIN))
    alerts = admin.get(f"/integrations/incidents/{reference}/alerts").json()
    assert [(a["labels"]["instance"], a["count"], a["status"]) for a in alerts] == [
        ("a", 2, "firing")
    ]
    assert admin.get("/integrations/incidents/INC-2026-999999/alerts").status_code == 404


def test_integration_command_creates_and_lists(org, capsys, settings):
    settings.OPSDESK_BASE_URL = "https://opsdesk.example"
    call_command(
        "integration",
        "create",
        "--kind",
        "alertmanager",
        "--name",
        "Prometheus prod",
        "--org",
        org.code,
    )
    url = capsys.readouterr().out.strip()
    integration = Integration.objects.get()
    assert url == f"https://opsdesk.example/api/v1/integrations/alertmanager/{integration.token}/"
    assert integration.organisation == org
    call_command("integration", "list")
    listed = json.loads(capsys.readouterr().out)
    assert (listed["name"], listed["url"]) == ("Prometheus prod", url)
