"""Replying to an on-call notification mail acknowledges the page (issue 6, item 4)."""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from django.core import mail

from opsdesk.core.clock import frozen_at
from opsdesk.intake.email.ingest import email_ingest
from opsdesk.intake.email.pages import reply_intent
from opsdesk.intake.models import InboundMessage
from opsdesk.oncall.models import Escalation
from opsdesk.oncall.services import (
    ack_link,
    ack_link_load,
    contact_method_set,
    escalation_start,
    policy_create,
)
from opsdesk.tickets.models import Ticket, TimelineEvent
from tests.factories import make_org, make_staff, make_ticket, team
from tests.oncall.helpers import drain, seoul

pytestmark = pytest.mark.django_db

SUNDAY_23 = seoul(2026, 12, 6, 23)
PERSON = "oncall.kim@opsdesk.test"


@pytest.fixture
def page(settings):
    """A Sunday-night page: the engineer got the notification mail with the signed link."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    support = team("service-support")
    engineer = make_staff(team=support, role="engineer")
    engineer.email = "kim.account@opsdesk.test"
    engineer.save(update_fields=["email"])
    contact_method_set(user=engineer, channel="email", address=PERSON)
    lead = make_staff(team=support, role="team_lead")
    policy_create(
        name="night",
        team=support,
        steps=[
            {"kind": "notify_user", "user": engineer},
            {"kind": "notify_user", "user": lead, "delay_minutes": 5},
        ],
    )
    with frozen_at(SUNDAY_23):
        ticket = make_ticket(make_org(), subject="DB down", technical_team=support)
        escalation = escalation_start(ticket=ticket, reason="alert: DB down")
        drain()
    assert escalation is not None
    (notification,) = [m for m in mail.outbox if PERSON in m.to]
    return {"engineer": engineer, "escalation": escalation, "mail": notification}


def _reply(page, body: str, *, sender: str = PERSON, quote: bool = True, **headers: str) -> bytes:
    original = page["mail"]
    msg = EmailMessage()
    msg["From"] = f"Kim <{sender}>"
    msg["To"] = "support@opsdesk.test"
    msg["Subject"] = f"Re: {original.subject}"
    msg["Message-ID"] = make_msgid(domain="opsdesk.test")
    quoted = "\n".join(f"> {line}" for line in original.body.splitlines())
    on = "On Sun, 6 Dec 2026 at 23:00, OpsDesk <support@opsdesk.test> wrote:"
    msg.set_content(f"{body}\n\n{on}\n{quoted}\n" if quote else f"{body}\n")
    # Written as mail clients write them (the stdlib generator would RFC 2047-encode a long
    # In-Reply-To as if it were free text).
    extra = "".join(f"{name.replace('_', '-')}: {value}\r\n" for name, value in headers.items())
    return extra.encode() + msg.as_bytes()


def _state(page) -> str:
    return Escalation.objects.get(pk=page["escalation"].pk).state


def test_notification_mail_carries_the_signed_link(page) -> None:
    # The signature carries the second it was made, so compare what the mail's link opens,
    # not its text.
    prefix = ack_link(escalation=page["escalation"], user=page["engineer"]).rsplit("/", 2)[0]
    found = re.search(re.escape(prefix) + r"/([^/\s]+)/", page["mail"].body)
    assert found is not None
    assert ack_link_load(token=found.group(1)) == (page["escalation"], page["engineer"])


def test_reply_acknowledges_and_opens_no_ticket(page) -> None:
    tickets_before = Ticket.objects.count()
    raw = _reply(page, "확인했습니다. 접속해서 보겠습니다.")
    result = email_ingest(raw=raw, received_via="imap")
    assert (result.action, result.reason) == ("threaded", "on-call reply: acknowledged")
    assert result.ticket_ref == page["escalation"].ticket.reference
    escalation = Escalation.objects.get(pk=page["escalation"].pk)
    assert (escalation.state, escalation.acknowledged_by) == ("acknowledged", page["engineer"])
    assert Ticket.objects.count() == tickets_before
    event = TimelineEvent.objects.get(data__oncall="email_reply")
    assert event.body.startswith("Acknowledged by email.\n확인했습니다.")
    assert "> " not in event.body  # the quoted notification is not repeated
    assert event.actor_label.endswith(f" <{PERSON}>")
    assert InboundMessage.objects.get().event == event
    assert [m for m in mail.outbox if PERSON not in m.to] == []  # no acknowledgment mail


def test_account_email_counts_as_the_person_too(page) -> None:
    result = email_ingest(raw=_reply(page, "ack", sender="kim.account@opsdesk.test"),
                          received_via="imap")  # fmt: skip
    assert result.reason == "on-call reply: acknowledged"
    assert _state(page) == "acknowledged"


def test_reply_from_someone_else_is_refused_and_kept(page) -> None:
    result = email_ingest(raw=_reply(page, "ack", sender="stranger@customer.test"),
                          received_via="imap")  # fmt: skip
    assert result.action == "quarantined"
    assert result.reason == (
        "on-call reply refused: stranger@customer.test is not the paged person's address"
    )
    assert _state(page) == "active"


def test_tampered_link_is_refused(page) -> None:
    raw = _reply(page, "ack").replace(b"/oncall/ack/", b"/oncall/ack/x")
    result = email_ingest(raw=raw, received_via="imap")
    assert result.action == "quarantined"
    assert "invalid or expired" in (result.reason or "")
    assert _state(page) == "active"


def test_out_of_office_reply_never_acknowledges(page) -> None:
    raw = _reply(page, "I am on leave until Monday.", Auto_Submitted="auto-replied")
    result = email_ingest(raw=raw, received_via="imap")
    assert result.action == "ignored"
    assert _state(page) == "active"


def test_declining_reply_is_noted_and_the_chain_goes_on(page) -> None:
    raw = _reply(page, "못 갑니다. 다른 분께 부탁드립니다.")
    result = email_ingest(raw=raw, received_via="imap")
    assert (result.action, result.reason) == ("threaded", "on-call reply: declined")
    assert _state(page) == "active"
    event = TimelineEvent.objects.get(data__oncall="email_reply")
    assert event.data["intent"] == "declined"


def test_token_in_references_works_without_the_quote(page) -> None:
    """A notification whose Message-ID carries the token (<ack.TOKEN@…>, ':' written '.')
    is acknowledged even when the reply drops the quoted text."""
    link = ack_link(escalation=page["escalation"], user=page["engineer"])
    token = link.rstrip("/").rsplit("/", 1)[1]
    message_id = f"<ack.{token.replace(':', '.')}@opsdesk.test>"
    raw = _reply(page, "ok", quote=False, In_Reply_To=message_id, References=message_id)
    result = email_ingest(raw=raw, received_via="imap")
    assert result.reason == "on-call reply: acknowledged"
    assert _state(page) == "acknowledged"


def test_second_reply_after_acknowledgement_is_ignored(page) -> None:
    email_ingest(raw=_reply(page, "ack"), received_via="imap")
    result = email_ingest(raw=_reply(page, "ack again"), received_via="imap")
    assert (result.action, result.reason) == (
        "threaded",
        "on-call reply: escalation already acknowledged",
    )
    notes = TimelineEvent.objects.filter(data__oncall="email_reply").order_by("id")
    assert notes.count() == 2
    assert notes.last().body.startswith("Replied by email after the escalation had ended")


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("ack", "acknowledged"),
        ("확인", "acknowledged"),
        ("Looking now", "acknowledged"),
        ("", "acknowledged"),
        ("Coming in, 20 minutes", "coming_in"),
        ("지금 출근합니다", "coming_in"),
        ("No, I am abroad", "declined"),
        ("불가합니다", "declined"),
        ("Can't, sick today", "declined"),
    ],
)
def test_reply_intent(text: str, intent: str) -> None:
    assert reply_intent(text) == intent
