"""An on-call notification through the email channel to the real Postfix started by
.ci/mailservers.sh, read back from Dovecot over IMAP, and its acknowledge link followed.
Skipped locally when the servers are not running (a failure in CI)."""

from __future__ import annotations

import os
import re
import time
import uuid
from datetime import date
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client
from imap_tools import AND, MailBoxUnencrypted

from opsdesk.notify.models import Delivery
from opsdesk.oncall.services import (
    contact_method_set,
    escalation_start,
    notification_rule_add,
    policy_create,
)
from tests.conftest import require_server
from tests.factories import make_org, make_staff, make_ticket, team
from tests.oncall.helpers import drain, weekly_oncall

pytestmark = [pytest.mark.processes, pytest.mark.django_db]

ENV_FILE = Path(os.environ.get("OPSDESK_MAIL_DIR", "/tmp/opsdesk-mail")) / "env"  # noqa: S108
# Postfix delivers only to the test accounts; the customer's is the quieter of the two (the
# intake tests poll the support mailbox and would take our message for a new ticket).
MAILBOX = "OPSDESK_TEST_CUSTOMER_USER"
WAIT = 60.0


def _servers() -> dict[str, str]:
    if not ENV_FILE.is_file():
        return {}
    pairs = (line.split("=", 1) for line in ENV_FILE.read_text().splitlines() if "=" in line)
    values = dict(pairs)
    try:
        with MailBoxUnencrypted(
            values["OPSDESK_TEST_MAIL_HOST"], int(values["OPSDESK_TEST_IMAP_PORT"])
        ):
            pass
    except (OSError, KeyError):
        return {}
    return values


@pytest.fixture
def servers(settings) -> dict[str, str]:
    values = _servers()
    require_server(
        bool(values), f"Dovecot/Postfix not running (bash .ci/mailservers.sh; {ENV_FILE})"
    )
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = values["OPSDESK_TEST_MAIL_HOST"]
    settings.EMAIL_PORT = int(values["OPSDESK_TEST_SMTP_PORT"])
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    return values


def _fetch(servers: dict[str, str], marker: str) -> EmailMessage | None:
    """Our message (found by a marker in its subject), removed from the shared mailbox."""
    with MailBoxUnencrypted(
        servers["OPSDESK_TEST_MAIL_HOST"], int(servers["OPSDESK_TEST_IMAP_PORT"])
    ).login(servers[MAILBOX], servers["OPSDESK_TEST_MAIL_PASSWORD"]) as box:
        box.folder.set("INBOX")
        for message in box.fetch(AND(subject=marker), mark_seen=False):
            box.delete([message.uid])
            parsed = message_from_bytes(message.obj.as_bytes(), policy=policy.default)
            assert isinstance(parsed, EmailMessage)
            return parsed
    return None


def _wait_for(what: str, probe: Any) -> Any:
    deadline = time.monotonic() + WAIT
    while not (result := probe()):
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.3)
    return result


def test_an_escalation_email_arrives_and_its_link_acknowledges(servers):
    ops = team("service-operations")
    engineer = make_staff(team=ops, role="engineer")
    contact_method_set(user=engineer, channel="email", address=servers[MAILBOX])
    notification_rule_add(user=engineer, channel="email")
    weekly_oncall(ops, [engineer], start=date(2026, 1, 5))
    policy_create(
        name="page",
        team=ops,
        steps=[{"kind": "notify_oncall"}, {"kind": "notify_team_lead", "delay_minutes": 30}],
    )
    marker = f"disk-{uuid.uuid4().hex[:10]}"
    ticket = make_ticket(make_org(), subject=f"Disk full {marker}", team=ops)
    escalation = escalation_start(ticket=ticket, reason="monitoring: disk full")
    assert escalation is not None
    drain()
    delivery = Delivery.objects.get(source=f"escalation:{escalation.pk}")
    assert (delivery.channel, delivery.status, delivery.error) == ("email", "sent", "")

    message = _wait_for("the notification in Dovecot", lambda: _fetch(servers, marker))
    assert message["To"] == servers[MAILBOX]
    assert ticket.reference in message["Subject"]
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert "monitoring: disk full" in text
    base = django_settings.OPSDESK_BASE_URL.rstrip("/")
    [link] = re.findall(re.escape(base) + r"/oncall/ack/[^\s]+/", text)

    path = link.removeprefix(base)
    client = Client()
    page = client.get(path)
    assert page.status_code == 200 and ticket.reference in page.content.decode()
    escalation.refresh_from_db()
    assert escalation.state == "active"  # opening the link only shows the button
    assert client.post(path).status_code == 200
    escalation.refresh_from_db()
    assert escalation.state == "acknowledged" and escalation.acknowledged_by == engineer
