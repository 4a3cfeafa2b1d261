"""Large mail through email_ingest: spooled attachments stored whole; limits per attachment and
per mail, each with a note on the ticket and a notice to the sender."""

from __future__ import annotations

import os

import pytest

from opsdesk.intake.email.ingest import email_ingest
from opsdesk.intake.email.lmtp import protocol_size_limit
from opsdesk.tickets.enums import EventKind
from opsdesk.tickets.models import Ticket
from tests.factories import make_org

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


@pytest.fixture(autouse=True)
def _limits(settings) -> None:
    settings.OPSDESK = {
        **settings.OPSDESK,
        "EMAIL_MAX_ATTACHMENT_BYTES": 3 * MB,
        "EMAIL_MAX_MESSAGE_BYTES": 8 * MB,
    }
    make_org("Customer A", domains=("customer.test",))


def test_spooled_attachment_is_stored_whole(make_mail) -> None:
    data = os.urandom(2 * MB + 1)
    result = email_ingest(raw=make_mail(attachments=[("syslog.gz", data)]), received_via="file")
    assert result.action == "created"
    attachment = Ticket.objects.get().attachments.get()
    assert (attachment.filename, attachment.size) == ("syslog.gz", len(data))
    with attachment.file.open("rb") as handle:
        assert handle.read() == data


def test_attachment_over_its_limit_is_dropped_with_a_notice(
    make_mail, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    raw = make_mail(attachments=[("huge.gz", os.urandom(4 * MB)), ("ok.txt", b"fine")])
    with django_capture_on_commit_callbacks(execute=True):
        result = email_ingest(raw=raw, received_via="file")
    assert result.attachments == ["huge.gz", "ok.txt"]
    ticket = Ticket.objects.get()
    assert [a.filename for a in ticket.attachments.all()] == ["ok.txt"]
    note = ticket.events.get(kind=EventKind.SYSTEM)
    assert note.data["dropped_attachments"] == ["huge.gz"]
    assert note.data["message_size"] is None
    (notice,) = [m for m in mailoutbox if "huge.gz" in m.body]
    assert "3 MB" in notice.body


def test_mail_over_the_message_limit_keeps_its_text_but_no_attachment(
    make_mail, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    parts = [(f"part-{n}.gz", os.urandom(2 * MB)) for n in range(4)]  # ~11 MB in base64
    raw = make_mail(body="Logs of last night attached.", attachments=parts)
    with django_capture_on_commit_callbacks(execute=True):
        result = email_ingest(raw=raw, received_via="lmtp")
    assert result.action == "created"
    ticket = Ticket.objects.get()
    assert ticket.description.strip() == "Logs of last night attached."
    assert not ticket.attachments.exists()
    note = ticket.events.get(kind=EventKind.SYSTEM)
    assert note.data["dropped_attachments"] == [name for name, _ in parts]
    assert note.data["message_size"] == len(raw)
    assert "over the limit of 8 MB for one mail" in note.body
    (notice,) = [m for m in mailoutbox if "part-0.gz" in m.body]
    assert notice.to == ["minsu@customer.test"]
    assert "메일 전체 크기(10.8 MB)가 메일 한 통의 제한(8 MB)" in notice.body  # Korean organisation


def test_receiver_takes_mail_up_to_twice_the_message_limit() -> None:
    assert protocol_size_limit() == 16 * MB
