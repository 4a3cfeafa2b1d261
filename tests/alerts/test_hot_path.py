"""The webhook's cost per call: its short path through Django (alerts.middleware), the
queries of a repeat and of a new alert, and the per-process cache of rules and silences
that must still see every change at once."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from opsdesk.alerts.enums import GroupStatus
from opsdesk.alerts.models import Alert, AlertGroup
from opsdesk.alerts.services import (
    mapping_rule_create,
    mapping_rule_delete,
    mapping_rule_update,
    silence_create,
    silence_expire,
)
from opsdesk.core.clock import now
from opsdesk.tickets.enums import EventKind
from opsdesk.tickets.models import Ticket, TimelineEvent
from tests.alerts.conftest import webhook
from tests.alerts.test_ingest import am_alert, am_body
from tests.factories import make_org

pytestmark = pytest.mark.django_db

MIDDLEWARE = "opsdesk.alerts.middleware.WebhookMiddleware"


def _rows_read(captured: CaptureQueriesContext, table: str) -> list[str]:
    """Statements that read rows of ``table`` (the configuration stamp only counts them)."""
    return [
        q["sql"]
        for q in captured.captured_queries
        if f'"{table}"."id"' in q["sql"] and q["sql"].startswith("SELECT")
    ]


def _alerts_statements(captured: CaptureQueriesContext) -> list[tuple[str, str]]:
    """(verb, table) of the statements on the alerts app's tables, the stamp left out."""
    found = []
    for query in captured.captured_queries:
        sql = query["sql"]
        target = re.search(r'\b(?:UPDATE|INTO|FROM)\s+"(alerts_\w+)"', sql)
        if target is not None and "COUNT(*)" not in sql:
            found.append((sql.split()[0], target[1]))
    return found


def test_a_repeat_through_http_is_one_statement(make_integration, django_assert_num_queries):
    integration = make_integration("alertmanager")
    webhook(integration, am_body(am_alert()))
    with django_assert_num_queries(1) as captured:
        answer = webhook(integration, am_body(am_alert()))
    assert answer.status_code == 200
    assert answer.json() == {"created": 0, "updated": 1, "incidents": [], "subscription": False}
    assert captured.captured_queries[0]["sql"].lstrip().upper().startswith(("UPDATE", "WITH"))


def test_a_new_alert_reads_no_rule_or_silence_rows_once_cached(make_integration):
    integration = make_integration("alertmanager", group_by=["instance"])
    silence_create(
        matchers=['instance="maintenance-host"'],
        starts_at=now() - timedelta(minutes=1),
        ends_at=now() + timedelta(hours=1),
    )
    mapping_rule_create(matchers=['instance="db-1"'], organisation=make_org("Mapped Customer"))
    webhook(integration, am_body(am_alert(instance="web-1")))  # fills this process's cache
    with CaptureQueriesContext(connection) as captured:
        webhook(integration, am_body(am_alert(instance="web-2")))
    assert _rows_read(captured, "alerts_silence") == []
    assert _rows_read(captured, "alerts_mappingrule") == []
    # the alerts app's own statements: the repeat UPDATE that missed, the locked read of
    # known alerts, the group lookup, the group and the alert; no recount of the new group
    expected = [
        ("UPDATE", "alerts_alert"),
        ("SELECT", "alerts_alert"),
        ("SELECT", "alerts_alertgroup"),
        ("INSERT", "alerts_alertgroup"),
        ("INSERT", "alerts_alert"),
    ]
    if connection.vendor == "postgresql":
        # The read of known alerts takes the group-key lock, so the group look-up after it
        # needs no second look; the group, the alert, the incident with its timers and
        # both timeline entries are one INSERT.
        (locking,) = [q["sql"] for q in captured.captured_queries if "advisory" in q["sql"]]
        assert 'FROM "alerts_alert" a' in locking and "FOR UPDATE OF a" in locking
        expected[3:] = [("WITH", "alerts_alertgroup")]
        insert = captured.captured_queries[-1]["sql"]
        for table in ("alerts_alert", "tickets_ticket", "jobs_timer", "tickets_timelineevent"):
            assert f'INSERT INTO "{table}"' in insert, table
        assert insert.count('INSERT INTO "tickets_timelineevent"') == 2
    assert _alerts_statements(captured) == expected
    # a matching rule: that one rule is read, with its organisation and contract
    with CaptureQueriesContext(connection) as captured:
        webhook(integration, am_body(am_alert(instance="db-1")))
    assert len(_rows_read(captured, "alerts_mappingrule")) == 1
    assert Ticket.objects.filter(organisation__name="Mapped Customer").count() == 1


def test_rule_and_silence_changes_reach_the_next_alert(make_integration):
    integration = make_integration("alertmanager", group_by=["instance"])
    webhook(integration, am_body(am_alert(instance="web-1")))  # cache filled, nothing set up
    silence = silence_create(
        matchers=['instance=~"web-.*"'],
        starts_at=now() - timedelta(minutes=1),
        ends_at=now() + timedelta(hours=1),
    )
    webhook(integration, am_body(am_alert(instance="web-2")))
    assert Alert.objects.get(labels__instance="web-2").is_silenced
    silence_expire(silence=silence)
    webhook(integration, am_body(am_alert(instance="web-3")))
    assert not Alert.objects.get(labels__instance="web-3").is_silenced

    first, second = make_org("First Customer"), make_org("Second Customer")
    rule = mapping_rule_create(matchers=['instance=~"db-.*"'], organisation=first)
    webhook(integration, am_body(am_alert(instance="db-1")))
    mapping_rule_update(rule=rule, organisation=second)
    webhook(integration, am_body(am_alert(instance="db-2")))
    mapping_rule_delete(rule=rule)
    webhook(integration, am_body(am_alert(instance="db-3")))
    owners = dict(Ticket.objects.values_list("subject", "organisation__name"))
    assert owners["HostDown on db-1"] == "First Customer"
    assert owners["HostDown on db-2"] == "Second Customer"
    assert owners["HostDown on db-3"] == integration.organisation.name


def test_an_organisation_deactivated_after_caching_is_refused(make_integration):
    """The cached rules hold no organisation: the matched rule's is read fresh."""
    integration = make_integration("alertmanager", group_by=["instance"])
    customer = make_org("Leaving Customer")
    mapping_rule_create(matchers=['instance=~"db-.*"'], organisation=customer)
    webhook(integration, am_body(am_alert(instance="db-1")))
    customer.is_active = False
    customer.save()
    webhook(integration, am_body(am_alert(instance="db-2")))
    group = AlertGroup.objects.get(group_key="instance=db-2")
    assert (group.status, group.incident) == (GroupStatus.TRIAGE, None)
    assert Ticket.objects.count() == 1


def test_groups_opened_by_a_call_are_counted_without_a_recount(make_integration):
    integration = make_integration("alertmanager", group_by=["alertname"])
    webhook(integration, am_body(am_alert(instance="web-1")))
    three = [am_alert(alertname="DiskFull", instance=f"db-{n}") for n in range(3)]
    webhook(integration, am_body(*three))
    counts = dict(AlertGroup.objects.values_list("group_key", "alert_count"))
    assert counts == {"alertname=HostDown": 1, "alertname=DiskFull": 3}
    assert set(AlertGroup.objects.values_list("firing_count", flat=True)) == {1, 3}
    # an existing group is recounted as before
    webhook(integration, am_body(am_alert(instance="web-2")))
    webhook(integration, am_body(am_alert("resolved", instance="web-1")))
    group = AlertGroup.objects.get(group_key="alertname=HostDown")
    assert (group.alert_count, group.firing_count) == (2, 1)


def _answers(integration) -> list[tuple[int, str]]:
    client = Client()
    base = f"/api/v1/integrations/{integration.kind}"
    calls = [
        client.post(f"{base}/{integration.token}/", b"{}", content_type="application/json"),
        client.post(f"{base}/{integration.token}/", b"nope", content_type="application/json"),
        client.post(f"{base}/not-a-token/", b"{}", content_type="application/json"),
        client.post(
            f"/api/v1/integrations/nagios/{integration.token}/",
            b"{}",
            content_type="application/json",
        ),
        client.get(f"{base}/{integration.token}/"),
    ]
    return [(r.status_code, r.content.decode()) for r in calls]


def test_the_short_path_answers_as_the_api_router_does(make_integration, settings):
    integration = make_integration("alertmanager")
    assert MIDDLEWARE in django_settings.MIDDLEWARE
    short = _answers(integration)
    settings.MIDDLEWARE = [m for m in django_settings.MIDDLEWARE if m != MIDDLEWARE]
    assert _answers(integration) == short
    assert [status for status, _ in short] == [422, 422, 404, 404, 405]


def test_the_short_path_sets_no_cookie_and_keeps_security_headers(make_integration):
    integration = make_integration("alertmanager")
    answer = webhook(integration, am_body(am_alert()))
    assert answer.status_code == 200
    assert not answer.cookies
    assert "Cookie" not in answer.get("Vary", "")
    assert answer["X-Content-Type-Options"] == "nosniff"
    assert answer["Content-Type"] == "application/json"


def test_timeline_entries_follow_the_callers_language(make_integration):
    integration = make_integration("alertmanager")
    webhook(integration, am_body(am_alert(instance="web-1")), {"Accept-Language": "ko"})
    webhook(integration, am_body(am_alert(instance="web-2")), {"Accept-Language": "en"})
    system = TimelineEvent.objects.filter(kind=EventKind.SYSTEM).order_by("id")
    bodies = list(system.values_list("body", flat=True))
    assert bodies[0].startswith("알림 발생") and bodies[1].startswith("Alert firing")


def test_refusals_are_logged_without_the_token(make_integration, caplog):
    integration = make_integration("alertmanager")
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert webhook(integration, b"not json").status_code == 422
    logged = [r.getMessage() for r in caplog.records if r.name == "django.request"]
    assert len(logged) == 1
    assert logged[0].endswith(": /api/v1/integrations/alertmanager/***/")
    assert integration.token not in caplog.text
