"""Against real Postfix (SMTP) and Dovecot (IMAP) on 127.0.0.1, started by
.ci/mailservers.sh (which writes /tmp/opsdesk-mail/env). Skipped locally when absent."""

from __future__ import annotations

import os
import signal
import smtplib
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import pytest
from imap_tools import MailBoxUnencrypted

from opsdesk.intake.email.imap import _mark_processed, mailbox_connect, mailbox_poll
from opsdesk.intake.email.services import ticket_email_reply_send
from opsdesk.intake.models import Mailbox
from opsdesk.tickets.models import Ticket
from tests.conftest import require_server
from tests.factories import make_org, make_staff

from .sites import Site, wait_for

pytestmark = pytest.mark.processes

ENV_FILE = Path(os.environ.get("OPSDESK_MAIL_DIR", "/tmp/opsdesk-mail")) / "env"  # noqa: S108


def _servers() -> dict[str, str]:
    if not ENV_FILE.is_file():
        return {}
    pairs = (line.split("=", 1) for line in ENV_FILE.read_text().splitlines() if "=" in line)
    values = {k: v for k, v in pairs}
    try:
        with MailBoxUnencrypted(
            values["OPSDESK_TEST_MAIL_HOST"], int(values["OPSDESK_TEST_IMAP_PORT"])
        ):
            pass
    except (OSError, KeyError):
        return {}
    return values


@pytest.fixture(scope="module")
def servers() -> dict[str, str]:
    values = _servers()
    require_server(
        bool(values), f"Dovecot/Postfix not running (bash .ci/mailservers.sh; {ENV_FILE})"
    )
    return values


def _imap(servers: dict[str, str], user: str) -> MailBoxUnencrypted:
    client = MailBoxUnencrypted(
        servers["OPSDESK_TEST_MAIL_HOST"], int(servers["OPSDESK_TEST_IMAP_PORT"])
    )
    return client.login(servers[user], servers["OPSDESK_TEST_MAIL_PASSWORD"])


def _empty_mailboxes(servers: dict[str, str]) -> None:
    for user in ("OPSDESK_TEST_SUPPORT_USER", "OPSDESK_TEST_CUSTOMER_USER"):
        with _imap(servers, user) as box:
            for folder in ("INBOX", "Processed"):
                if box.folder.exists(folder):
                    box.folder.set(folder)
                    uids = box.uids()
                    if uids:
                        box.delete(uids)


def _inbox_raw(servers: dict[str, str], user: str) -> list[bytes]:
    with _imap(servers, user) as box:
        box.folder.set("INBOX")
        return [m.obj.as_bytes() for m in box.fetch(mark_seen=False)]


def _smtp_send(servers: dict[str, str], message: EmailMessage) -> None:
    with smtplib.SMTP(
        servers["OPSDESK_TEST_MAIL_HOST"], int(servers["OPSDESK_TEST_SMTP_PORT"])
    ) as smtp:
        assert smtp.send_message(message) == {}


def _customer_mail(subject: str, body: str = "The VPN tunnel is down.") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Customer Kim <customer@customer.test>"
    message["To"] = "support@opsdesk.test"
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="customer.test")
    message.set_content(body)
    return message


@pytest.fixture
def real_mail(servers, settings, monkeypatch, tmp_path) -> dict[str, str]:
    _empty_mailboxes(servers)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = servers["OPSDESK_TEST_MAIL_HOST"]
    settings.EMAIL_PORT = int(servers["OPSDESK_TEST_SMTP_PORT"])
    monkeypatch.setenv("OPSDESK_TEST_MAILBOX_PASSWORD", servers["OPSDESK_TEST_MAIL_PASSWORD"])
    return servers


def _mailbox(servers: dict[str, str]) -> Mailbox:
    return Mailbox.objects.create(
        name="support",
        address="support@opsdesk.test",
        host=servers["OPSDESK_TEST_MAIL_HOST"],
        port=int(servers["OPSDESK_TEST_IMAP_PORT"]),
        use_ssl=False,
        username=servers["OPSDESK_TEST_SUPPORT_USER"],
        password_env="TEST_MAILBOX_PASSWORD",
        processed_action="move",
        processed_folder="Processed",
    )


@pytest.mark.django_db
def test_postfix_dovecot_poller_reply_and_thread_back(
    real_mail, django_capture_on_commit_callbacks
):
    make_org("Customer Co", domains=("customer.test",))
    mailbox = _mailbox(real_mail)
    _smtp_send(real_mail, _customer_mail("VPN 연결 끊김"))
    wait_for("the mail in Dovecot", lambda: _inbox_raw(real_mail, "OPSDESK_TEST_SUPPORT_USER"))

    with django_capture_on_commit_callbacks(execute=True):
        report = mailbox_poll(mailbox=mailbox)
    [result] = report.results
    assert result.action == "created" and result.subject == "VPN 연결 끊김"
    ticket = Ticket.objects.get(reference=result.ticket_ref)
    assert _inbox_raw(real_mail, "OPSDESK_TEST_SUPPORT_USER") == []  # moved after commit
    mailbox.refresh_from_db()
    assert mailbox.last_uid >= 1 and mailbox.uidvalidity

    agent = make_staff(team=ticket.team)
    with django_capture_on_commit_callbacks(execute=True):
        ticket_email_reply_send(ticket=ticket, actor=agent, body="We are restarting the tunnel.")

    def agent_reply() -> Any:
        for raw in _inbox_raw(real_mail, "OPSDESK_TEST_CUSTOMER_USER"):
            parsed = message_from_bytes(raw, policy=policy.default)
            if parsed["Auto-Submitted"] is None and "restarting" in parsed.get_content():
                return parsed
        return None

    received = wait_for("the agent's reply in the customer's mailbox", agent_reply)
    assert ticket.reference in received["Subject"]

    answer = EmailMessage()
    answer["From"] = "Customer Kim <customer@customer.test>"
    answer["To"] = received["From"]
    answer["Subject"] = "Re: " + received["Subject"]
    answer["Message-ID"] = make_msgid(domain="customer.test")
    answer["In-Reply-To"] = received["Message-ID"]
    answer["References"] = f"{received['References'] or ''} {received['Message-ID']}".strip()
    answer.set_content("It works again, thank you.\n\n> We are restarting the tunnel.")
    _smtp_send(real_mail, answer)
    wait_for("the answer in Dovecot", lambda: _inbox_raw(real_mail, "OPSDESK_TEST_SUPPORT_USER"))

    [threaded] = mailbox_poll(mailbox=mailbox).results
    assert (threaded.action, threaded.ticket_ref) == ("threaded", ticket.reference)
    assert "It works again" in ticket.events.last().body


@pytest.mark.django_db
def test_flag_mode_and_uidvalidity_change_refetch_without_duplicates(real_mail):
    mailbox = _mailbox(real_mail)
    mailbox.processed_action, mailbox.processed_folder = "flag", ""
    mailbox.save()
    with _imap(real_mail, "OPSDESK_TEST_SUPPORT_USER") as box:
        for n in range(3):
            box.append(_customer_mail(f"Flagged {n}").as_bytes(), "INBOX")
    assert [r.action for r in mailbox_poll(mailbox=mailbox).results] == ["created"] * 3
    with _imap(real_mail, "OPSDESK_TEST_SUPPORT_USER") as box:
        assert all("\\Seen" in m.flags for m in box.fetch(mark_seen=False))
    assert mailbox_poll(mailbox=mailbox).results == []  # checkpoint: nothing new
    Mailbox.objects.filter(pk=mailbox.pk).update(uidvalidity=1)  # as if the folder was rebuilt
    mailbox.refresh_from_db()
    again = mailbox_poll(mailbox=mailbox).results
    assert [(r.action, r.reason) for r in again] == [("ignored", "duplicate")] * 3
    assert Ticket.objects.count() == 3


# --- a poller killed mid-batch and restarted: every message exactly once -------------------


@pytest.fixture
def site(servers, tmp_path) -> Iterator[Site]:
    _empty_mailboxes(servers)
    site = Site(tmp_path, OPSDESK_TEST_MAILBOX_PASSWORD=servers["OPSDESK_TEST_MAIL_PASSWORD"])
    site.opsdesk("migrate", "--noinput", "-v0")
    create = (
        "from opsdesk.intake.models import Mailbox; Mailbox.objects.create("
        "name='support', address='support@opsdesk.test', "
        f"host='{servers['OPSDESK_TEST_MAIL_HOST']}', "
        f"port={servers['OPSDESK_TEST_IMAP_PORT']}, use_ssl=False, "
        f"username='{servers['OPSDESK_TEST_SUPPORT_USER']}', password_env='TEST_MAILBOX_PASSWORD', "
        "processed_action='move', processed_folder='Processed', poll_interval=1)"
    )
    site.opsdesk("shell", "-c", create)
    yield site
    site.stop_all()


BATCH = 50


def test_poller_killed_mid_batch_loses_and_duplicates_nothing(servers, site):
    ids = []
    with _imap(servers, "OPSDESK_TEST_SUPPORT_USER") as box:
        for n in range(BATCH):
            message = _customer_mail(
                f"Batch mail {n:02d}", body=f"Message {n}\n" + "log line\n" * 30_000
            )
            ids.append(message["Message-ID"].strip("<>"))
            box.append(message.as_bytes(), "INBOX")

    def inbound_count() -> int:
        return site.query("SELECT COUNT(*) FROM intake_inboundmessage")[0][0]

    first = site.start("mail-poll", "--mailbox", "support")
    wait_for("the first messages", lambda: inbound_count() >= 5)
    first.send_signal(signal.SIGKILL)
    first.wait()
    done_at_kill = inbound_count()
    assert done_at_kill < BATCH, "the poller finished before it was killed; enlarge the batch"

    site.opsdesk("mail-poll", "--once", "--mailbox", "support")
    rows = site.query("SELECT message_id, action FROM intake_inboundmessage")
    assert sorted(r[0] for r in rows) == sorted(ids)
    assert {r[1] for r in rows} == {"created"}
    tickets = site.query("SELECT subject FROM tickets_ticket")
    assert sorted(t[0] for t in tickets) == [f"Batch mail {n:02d}" for n in range(BATCH)]
    assert _inbox_raw(servers, "OPSDESK_TEST_SUPPORT_USER") == []
    assert site.query("SELECT last_uid FROM intake_mailbox")[0][0] >= BATCH


@pytest.mark.django_db
def test_mail_expunged_by_another_session_is_skipped_when_marking_processed(real_mail, caplog):
    """A poller killed while moving its batch leaves its server process to finish the
    expunge; the next poller's move then names messages that no longer exist, and Dovecot
    refuses the whole command. The ones still there are moved, and polling goes on."""
    with _imap(real_mail, "OPSDESK_TEST_SUPPORT_USER") as box:
        for n in range(3):
            box.append(_customer_mail(f"Expunge race {n}").as_bytes(), "INBOX")
        box.folder.set("INBOX")
        uids = [int(uid) for uid in box.uids()]
    assert len(uids) == 3
    mailbox = _mailbox(real_mail)
    with mailbox_connect(mailbox=mailbox) as client:
        with _imap(real_mail, "OPSDESK_TEST_SUPPORT_USER") as other:
            other.folder.set("INBOX")
            other.delete(str(uids[0]))  # gone after our session saw it
        _mark_processed(client, mailbox, uids)
    assert "retrying the messages still there" in caplog.text  # the server did refuse
    with _imap(real_mail, "OPSDESK_TEST_SUPPORT_USER") as box:
        box.folder.set("INBOX")
        assert box.uids() == []
        box.folder.set("Processed")
        moved = [m.subject for m in box.fetch(mark_seen=False)]
    assert sorted(moved) == ["Expunge race 1", "Expunge race 2"]
