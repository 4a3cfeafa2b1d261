"""Outbound mail through a real SMTP server (aiosmtpd on 127.0.0.1): replies, threading,
retries and failures on the ticket."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest
from django.urls import reverse

from opsdesk.intake.email.ingest import email_ingest
from opsdesk.intake.email.services import ticket_email_reply_send
from opsdesk.intake.email.tasks import outbound_send_task
from opsdesk.intake.models import OutboundMessage
from opsdesk.tickets.enums import EventKind
from opsdesk.tickets.models import Ticket
from tests.factories import make_staff

from .conftest import free_port

pytestmark = pytest.mark.django_db


def _received(smtp_server):
    return [message_from_bytes(m.as_bytes(), policy=policy.default) for m in smtp_server.messages]


def test_agent_reply_is_mailed_threaded_with_quote_and_cc(
    smtp_server, make_mail, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = email_ingest(
            raw=make_mail(
                message_id="<m1@customer.test>",
                cc="Lee <lee@customer.test>",
                body="Our web server does not answer.",
            ),
            received_via="file",
        )
    ticket = Ticket.objects.get(reference=first.ticket_ref)
    agent = make_staff(team=ticket.team)
    with django_capture_on_commit_callbacks(execute=True):
        ticket_email_reply_send(ticket=ticket, actor=agent, body="We restarted the server.")
    ack, reply = _received(smtp_server)
    assert ack["Auto-Submitted"] == "auto-replied"
    assert reply["Auto-Submitted"] is None
    assert reply["To"] == "minsu@customer.test"
    assert reply["Cc"] == "lee@customer.test"
    assert reply["Subject"] == f"Re: [{ticket.reference}] Server unreachable"
    assert reply["In-Reply-To"] == "<m1@customer.test>"
    assert "<m1@customer.test>" in reply["References"]
    assert reply["Message-ID"].endswith("@opsdesk.test>")
    text = reply.get_content()
    assert text.startswith("We restarted the server.")
    assert "> Our web server does not answer." in text
    outbound = OutboundMessage.objects.get(kind="reply")
    assert (outbound.status, outbound.attempts) == ("sent", 1)
    assert ticket.events.filter(kind=EventKind.REPLY).count() == 1

    # The customer answers the mail they received: it threads back into the same ticket.
    answer = make_mail(subject=f"Re: {reply['Subject']}", in_reply_to=reply["Message-ID"])
    result = email_ingest(raw=answer.replace(b"[CSR", b"[XXX"), received_via="file")
    assert (result.action, result.ticket_ref) == ("threaded", ticket.reference)


def test_reply_through_the_ticket_page_goes_out(
    smtp_server, make_mail, client, django_capture_on_commit_callbacks
):
    first = email_ingest(raw=make_mail(), received_via="file")
    ticket = Ticket.objects.get(reference=first.ticket_ref)
    agent = make_staff(team=ticket.team)
    client.force_login(agent)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("tickets:reply", args=[ticket.reference]), {"reply-body": "Fixed."}
        )
    assert response.status_code in (200, 302)
    assert [m["To"] for m in _received(smtp_server)] == ["minsu@customer.test"]


def test_delivery_failure_retries_then_shows_on_the_ticket(
    settings, make_mail, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 5
    with django_capture_on_commit_callbacks(execute=True):
        first = email_ingest(raw=make_mail(), received_via="file")
    outbound = OutboundMessage.objects.get()
    assert outbound.status == "failed"
    assert outbound.attempts == 3  # EMAIL_SEND_MAX_ATTEMPTS in these tests
    assert "ConnectionRefusedError" in outbound.last_error
    note = Ticket.objects.get(reference=first.ticket_ref).events.get(kind=EventKind.SYSTEM)
    assert note.data["delivery_failed"] is True


def test_temporary_failure_re_enqueues_with_backoff(settings, make_mail):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 5
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    email_ingest(raw=make_mail(), received_via="file")
    outbound = OutboundMessage.objects.get()
    outbound_send_task.call(outbound_id=outbound.pk)
    outbound.refresh_from_db()
    assert (outbound.status, outbound.attempts) == ("queued", 1)
    backend = outbound_send_task.get_backend()
    queued = backend.results  # type: ignore[attr-defined]
    assert len(queued) == 1 and queued[0].task.run_after is not None


def test_files_uploaded_with_a_reply_reach_the_customer_and_the_timeline(
    smtp_server, make_mail, client, django_capture_on_commit_callbacks, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    first = email_ingest(raw=make_mail(), received_via="file")
    ticket = Ticket.objects.get(reference=first.ticket_ref)
    agent = make_staff(team=ticket.team)
    client.force_login(agent)
    upload = SimpleUploadedFile("조치내역.txt", "재시작 완료\n".encode(), "text/plain")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("tickets:reply", args=[ticket.reference]),
            {"reply-body": "See the attached report.", "reply-attachments": [upload]},
        )
    assert response.status_code in (200, 302)
    reply = _received(smtp_server)[-1]
    files = {part.get_filename(): part.get_content() for part in reply.iter_attachments()}
    assert files == {"조치내역.txt": "재시작 완료\n"}
    event = ticket.events.get(kind=EventKind.REPLY)
    assert [a.filename for a in event.attachments.all()] == ["조치내역.txt"]
