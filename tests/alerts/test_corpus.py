"""Every recorded payload under ../shared/corpus/alerts/ through the full HTTP path."""

from __future__ import annotations

import copy
import json

import pytest

from opsdesk.alerts.enums import AlertStatus, GroupStatus
from opsdesk.alerts.models import Alert, AlertGroup, DeadLetter, SnsSubscription
from opsdesk.alerts.sources.base import labels_fingerprint
from opsdesk.tickets.enums import Channel, EventKind, Priority, Severity, Status, TicketKind
from opsdesk.tickets.models import Ticket
from tests.alerts.conftest import corpus_bytes, corpus_json, webhook

pytestmark = pytest.mark.django_db


def only_incident() -> Ticket:
    tickets = list(Ticket.objects.all())
    assert len(tickets) == 1
    return tickets[0]


def test_alertmanager_firing_group_without_fingerprints_opens_one_incident(make_integration):
    integration = make_integration("alertmanager")
    response = webhook(
        integration, corpus_bytes("alertmanager/prometheus-msteams/prom_post_request.json")
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["created"] == 1 and len(body["incidents"]) == 1
    alert = Alert.objects.get()
    labels = corpus_json("alertmanager/prometheus-msteams/prom_post_request.json")["alerts"][0][
        "labels"
    ]
    assert alert.fingerprint == labels_fingerprint(labels)
    assert alert.status == AlertStatus.FIRING
    incident = only_incident()
    assert incident.reference == body["incidents"][0]
    assert (incident.kind, incident.channel) == (TicketKind.INCIDENT, Channel.MONITORING)
    assert incident.subject == "Server High Memory usage"
    # warning → simple severity, high priority
    assert (incident.severity, incident.priority) == (Severity.SIMPLE, Priority.HIGH)
    system = incident.events.filter(kind=EventKind.SYSTEM).get()
    assert system.actor_label == "alertmanager monitoring"
    assert system.data["labels"]["instance"] == "instance-with-hyphen_and_underscore"


def test_alertmanager_firing_then_resolved_auto_resolves(make_integration):
    integration = make_integration("alertmanager")
    firing = corpus_json("alertmanager/prometheus-msteams/prom_post_request.json")
    assert webhook(integration, firing).status_code == 200
    resolved = copy.deepcopy(firing)
    resolved["status"] = "resolved"
    resolved["alerts"][0]["status"] = "resolved"
    resolved["alerts"][0]["endsAt"] = "2018-03-07T07:00:00Z"
    assert webhook(integration, resolved).status_code == 200
    incident = only_incident()
    assert incident.status == Status.RESOLVED
    change = incident.events.filter(kind=EventKind.STATUS_CHANGED).get()
    assert change.actor is None and change.actor_label == "alertmanager monitoring"
    group = AlertGroup.objects.get()
    assert (group.status, group.firing_count, group.alert_count) == (GroupStatus.RESOLVED, 0, 1)
    alert = Alert.objects.get()
    assert alert.status == AlertStatus.RESOLVED and alert.count == 2


@pytest.mark.parametrize(
    "name",
    [
        "alertmanager/alerta/prometheus_v3_alert.json",
        "alertmanager/alerta/prometheus_v4_alert.json",
    ],
)
def test_alertmanager_v3_and_v4_critical_alerts(make_integration, name):
    integration = make_integration("alertmanager")
    assert webhook(integration, corpus_bytes(name)).status_code == 200
    incident = only_incident()
    assert (incident.severity, incident.priority) == (Severity.COMPLEX, Priority.URGENT)
    assert Alert.objects.get().status == AlertStatus.FIRING


def test_resolved_alert_never_seen_firing_is_stored_and_opens_nothing(make_integration):
    integration = make_integration("alertmanager")
    response = webhook(integration, corpus_bytes("alertmanager/prom2teams/all_ok.json"))
    assert response.status_code == 200
    alert = Alert.objects.get()
    assert (alert.fingerprint, alert.status) == ("dd19ae3d4e06ac55", AlertStatus.RESOLVED)
    assert alert.group is None
    assert not Ticket.objects.exists()


def test_two_alerts_with_one_fingerprint_collapse(make_integration):
    integration = make_integration("alertmanager")
    response = webhook(integration, corpus_bytes("alertmanager/prom2teams/all_ok_multiple.json"))
    assert response.status_code == 200
    assert response.json()["created"] == 1
    assert Alert.objects.get().fingerprint == "dd19ae3d4e06ac55"


@pytest.mark.parametrize(
    "name",
    [
        "alertmanager/prom2teams/with_common_items.json",
        "alertmanager/prom2teams/all_ok_extra_labels.json",
    ],
)
def test_common_items_and_extra_labels_are_kept(make_integration, name):
    integration = make_integration("alertmanager")
    assert webhook(integration, corpus_bytes(name)).status_code == 200
    alert = Alert.objects.get()
    expected = corpus_json(name)["alerts"][0]
    assert alert.labels.items() >= expected["labels"].items()
    assert alert.source_url == expected["generatorURL"]


def test_alert_without_mandatory_fields_is_refused_and_kept(make_integration):
    integration = make_integration("alertmanager")
    raw = corpus_bytes("alertmanager/prom2teams/without_mandatory_field.json")
    response = webhook(integration, raw)
    assert response.status_code == 422
    assert "alertname" in response.json()["detail"][0]["msg"]
    letter = DeadLetter.objects.get()
    assert (letter.integration, letter.reason) == (integration, "malformed")
    assert letter.body == raw.decode()
    assert not Alert.objects.exists()


def test_grafana_unified_alerting_two_alerts_two_groups(make_integration):
    integration = make_integration("grafana")
    response = webhook(
        integration, corpus_bytes("grafana/grafana-docs/webhook-notifier-example.json")
    )
    assert response.status_code == 200
    assert set(Alert.objects.values_list("fingerprint", flat=True)) == {
        "c6eadffa33fcdf37",
        "bc97ff14869b13e3",
    }
    # grouped by alertname: two different alert names, two incidents
    assert Ticket.objects.count() == 2


def test_grafana_legacy_alerting_then_ok_resolves(make_integration):
    integration = make_integration("grafana")
    assert (
        webhook(integration, corpus_bytes("grafana/alerta/grafana_alert_alerting.json")).status_code
        == 200
    )
    alert = Alert.objects.get()
    assert alert.fingerprint == "grafana-rule-7" and alert.status == AlertStatus.FIRING
    assert (
        webhook(integration, corpus_bytes("grafana/alerta/grafana_alert_ok.json")).status_code
        == 200
    )
    assert only_incident().status == Status.RESOLVED


def test_sns_subscription_confirmation_is_recorded_never_an_alert(make_integration):
    integration = make_integration("cloudwatch")
    raw = corpus_bytes("aws-sns-cloudwatch/alerta/cloudwatch_subscription_confirmation.json")
    response = webhook(integration, raw)
    assert response.status_code == 200
    assert response.json()["subscription"] is True
    subscription = SnsSubscription.objects.get()
    assert subscription.topic_arn == "arn:aws:sns:eu-west-1:1234567890:alerta-test"
    assert subscription.subscribe_url.startswith("https://sns.eu-west-1.amazonaws.com/")
    assert subscription.confirmed_at is None
    assert not Alert.objects.exists()


def test_cloudwatch_alarm_opens_an_incident(make_integration):
    integration = make_integration("cloudwatch")
    raw = corpus_bytes("aws-sns-cloudwatch/alerta/cloudwatch_notification.json")
    assert webhook(integration, raw).status_code == 200
    alert = Alert.objects.get()
    assert alert.fingerprint == "1234567890/EU (Ireland)/bucketbytesAlarm"
    assert alert.labels["dimension_BucketName"] == "try.alerta.io"
    assert only_incident().subject == "bucket bytes size exceeded"


def test_cloudwatch_insufficient_data_alone_stores_an_unknown_alert(make_integration):
    integration = make_integration("cloudwatch")
    raw = corpus_bytes("aws-sns-cloudwatch/alerta/cloudwatch_insufficient_data.json")
    assert webhook(integration, raw).status_code == 200
    assert Alert.objects.get().status == AlertStatus.UNKNOWN
    assert not Ticket.objects.exists()


def test_cloudwatch_insufficient_data_annotates_an_open_incident(make_integration):
    integration = make_integration("cloudwatch")
    alarm = corpus_json("aws-sns-cloudwatch/alerta/cloudwatch_notification.json")
    assert webhook(integration, alarm).status_code == 200
    message = json.loads(alarm["Message"])
    message.update(NewStateValue="INSUFFICIENT_DATA", NewStateReason="Insufficient Data")
    assert webhook(integration, {**alarm, "Message": json.dumps(message)}).status_code == 200
    incident = only_incident()
    assert incident.status == Status.NEW
    notes = list(incident.events.filter(kind=EventKind.SYSTEM).values_list("body", flat=True))
    assert any("Insufficient Data" in note for note in notes)
    assert Alert.objects.get().status == AlertStatus.FIRING


def test_cloudwatch_lambda_records_and_bare_alarm(make_integration):
    integration = make_integration("cloudwatch")
    bare = corpus_bytes(
        "aws-sns-cloudwatch/terraform-aws-notify-slack/events_cloudwatch_alarm.json"
    )
    assert webhook(integration, bare).status_code == 200
    assert only_incident().status == Status.NEW
    records = corpus_bytes(
        "aws-sns-cloudwatch/terraform-aws-notify-slack/messages_cloudwatch_alarm.json"
    )
    assert webhook(integration, records).status_code == 200
    ok = Alert.objects.get(labels__alertname="DBMigrationRequired")
    assert ok.status == AlertStatus.RESOLVED


def azure_payload(condition: str) -> dict:
    body = corpus_json("azure-monitor/azure-monitor-docs/common-schema-metric-resolved.json")
    body["data"]["essentials"]["monitorCondition"] = condition
    context = corpus_json(
        "azure-monitor/azure-monitor-docs/alertcontext-metric-static-threshold.json"
    )
    body["data"].update(context)
    return body


def test_azure_monitor_fired_then_resolved(make_integration):
    integration = make_integration("azure-monitor")
    assert webhook(integration, azure_payload("Fired")).status_code == 200
    alert = Alert.objects.get()
    assert alert.fingerprint.endswith("/alerts/aaaa0a0a-bb1b-cc2c-dd3d-eeeeee4e4e4e")
    # Sev3 is informational: simple severity, normal priority
    assert (only_incident().severity, only_incident().priority) == (
        Severity.SIMPLE,
        Priority.NORMAL,
    )
    raw = corpus_bytes("azure-monitor/azure-monitor-docs/common-schema-metric-resolved.json")
    assert webhook(integration, raw).status_code == 200
    assert only_incident().status == Status.RESOLVED


def test_azure_dynamic_threshold_context_is_accepted(make_integration):
    integration = make_integration("azure-monitor")
    body = azure_payload("Fired")
    body["data"].update(
        corpus_json("azure-monitor/azure-monitor-docs/alertcontext-metric-dynamic-threshold.json")
    )
    assert webhook(integration, body).status_code == 200
    assert Alert.objects.get().status == AlertStatus.FIRING


def test_datadog_triggered_then_recovered(make_integration):
    integration = make_integration("datadog")
    fired = corpus_json("datadog/relay-integrations-datadog/event-fired-example.json")
    assert webhook(integration, fired).status_code == 200
    assert only_incident().subject == "[TEST] Host Cluster Alert"
    recovered = {
        **fired,
        "id": "5485379890863845999",
        "title": "[Recovered] [TEST] Host Cluster Alert",
    }
    assert webhook(integration, recovered).status_code == 200
    assert Alert.objects.count() == 1
    assert only_incident().status == Status.RESOLVED


@pytest.mark.parametrize(
    ("preset", "opened", "closed", "fingerprint"),
    [
        (
            "stackdriver",
            "other/alerta/stackdriver_open.json",
            "other/alerta/stackdriver_closed.json",
            "f2e08c333dc64cb09f75eaab355393bz",
        ),
        ("pingdom", "other/alerta/pingdom_down.json", "other/alerta/pingdom_up.json", "803318"),
    ],
)
def test_generic_presets_open_then_resolve(make_integration, preset, opened, closed, fingerprint):
    integration = make_integration("generic", field_mapping={"preset": preset})
    assert webhook(integration, corpus_bytes(opened)).status_code == 200
    assert Alert.objects.get().fingerprint == fingerprint
    assert only_incident().status == Status.NEW
    assert webhook(integration, corpus_bytes(closed)).status_code == 200
    assert only_incident().status == Status.RESOLVED


def test_generic_new_relic_preset(make_integration):
    integration = make_integration("generic", field_mapping={"preset": "newrelic"})
    assert (
        webhook(integration, corpus_bytes("other/alerta/new_relic_notification.json")).status_code
        == 200
    )
    alert = Alert.objects.get()
    assert (alert.fingerprint, alert.severity) == ("0", "info")
    assert only_incident().subject == "New Relic Alert - Test Condition"
