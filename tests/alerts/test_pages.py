"""The agent UI: the silences page (htmx) and the alerts panel on an incident's page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.test import Client

from opsdesk.alerts.models import MappingRule, Silence
from opsdesk.alerts.selectors import alert_panel_context
from opsdesk.alerts.services import silence_create
from opsdesk.core.clock import now
from opsdesk.tenancy.enums import MemberRole, StaffRole
from opsdesk.tickets.models import Ticket
from tests.alerts.conftest import webhook
from tests.alerts.test_ingest import am_alert, am_body
from tests.factories import make_staff, make_ticket, team

pytestmark = pytest.mark.django_db

PAGE = "/alerts/silences/"


def browser(user) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


@pytest.fixture
def lead() -> Client:
    return browser(make_staff(team=team("service-operations"), role=MemberRole.TEAM_LEAD))


def test_lead_creates_and_expires_a_silence_with_htmx(lead):
    page = lead.get(PAGE)
    assert page.status_code == 200
    assert b"New silence" in page.content and b"No silence is active or pending." in page.content
    form = {
        "kind": "maintenance",
        "matchers": 'instance=~"web-.*"\nenv="prod"',
        "duration": "4",
        "comment": "Kernel patching",
    }
    created = lead.post(PAGE, form, headers={"HX-Request": "true"})
    assert created.status_code == 200
    silence = Silence.objects.get()
    assert silence.matchers == [
        {"name": "instance", "op": "=~", "value": "web-.*"},
        {"name": "env", "op": "=", "value": "prod"},
    ]
    assert (
        timedelta(hours=3, minutes=59) < silence.ends_at - silence.starts_at <= timedelta(hours=4)
    )
    fragment = created.content.decode()
    assert fragment.startswith('<div id="silences">')  # the fragment htmx swaps in
    assert "instance=~&quot;web-.*&quot;, env=&quot;prod&quot;" in fragment
    assert "Kernel patching" in fragment

    expired = lead.post(f"/alerts/silences/{silence.pk}/expire/", headers={"HX-Request": "true"})
    assert expired.status_code == 200
    silence.refresh_from_db()
    assert silence.ends_at <= now()
    assert "No silence is active or pending." in expired.content.decode()


def test_bad_matchers_come_back_next_to_the_field(lead):
    response = lead.post(
        PAGE,
        {"kind": "silence", "matchers": "env~prod", "duration": "1"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and response["HX-Reswap"] == "outerHTML"
    assert "cannot read &#x27;env~prod&#x27;" in response.content.decode()
    plain = lead.post(PAGE, {"kind": "silence", "matchers": 'env=~".*"', "duration": "1"})
    assert plain.status_code == 422 and b"every alert" in plain.content
    assert not Silence.objects.exists()


def test_plain_post_redirects_back(lead):
    response = lead.post(PAGE, {"kind": "silence", "matchers": 'env="prod"', "duration": "1"})
    assert response.status_code == 302 and response["Location"] == PAGE


def test_agents_see_silences_but_cannot_change_them():
    silence = silence_create(matchers=['env="prod"'], ends_at=now() + timedelta(hours=1))
    agent = browser(make_staff(team=team("service-operations")))
    page = agent.get(PAGE).content.decode()
    assert "env=&quot;prod&quot;" in page
    assert "New silence" not in page and "Expire" not in page
    assert (
        agent.post(PAGE, {"kind": "silence", "matchers": 'a="b"', "duration": "1"}).status_code
        == 403
    )
    assert agent.post(f"/alerts/silences/{silence.pk}/expire/").status_code == 403
    assert Client().get(PAGE).status_code == 302  # to the login page


def test_incident_page_shows_its_alerts(make_integration, django_assert_num_queries):
    integration = make_integration("alertmanager")
    webhook(integration, am_body(am_alert(instance="web-1"), am_alert(instance="web-2")))
    webhook(integration, am_body(am_alert(instance="web-1")))
    webhook(integration, am_body(am_alert("resolved", instance="web-2")))
    incident = Ticket.objects.get()
    client = browser(make_staff(staff_role=StaffRole.ADMIN))
    page = client.get(f"/tickets/{incident.reference}/").content.decode()
    assert 'id="alerts-panel"' in page
    assert "1 of 2 firing" in page
    assert "seen 2 times" in page and "seen once" not in page  # web-2: firing, resolved
    assert "alertmanager monitoring" in page and "Prometheus Alertmanager" in page
    for fingerprint in integration.alerts.values_list("fingerprint", flat=True):
        assert f'data-fingerprint="{fingerprint}"' in page
    with django_assert_num_queries(1):
        panel = alert_panel_context(incident, AnonymousUser())
        assert panel is not None
        assert [a.integration.name for a in panel["alerts"]] == ["alertmanager monitoring"] * 2


def test_tickets_without_alerts_have_no_panel(django_assert_num_queries):
    ticket = make_ticket()
    with django_assert_num_queries(0):  # not an incident: not even a query
        assert alert_panel_context(ticket, AnonymousUser()) is None
    client = browser(make_staff(staff_role=StaffRole.ADMIN))
    assert 'id="alerts-panel"' not in client.get(f"/tickets/{ticket.reference}/").content.decode()


def test_admin_checks_matchers_like_the_api(org):
    superuser = User.objects.create_superuser("root-admin", "root@example.com", "pw-Strong-123")
    client = browser(superuser)
    form = {"organisation": org.pk, "order": 100, "severity": "", "priority": ""}
    bad = client.post("/admin/alerts/mappingrule/add/", {**form, "matchers": '["env~prod"]'})
    assert bad.status_code == 200 and "cannot read" in bad.content.decode()
    good = client.post(
        "/admin/alerts/mappingrule/add/", {**form, "matchers": '{"instance": "/db-.*/"}'}
    )
    assert good.status_code == 302
    assert MappingRule.objects.get().matchers == [
        {"name": "instance", "op": "=~", "value": "db-.*"}
    ]
