"""The LMTP/SMTP receiver as a real `opsdesk lmtp-server` process, as an MTA sees it."""

from __future__ import annotations

import smtplib
import socket
from collections.abc import Iterator
from email.message import EmailMessage

import pytest

from .conftest import free_port
from .sites import Site, port_open, wait_for

pytestmark = pytest.mark.processes


def _mail(subject: str, message_id: str) -> bytes:
    message = EmailMessage()
    message["From"] = "Kim Minsu <minsu@customer.test>"
    message["To"] = "support@opsdesk.test"
    message["Subject"] = subject
    message["Message-ID"] = message_id
    message.set_content("The database replica lags by an hour.")
    return message.as_bytes()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    site = Site(tmp_path_factory.mktemp("lmtp-site"), OPSDESK_EMAIL_SEND_MAX_ATTEMPTS="1")
    site.opsdesk("migrate", "--noinput", "-v0")
    yield site
    site.stop_all()


def _receiver(site: Site, *extra: str) -> int:
    port = free_port()
    site.start("lmtp-server", "--bind", f"127.0.0.1:{port}", *extra)
    wait_for("the receiver", lambda: port_open(port))
    return port


def _lmtp_dialogue(port: int, raw: bytes, recipients: list[str]) -> list[bytes]:
    """A minimal LMTP client: smtplib.LMTP reads one DATA reply, RFC 2033 wants one per
    recipient. Returns the reply lines after the final dot."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        reader = sock.makefile("rb")
        reader.readline()  # greeting

        def command(line: bytes) -> None:
            sock.sendall(line + b"\r\n")
            while reader.readline()[3:4] == b"-":
                pass

        command(b"LHLO client.test")
        command(b"MAIL FROM:<minsu@customer.test>")
        for rcpt in recipients:
            command(f"RCPT TO:<{rcpt}>".encode())
        command(b"DATA")
        body = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        sock.sendall(body + b"\r\n.\r\n")
        replies = [reader.readline() for _ in recipients]
        sock.sendall(b"QUIT\r\n")
    return replies


def test_lmtp_answers_250_per_recipient_after_commit(site):
    port = _receiver(site)
    raw = _mail("LMTP delivered", "<lmtp-1@customer.test>")
    replies = _lmtp_dialogue(port, raw, ["support@opsdesk.test", "help@opsdesk.test"])
    assert [r[:3] for r in replies] == [b"250", b"250"]
    rows = site.query(
        "SELECT m.action, m.received_via, t.reference, t.subject FROM intake_inboundmessage m "
        "JOIN tickets_ticket t ON t.id = m.ticket_id WHERE m.message_id = 'lmtp-1@customer.test'"
    )
    [(action, via, reference, subject)] = rows
    assert (action, via, subject) == ("created", "lmtp", "LMTP delivered")
    assert reference.encode() in replies[0]


def test_smtp_mode_and_duplicate_delivery(site):
    port = _receiver(site, "--smtp")
    raw = _mail("SMTP delivered", "<smtp-1@customer.test>")
    for _ in range(2):
        with smtplib.SMTP("127.0.0.1", port) as client:
            assert client.sendmail("minsu@customer.test", ["support@opsdesk.test"], raw) == {}
    rows = site.query(
        "SELECT COUNT(*) FROM intake_inboundmessage WHERE message_id = 'smtp-1@customer.test'"
    )
    assert rows == [(1,)]
    assert site.query("SELECT COUNT(*) FROM tickets_ticket WHERE subject = 'SMTP delivered'") == [
        (1,)
    ]


def test_database_down_answers_451_so_the_mta_retries(site, tmp_path):
    down = Site(tmp_path, OPSDESK_DATABASE_URL=f"postgres://nobody@127.0.0.1:{free_port()}/none")
    port = _receiver(down, "--smtp")
    raw = _mail("Will be retried", "<retry-1@customer.test>")
    with (
        smtplib.SMTP("127.0.0.1", port) as client,
        pytest.raises(smtplib.SMTPDataError) as error,
    ):
        client.sendmail("minsu@customer.test", ["support@opsdesk.test"], raw)
    down.stop_all()
    assert error.value.smtp_code == 451
