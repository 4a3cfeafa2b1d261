"""email_ingest: the one service behind IMAP, LMTP and files, against the real database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from opsdesk.core.clock import frozen_at, now
from opsdesk.intake.email.ingest import email_ingest
from opsdesk.intake.models import InboundMessage, OutboundMessage, TicketEmailParticipant
from opsdesk.tenancy.models import Contact, ContactEmail
from opsdesk.tickets.enums import Channel, EventKind, Status
from opsdesk.tickets.models import Ticket
from opsdesk.tickets.services import ticket_status_change
from tests.factories import make_contact, make_org, make_staff

pytestmark = pytest.mark.django_db


def ingest(raw: bytes):
    return email_ingest(raw=raw, received_via="file")


def test_new_mail_creates_ticket_contact_and_acknowledgment(
    make_mail, mailoutbox, django_capture_on_commit_callbacks
):
    org = make_org("Customer A", domains=("customer.test",))
    with django_capture_on_commit_callbacks(execute=True):
        result = ingest(make_mail(subject="웹 서버 접속 불가"))
    assert result.action == "created"
    ticket = Ticket.objects.get(reference=result.ticket_ref)
    assert ticket.channel == Channel.EMAIL
    assert ticket.subject == "웹 서버 접속 불가"
    assert ticket.organisation == org
    assert ticket.contact is not None and ticket.contact.name == "Kim Minsu"
    assert ContactEmail.objects.get(address="minsu@customer.test").contact == ticket.contact
    created = ticket.events.get(kind=EventKind.CREATED)
    assert created.actor is None and created.actor_label == "Kim Minsu <minsu@customer.test>"
    assert len(mailoutbox) == 1
    ack = mailoutbox[0]
    assert ack.to == ["minsu@customer.test"]
    assert f"[{ticket.reference}]" in ack.subject
    assert "접수 번호" in ack.body  # organisation language is Korean
    assert ack.extra_headers["Auto-Submitted"] == "auto-replied"
    row = InboundMessage.objects.get()
    assert row.action == "created" and row.ticket == ticket
    assert default_storage.exists(row.raw.name)


def test_english_contact_gets_english_acknowledgment(
    make_mail, mailoutbox, django_capture_on_commit_callbacks
):
    org = make_org(domains=("customer.test",))
    contact = make_contact(org, emails=("minsu@customer.test",))
    Contact.objects.filter(pk=contact.pk).update(language="en")
    with django_capture_on_commit_callbacks(execute=True):
        ingest(make_mail())
    assert "We have received your message." in mailoutbox[0].body


def test_unknown_domain_goes_to_unknown_senders_organisation(make_mail):
    result = ingest(make_mail(sender="someone@elsewhere.test"))
    ticket = Ticket.objects.get(reference=result.ticket_ref)
    assert ticket.organisation.code == "unknown-senders"


def test_unknown_sender_quarantined_when_policy_says_so(make_mail, settings):
    settings.OPSDESK = {**settings.OPSDESK, "EMAIL_UNKNOWN_SENDER": "quarantine"}
    result = ingest(make_mail(sender="someone@elsewhere.test"))
    assert result.action == "quarantined"
    assert "unknown sender" in (result.reason or "")
    assert not Ticket.objects.exists()
    assert InboundMessage.objects.get().action == "quarantined"


def test_same_message_twice_is_one_article(make_mail):
    raw = make_mail(message_id="<dup-1@customer.test>")
    first = ingest(raw)
    second = ingest(raw)
    assert first.action == "created"
    assert (second.action, second.reason, second.ticket_ref) == (
        "ignored",
        "duplicate",
        first.ticket_ref,
    )
    assert Ticket.objects.count() == 1
    assert InboundMessage.objects.count() == 1


def test_unparseable_mail_is_quarantined_and_kept(tmp_path):
    result = email_ingest(raw=b"   \r\n", received_via="lmtp")
    assert result.action == "quarantined"
    assert result.reason == "unparseable: empty message"
    row = InboundMessage.objects.get()
    assert default_storage.open(row.raw.name).read() == b"   \r\n"


def test_reply_with_reference_in_subject_threads(make_mail):
    make_org(domains=("customer.test",))
    first = ingest(make_mail())
    result = ingest(
        make_mail(subject=f"Re: [{first.ticket_ref}] Server unreachable", body="Now ok")
    )
    assert (result.action, result.ticket_ref) == ("threaded", first.ticket_ref)
    event = Ticket.objects.get().events.get(kind=EventKind.CUSTOMER_MESSAGE)
    assert event.body.strip() == "Now ok"


def test_subject_reference_from_a_stranger_does_not_thread(make_mail):
    make_org(domains=("customer.test",))
    first = ingest(make_mail())
    result = ingest(make_mail(sender="x@stranger.test", subject=f"[{first.ticket_ref}] hi"))
    assert result.action == "created"
    assert result.ticket_ref != first.ticket_ref


def test_reply_to_our_outbound_message_id_threads(make_mail, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = ingest(make_mail())
    ack = OutboundMessage.objects.get()
    result = ingest(make_mail(subject="Re: thanks", in_reply_to=f"<{ack.message_id}>"))
    assert (result.action, result.ticket_ref) == ("threaded", first.ticket_ref)


def test_reply_to_resolved_ticket_reopens_within_window(make_mail):
    first = ingest(make_mail())
    ticket = Ticket.objects.get(reference=first.ticket_ref)
    ticket_status_change(ticket=ticket, actor=None, status=Status.RESOLVED)
    result = ingest(make_mail(subject=f"Re: [{ticket.reference}] again"))
    assert result.action == "threaded" and result.reason.startswith("reopened")
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


def test_reply_to_long_resolved_ticket_creates_linked_ticket(make_mail):
    first = ingest(make_mail())
    ticket = Ticket.objects.get(reference=first.ticket_ref)
    with frozen_at(now() - timedelta(days=10)):
        ticket_status_change(ticket=ticket, actor=None, status=Status.RESOLVED)
    result = ingest(make_mail(subject=f"Re: [{ticket.reference}] again"))
    assert result.action == "created"
    follow_up = Ticket.objects.get(reference=result.ticket_ref)
    assert follow_up.related_to == ticket
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED


def test_reply_to_closed_ticket_creates_linked_ticket(make_mail):
    first = ingest(make_mail())
    ticket = Ticket.objects.get(reference=first.ticket_ref)
    ticket_status_change(ticket=ticket, actor=None, status=Status.RESOLVED)
    ticket_status_change(ticket=ticket, actor=None, status=Status.CLOSED)
    result = ingest(make_mail(subject=f"Re: [{ticket.reference}] again"))
    assert result.action == "created"
    assert Ticket.objects.get(reference=result.ticket_ref).related_to == ticket


def test_cc_addresses_are_kept_but_not_ours(make_mail):
    result = ingest(
        make_mail(cc="Lee <lee@customer.test>, support@opsdesk.test", to="support@opsdesk.test")
    )
    ticket = Ticket.objects.get(reference=result.ticket_ref)
    assert list(
        TicketEmailParticipant.objects.filter(ticket=ticket).values_list("address", "kind")
    ) == [("lee@customer.test", "cc")]


def test_mail_from_our_own_address_is_ignored(make_mail):
    result = ingest(make_mail(sender="noreply@opsdesk.test"))
    assert (result.action, result.reason) == ("ignored", "sent from one of our own addresses")
    assert not Ticket.objects.exists()


def test_auto_reply_without_ticket_is_ignored_and_never_answered(
    make_mail, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        result = ingest(
            make_mail(subject="Out of office", headers={"Auto-Submitted": "auto-replied"})
        )
    assert result.action == "ignored"
    assert mailoutbox == []


def test_auto_reply_to_ticket_is_threaded_silently(
    make_mail, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = ingest(make_mail())
    ack = OutboundMessage.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        result = ingest(
            make_mail(
                subject="Automatic reply: I am away",
                in_reply_to=f"<{ack.message_id}>",
                headers={"Auto-Submitted": "auto-replied"},
            )
        )
    assert (result.action, result.ticket_ref) == ("threaded", first.ticket_ref)
    assert len(mailoutbox) == 1  # only the first acknowledgment
    event = Ticket.objects.get().events.get(kind=EventKind.CUSTOMER_MESSAGE)
    assert event.data["automated"]


def _dsn(original_id: str, recipient: str) -> bytes:
    return (
        "From: MAILER-DAEMON@mx.customer.test\r\n"
        "To: support@opsdesk.test\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <dsn-1@mx.customer.test>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nYour mail could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.customer.test\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: <{original_id}>\r\nSubject: Re: x\r\n"
        "--B--\r\n"
    ).encode()


def test_bounce_marks_contact_and_notes_the_ticket(
    make_mail, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = ingest(make_mail())
    ack = OutboundMessage.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        result = ingest(_dsn(ack.message_id, "minsu@customer.test"))
    assert result.action == "ignored" and result.reason.startswith("bounce (permanent)")
    assert result.ticket_ref == first.ticket_ref
    assert ContactEmail.objects.get(address="minsu@customer.test").bouncing_since is not None
    ack.refresh_from_db()
    assert ack.status == "bounced"
    note = Ticket.objects.get().events.filter(kind=EventKind.SYSTEM).last()
    assert note.data["bounce"] is True and "minsu@customer.test" in note.body
    assert len(mailoutbox) == 1  # the bounce is never answered


def test_bouncing_contact_gets_no_acknowledgment(
    make_mail, mailoutbox, django_capture_on_commit_callbacks
):
    org = make_org(domains=("customer.test",))
    make_contact(org, emails=("minsu@customer.test",))
    ContactEmail.objects.filter(address="minsu@customer.test").update(bouncing_since=now())
    with django_capture_on_commit_callbacks(execute=True):
        result = ingest(make_mail())
    assert result.action == "created"
    assert mailoutbox == []


def test_oversized_attachment_dropped_noted_and_explained(
    make_mail, mailoutbox, django_capture_on_commit_callbacks
):
    big = b"x" * (1024 * 1024 + 1)
    with django_capture_on_commit_callbacks(execute=True):
        result = ingest(make_mail(attachments=[("small.log", b"ok"), ("huge.log", big)]))
    assert result.action == "created"
    assert result.attachments == ["small.log", "huge.log"]
    ticket = Ticket.objects.get()
    assert [a.filename for a in ticket.attachments.all()] == ["small.log"]
    note = ticket.events.get(kind=EventKind.SYSTEM)
    assert note.data["dropped_attachments"] == ["huge.log"]
    notices = [m for m in mailoutbox if "huge.log" in m.body]
    assert len(notices) == 1 and notices[0].to == ["minsu@customer.test"]


def test_rate_limit_quarantines_further_new_tickets(make_mail, settings):
    settings.OPSDESK = {**settings.OPSDESK, "EMAIL_RATE_LIMIT_PER_HOUR": 2}
    actions = [ingest(make_mail(subject=f"spam {i}")).action for i in range(3)]
    assert actions == ["created", "created", "quarantined"]
    assert InboundMessage.objects.filter(action="quarantined").get().reason.startswith("rate limit")


def test_mail_without_sender_is_quarantined():
    raw = b"Subject: no sender\r\nMessage-ID: <x1@y.test>\r\n\r\nbody\r\n"
    result = ingest(raw)
    assert (result.action, result.reason) == ("quarantined", "no sender address")


def test_ticket_page_shows_cc_bounce_and_failed_delivery(
    make_mail, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = ingest(make_mail(cc="lee@customer.test"))
    ack = OutboundMessage.objects.get()
    ingest(_dsn(ack.message_id, "minsu@customer.test"))
    ticket = Ticket.objects.get(reference=first.ticket_ref)
    client.force_login(make_staff(team=ticket.team))
    page = client.get(reverse("tickets:detail", args=[ticket.reference])).content.decode()
    assert "lee@customer.test" in page
    assert "minsu@customer.test" in page and "ev-mailfail" in page
    assert ack.subject in page  # the bounced acknowledgment is listed


def test_admin_lists_quarantined_mail(admin_client):
    email_ingest(raw=b"", received_via="file")
    page = admin_client.get(
        reverse("admin:intake_inboundmessage_changelist") + "?action__exact=quarantined"
    )
    assert page.status_code == 200
    assert "unparseable: empty message" in page.content.decode()
