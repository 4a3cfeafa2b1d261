from __future__ import annotations

import pytest
from django.urls import reverse

from opsdesk.core.errors import InvalidInput
from opsdesk.tickets.models import Attachment, TimelineEvent
from opsdesk.tickets.services import ticket_attachment_add, ticket_note_add
from tests.factories import make_org, make_staff, make_ticket, team

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_dir")]


def _url(attachment):
    return reverse(
        "tickets:attachment",
        kwargs={
            "reference": attachment.ticket.reference,
            "attachment_id": attachment.pk,
            "filename": attachment.filename,
        },
    )


def test_attachment_is_stored_once_and_shown_on_its_event(client):
    ops = team("service-operations")
    agent = make_staff(team=ops)
    ticket = make_ticket(make_org(), team=ops)
    note = ticket_note_add(ticket=ticket, actor=agent, body="log attached")
    first = ticket_attachment_add(
        ticket=ticket, event=note, filename="../../etc/서버.log", content=b"ERROR disk full\n"
    )
    second = ticket_attachment_add(ticket=ticket, filename="copy.log", content=b"ERROR disk full\n")
    assert first.filename == "서버.log"
    assert first.file.name == second.file.name  # content-addressed: stored once
    client.force_login(agent)
    page = client.get(reverse("tickets:detail", args=[ticket.reference])).content.decode()
    assert "서버.log" in page
    response = client.get(_url(first))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"ERROR disk full\n"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in response["Content-Disposition"]


def test_attachment_urls_obey_the_ticket_access_rule(client):
    ops = team("service-operations")
    ticket = make_ticket(make_org(), team=ops)
    attachment = ticket_attachment_add(ticket=ticket, filename="a.txt", content=b"secret")
    outsider = make_staff(team=team("service-support"))
    client.force_login(outsider)
    assert client.get(_url(attachment)).status_code == 404
    other_ticket = make_ticket(make_org(), team=team("service-support"))
    crossed = reverse(
        "tickets:attachment",
        kwargs={
            "reference": other_ticket.reference,
            "attachment_id": attachment.pk,
            "filename": "a.txt",
        },
    )
    assert client.get(crossed).status_code == 404
    client.logout()
    assert client.get(_url(attachment)).status_code == 302  # to the login page


def test_size_limit_gives_a_clear_error_and_stores_nothing():
    ticket = make_ticket()
    with pytest.raises(InvalidInput) as err:
        ticket_attachment_add(ticket=ticket, filename="big.log", content=b"x" * 11, max_bytes=10)
    assert err.value.field == "file" and "big.log" in err.value.message
    assert Attachment.objects.count() == 0
    assert TimelineEvent.objects.filter(ticket=ticket).count() == 1


def test_an_open_file_is_stored_in_chunks_and_matches_the_bytes_path(tmp_path):
    import hashlib

    ticket = make_ticket(make_org(), team=team("service-operations"))
    data = (b"2026-11-28 ERROR disk full on web-01\n" * 60_000)[:2_000_000]
    spooled = tmp_path / "spool.bin"
    spooled.write_bytes(data)
    with spooled.open("rb") as handle:
        handle.read(100)  # a reader left mid-file must not cut the stored copy short
        from_file = ticket_attachment_add(ticket=ticket, filename="syslog", content=handle)
    assert from_file.size == len(data)
    assert from_file.sha256 == hashlib.sha256(data).hexdigest()
    with from_file.file.open("rb") as stored:
        assert stored.read() == data
    again = ticket_attachment_add(ticket=ticket, filename="copy", content=data)
    assert again.file.name == from_file.file.name  # same content, stored once
    with spooled.open("rb") as handle, pytest.raises(InvalidInput):
        ticket_attachment_add(
            ticket=ticket, filename="big", content=handle, size=len(data), max_bytes=1000
        )
