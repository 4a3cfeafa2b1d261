"""An attached Outlook message shows on the ticket: its text under the mail's, its files."""

from __future__ import annotations

import pytest

from opsdesk.intake.email.ingest import email_ingest
from opsdesk.tickets.models import Ticket
from tests.intake.email_ingest.conftest import CORPUS

pytestmark = pytest.mark.django_db


def test_attached_msg_text_and_files_on_the_ticket(make_mail) -> None:
    if not CORPUS.is_dir():
        pytest.skip("email corpus missing")
    data = (CORPUS / "mail-parser/mail_outlook_1").read_bytes()
    raw = make_mail(body="Forwarding the mail our filter ate.", attachments=[("fw.msg", data)])
    result = email_ingest(raw=raw, received_via="file")
    assert result.action == "created"
    assert result.attachments[:2] == ["fw.msg", "newsletter.png"]
    ticket = Ticket.objects.get()
    assert ticket.description.startswith("Forwarding the mail our filter ate.")
    assert "Attached Outlook message fw.msg" in ticket.description
    assert "Wenn Sie diesen Newsletter nicht lesen" in ticket.description
    stored = [a.filename for a in ticket.attachments.order_by("id")]
    assert stored[:2] == ["fw.msg", "newsletter.png"] and len(stored) == 6
