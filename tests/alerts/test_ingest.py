"""Noise control, mapping, silences and incident lifecycle through the webhook."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from opsdesk.alerts.enums import AlertStatus, GroupStatus, ResolveMode, SilenceKind
from opsdesk.alerts.models import Alert, AlertGroup, Integration
from opsdesk.alerts.selectors import integration_cache_clear, integration_for_token
from opsdesk.alerts.services import (
    FLAP_THRESHOLD,
    REOPEN_WINDOW,
    mapping_rule_create,
    silence_create,
)
from opsdesk.core.clock import frozen_at, now
from opsdesk.tickets.enums import EventKind, Priority, Severity, Status
from opsdesk.tickets.models import Ticket, TimelineEvent
from opsdesk.tickets.services import ticket_status_change
from tests.alerts.conftest import webhook
from tests.factories import make_contract, make_org

pytestmark = pytest.mark.django_db


def am_alert(status: str = "firing", **labels: str) -> dict:
    labels = {"alertname": "HostDown", "instance": "web-1", "severity": "critical", **labels}
    return {
        "status": status,
        "labels": labels,
        "annotations": {"summary": f"{labels['alertname']} on {labels['instance']}"},
        "startsAt": "2026-11-28T01:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
    }


def am_body(*alerts: dict) -> dict:
    return {
        "version": "4",
        "status": alerts[0]["status"],
        "receiver": "opsdesk",
        "alerts": list(alerts),
    }


def test_repeats_count_up_without_new_tickets_or_timeline_entries(make_integration):
    integration = make_integration("alertmanager")
    assert webhook(integration, am_body(am_alert())).status_code == 200
    events = TimelineEvent.objects.count()
    for _ in range(3):
        response = webhook(integration, am_body(am_alert()))
        assert response.json() == {
            "created": 0,
            "updated": 1,
            "incidents": [],
            "subscription": False,
        }
    alert = Alert.objects.get()
    assert alert.count == 4
    assert alert.last_seen >= alert.first_seen
    assert Ticket.objects.count() == 1
    assert TimelineEvent.objects.count() == events


def test_alerts_with_the_same_group_key_share_one_incident(make_integration):
    integration = make_integration("alertmanager")
    webhook(integration, am_body(am_alert(instance="web-1")))
    webhook(integration, am_body(am_alert(instance="web-2")))
    group = AlertGroup.objects.get()
    assert (group.alert_count, group.firing_count) == (2, 2)
    assert Ticket.objects.count() == 1
    webhook(integration, am_body(am_alert("resolved", instance="web-1")))
    incident = Ticket.objects.get()
    assert incident.status == Status.NEW  # web-2 still fires
    webhook(integration, am_body(am_alert("resolved", instance="web-2")))
    incident.refresh_from_db()
    assert incident.status == Status.RESOLVED


def test_empty_group_by_gives_one_incident_per_alert(make_integration):
    integration = make_integration("alertmanager", group_by=[])
    webhook(integration, am_body(am_alert(instance="web-1"), am_alert(instance="web-2")))
    assert Ticket.objects.count() == 2


def test_silenced_alerts_are_stored_but_open_no_incident(make_integration):
    integration = make_integration("alertmanager")
    silence_create(
        matchers={"instance": "/web-.*/"},
        starts_at=now() - timedelta(minutes=1),
        ends_at=now() + timedelta(hours=1),
    )
    assert webhook(integration, am_body(am_alert())).status_code == 200
    alert = Alert.objects.get()
    assert alert.is_silenced
    assert alert.group.status == GroupStatus.SILENCED
    assert not Ticket.objects.exists()


def test_maintenance_window_only_while_it_runs(make_integration):
    integration = make_integration("alertmanager")
    start = now() + timedelta(hours=1)
    silence_create(
        kind=SilenceKind.MAINTENANCE,
        matchers={"instance": "web-1"},
        starts_at=start,
        ends_at=start + timedelta(hours=2),
    )
    webhook(integration, am_body(am_alert(alertname="Before")))
    with frozen_at(start + timedelta(minutes=5)):
        webhook(integration, am_body(am_alert(alertname="During")))
    assert list(Ticket.objects.values_list("subject", flat=True)) == ["Before on web-1"]
    assert Alert.objects.get(labels__alertname="During").is_silenced


def test_mapping_rule_routes_to_organisation_contract_and_severity(make_integration):
    integration = make_integration("alertmanager")
    customer = make_org("Mapped Customer")
    contract = make_contract(customer)
    mapping_rule_create(
        matchers={"instance": "/db-[0-9]+/"},
        organisation=customer,
        contract=contract,
        severity=Severity.URGENT,
    )
    webhook(integration, am_body(am_alert(instance="db-7")))
    webhook(integration, am_body(am_alert(alertname="Other", instance="web-1")))
    mapped = Ticket.objects.get(organisation=customer)
    assert (mapped.contract, mapped.severity, mapped.priority) == (
        contract,
        Severity.URGENT,
        Priority.URGENT,
    )
    assert Ticket.objects.get(subject="Other on web-1").organisation == integration.organisation


def test_unmapped_alert_without_any_organisation_waits_in_triage(make_integration):
    integration = make_integration("alertmanager", organisation=None)
    assert webhook(integration, am_body(am_alert())).status_code == 200
    group = AlertGroup.objects.get()
    assert (group.status, group.incident) == (GroupStatus.TRIAGE, None)
    assert Alert.objects.get().group == group
    assert not Ticket.objects.exists()


def test_annotate_mode_notes_the_resolution_without_resolving(make_integration):
    integration = make_integration("alertmanager", resolve_mode=ResolveMode.ANNOTATE)
    webhook(integration, am_body(am_alert()))
    webhook(integration, am_body(am_alert("resolved")))
    incident = Ticket.objects.get()
    assert incident.status == Status.NEW
    bodies = incident.events.filter(kind=EventKind.SYSTEM).values_list("body", flat=True)
    assert "The source resolved every alert." in bodies


def test_firing_again_within_the_window_reopens_the_same_incident(make_integration):
    integration = make_integration("alertmanager")
    webhook(integration, am_body(am_alert()))
    webhook(integration, am_body(am_alert("resolved")))
    webhook(integration, am_body(am_alert()))
    incident = Ticket.objects.get()
    assert incident.status == Status.OPEN
    assert AlertGroup.objects.get().status == GroupStatus.FIRING


def test_firing_again_after_the_window_opens_a_new_incident(make_integration):
    integration = make_integration("alertmanager")
    webhook(integration, am_body(am_alert()))
    webhook(integration, am_body(am_alert("resolved")))
    with frozen_at(now() + REOPEN_WINDOW + timedelta(minutes=1)):
        webhook(integration, am_body(am_alert()))
    assert Ticket.objects.count() == 2
    assert AlertGroup.objects.count() == 2
    assert Alert.objects.get().group == AlertGroup.objects.order_by("-id").first()


def test_firing_after_the_incident_closed_opens_a_new_incident(make_integration):
    integration = make_integration("alertmanager")
    webhook(integration, am_body(am_alert()))
    webhook(integration, am_body(am_alert("resolved")))
    first = Ticket.objects.get()
    ticket_status_change(ticket=first, actor=None, status=Status.CLOSED)
    webhook(integration, am_body(am_alert()))
    assert Ticket.objects.exclude(pk=first.pk).get().status == Status.NEW


def test_flapping_stops_timeline_noise_and_auto_resolve(make_integration):
    integration = make_integration("alertmanager")
    webhook(integration, am_body(am_alert()))
    statuses = ["resolved", "firing"] * FLAP_THRESHOLD
    for status in statuses:
        webhook(integration, am_body(am_alert(status)))
    alert = Alert.objects.get()
    assert alert.is_flapping
    incident = Ticket.objects.get()
    bodies = list(incident.events.filter(kind=EventKind.SYSTEM).values_list("body", flat=True))
    assert sum("flapping" in b for b in bodies) == 1
    # creation note + (threshold - 1) state-change notes before flapping began + the flapping note
    assert len(bodies) == 1 + (FLAP_THRESHOLD - 1) + 1
    webhook(integration, am_body(am_alert("resolved")))
    incident.refresh_from_db()
    assert incident.status != Status.RESOLVED


def test_state_changes_after_the_flap_window_are_normal_again(make_integration):
    integration = make_integration("alertmanager")
    webhook(integration, am_body(am_alert()))
    for status in ["resolved", "firing"] * FLAP_THRESHOLD:
        webhook(integration, am_body(am_alert(status)))
    with frozen_at(now() + timedelta(hours=2)):
        webhook(integration, am_body(am_alert("resolved")))
    assert not Alert.objects.get().is_flapping
    assert Ticket.objects.get().status == Status.RESOLVED


def test_mixed_batch_counts_new_and_repeats(make_integration):
    integration = make_integration("alertmanager")
    webhook(integration, am_body(am_alert(instance="web-1")))
    response = webhook(integration, am_body(am_alert(instance="web-1"), am_alert(instance="web-2")))
    assert response.json()["created"] == 1 and response.json()["updated"] == 1
    assert Alert.objects.get(labels__instance="web-1").count == 2
    assert Alert.objects.filter(status=AlertStatus.FIRING).count() == 2


def test_a_repeat_is_one_update(make_integration, django_assert_max_num_queries):
    integration = make_integration("alertmanager")
    webhook(integration, am_body(am_alert()))
    with django_assert_max_num_queries(1) as captured:
        assert webhook(integration, am_body(am_alert())).json()["updated"] == 1
    # the integration is cached per process; the repeat is one UPDATE … RETURNING
    assert "UPDATE" in captured.captured_queries[0]["sql"]
    integration_cache_clear()
    with django_assert_max_num_queries(2) as captured:
        assert webhook(integration, am_body(am_alert())).json()["updated"] == 1
    assert [q["sql"].split()[0] for q in captured.captured_queries] == ["SELECT", "UPDATE"]
    assert Alert.objects.get().count == 3


def test_a_batch_of_repeats_is_one_update(make_integration, django_assert_max_num_queries):
    integration = make_integration("alertmanager")
    alerts = [am_alert(instance=f"web-{n}") for n in range(5)]
    webhook(integration, am_body(*alerts))
    with django_assert_max_num_queries(4) as captured:  # and the transaction's statements
        assert webhook(integration, am_body(*alerts)).json()["updated"] == 5
    statements = [q["sql"] for q in captured.captured_queries]
    assert [s.split()[0] for s in statements if "alerts_alert" in s] == ["UPDATE"]
    assert set(Alert.objects.values_list("count", flat=True)) == {2}


def test_the_integration_cache_is_short_and_skips_unknown_tokens(make_integration):
    integration = make_integration("alertmanager")
    assert integration_for_token(kind="alertmanager", token="nope") is None
    assert integration_for_token(kind="alertmanager", token=integration.token) == integration
    Integration.objects.filter(pk=integration.pk).update(is_active=False)
    # still cached for a few seconds in this process …
    assert integration_for_token(kind="alertmanager", token=integration.token) is not None
    integration_cache_clear()  # … which the admin's save clears at once
    assert integration_for_token(kind="alertmanager", token=integration.token) is None


# Autocommit, as in production (flushing afterwards; serialized_rollback restores the seeds).
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_only_calls_that_just_count_repeats_commit_asynchronously(make_integration, settings):
    """PostgreSQL, when the site opts in: a call that only bumps counts may skip the WAL
    flush wait; a call that stores an alert never does (and nothing relaxes inside a
    caller's transaction). By default every call waits for a durable commit."""
    integration = make_integration("alertmanager")
    webhook(integration, am_body(am_alert()))
    with CaptureQueriesContext(connection) as default:
        assert webhook(integration, am_body(am_alert())).status_code == 200
    assert not any("synchronous_commit" in q["sql"] for q in default.captured_queries)
    settings.OPSDESK = {**settings.OPSDESK, "ALERTS_REPEATS_ASYNC_COMMIT": True}

    def relaxed(body) -> bool:
        with CaptureQueriesContext(connection) as captured:
            assert webhook(integration, body).status_code == 200
        return any("synchronous_commit" in q["sql"] for q in captured.captured_queries)

    postgres = connection.vendor == "postgresql"
    assert relaxed(am_body(am_alert())) is postgres
    assert relaxed(am_body(am_alert(), am_alert(instance="web-2"))) is False  # web-2 is new
    assert relaxed(am_body(am_alert(), am_alert(instance="web-2"))) is postgres
    with transaction.atomic():
        assert relaxed(am_body(am_alert())) is False
    assert Alert.objects.get(labels__instance="web-1").count == 6
