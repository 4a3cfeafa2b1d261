"""`opsdesk ingest-email` over the whole real-world corpus (../shared/corpus/email/)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from opsdesk.intake.models import InboundMessage
from opsdesk.tenancy.models import ContactEmail
from tests.conftest import require_server
from tests.factories import make_contact, make_org

from .conftest import CORPUS

pytestmark = pytest.mark.django_db

AUTO_REPLIES = [f"set-of-emails/bsd/rfc3834-0{n}.eml" for n in (1, 2, 5, 6)]
BOUNCES = [
    "set-of-emails/bsd/lhost-postfix-01.eml",
    "set-of-emails/bsd/lhost-office365-01.eml",
    "set-of-emails/bsd/lhost-gmail-01.eml",
    "set-of-emails/bsd/lhost-amazonworkmail-01.eml",
    "set-of-emails/bsd/lhost-domino-01.eml",
    "flanker/bounce/gmail-invalid-address.eml",
    "flanker/bounce/office365.eml",
    "mikel-mail/multipart_report_emails/report_530.eml",
    "mikel-mail/multipart_report_emails/report_422.eml",
    "MimeKit/messages/bounce.txt",
]


def _run(*files: str) -> list[dict]:
    out = io.StringIO()
    call_command("ingest-email", *files, stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


@pytest.fixture
def corpus_rows(mailoutbox, django_capture_on_commit_callbacks) -> dict[str, dict]:
    require_server(CORPUS.is_dir(), f"email corpus missing at {CORPUS}")
    org = make_org("Kijitora Ltd", domains=("example.jp",))
    make_contact(org, emails=("kijitora@example.jp",))
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name != "SOURCES.md")
    assert len(files) >= 100
    with django_capture_on_commit_callbacks(execute=True):
        rows = _run(*map(str, files))
    assert len(rows) == len(files)
    return {str(Path(r["source"]).relative_to(CORPUS)): r for r in rows}


def _check_every_corpus_file_gets_one_line_with_the_contract_keys(corpus_rows, mailoutbox):
    for row in corpus_rows.values():
        assert set(row) == {
            "source",
            "action",
            "ticket",
            "subject",
            "from",
            "attachments",
            "reason",
        }
        assert row["action"] in {"created", "threaded", "ignored", "quarantined"}
        assert (row["ticket"] is not None) == (row["action"] in {"created", "threaded"}) or (
            row["reason"] or ""
        ).startswith(("bounce", "duplicate"))
    assert InboundMessage.objects.count() == len(
        [r for r in corpus_rows.values() if r["reason"] != "duplicate"]
    )


def _check_korean_mail_becomes_a_ticket_with_decoded_subject(corpus_rows, mailoutbox):
    for name in ("raw_email.eml", "raw_email_string_in_date_field.eml"):
        assert corpus_rows[f"mikel-mail/plain_emails/{name}"]["subject"] == "NOTE: 한국말로 하는 것"
    assert corpus_rows["mikel-mail/plain_emails/raw_email.eml"]["from"] == "jamis@37signals.com"
    first = corpus_rows["mikel-mail/plain_emails/raw_email.eml"]
    assert first["action"] in {"created", "threaded"} and first["ticket"].startswith("CSR-")
    row = corpus_rows["mikel-mail/multi_charset/ks_c_5601-1987.eml"]
    assert (row["action"], row["from"]) == ("created", "from@example.com")


def _check_attachment_names_and_outlook_msg(corpus_rows, mailoutbox):
    row = corpus_rows["mikel-mail/multi_charset/japanese_attachment.eml"]
    assert row["attachments"] == ["てすと.txt"]
    row = corpus_rows["mail-parser/mail_outlook_1"]
    assert row["action"] == "created"


def _check_bounces_are_ignored_and_mark_contacts(corpus_rows, mailoutbox):
    for name in BOUNCES:
        row = corpus_rows[name]
        assert row["action"] == "ignored", name
        assert row["reason"].startswith("bounce"), name
    assert ContactEmail.objects.get(address="kijitora@example.jp").bouncing_since is not None
    bounce_senders = {corpus_rows[name]["from"] for name in BOUNCES}
    assert not bounce_senders & {a for m in mailoutbox for a in m.to}


def _check_auto_replies_and_receipts_are_never_answered(corpus_rows, mailoutbox):
    automated = [
        *AUTO_REPLIES,
        "flanker/disposition-notification.eml",
        "mail-mime-parser/m4006.txt",
        "flanker/complaints/aol.eml",
    ]
    for name in automated:
        assert corpus_rows[name]["action"] == "ignored", name
    recipients = {a for m in mailoutbox for a in m.to}
    assert not {corpus_rows[name]["from"] for name in automated} & recipients
    created = {r["from"] for r in corpus_rows.values() if r["action"] == "created"}
    assert recipients <= created
    assert all(m.extra_headers.get("Auto-Submitted") == "auto-replied" for m in mailoutbox)


def _check_same_message_in_two_files_is_one_article(corpus_rows, mailoutbox):
    row = corpus_rows["set-of-emails/dos/lhost-postfix-01.eml"]  # CRLF twin of the bsd file
    assert (row["action"], row["reason"]) == ("ignored", "duplicate")


CHECKS = [
    _check_every_corpus_file_gets_one_line_with_the_contract_keys,
    _check_korean_mail_becomes_a_ticket_with_decoded_subject,
    _check_attachment_names_and_outlook_msg,
    _check_bounces_are_ignored_and_mark_contacts,
    _check_auto_replies_and_receipts_are_never_answered,
    _check_same_message_in_two_files_is_one_article,
]


def test_whole_corpus_through_the_command(corpus_rows, mailoutbox):
    """One pass over the corpus (about 100 files), then each documented expectation."""
    for check in CHECKS:
        check(corpus_rows, mailoutbox)


def test_unreadable_file_prints_a_line_and_fails(tmp_path):
    good = tmp_path / "good.eml"
    good.write_bytes(b"From: a@customer.test\r\nSubject: hi\r\n\r\nbody\r\n")
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("ingest-email", str(good), str(tmp_path / "missing.eml"), stdout=out)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["action"] for r in rows] == ["created", "error"]
    assert rows[1]["reason"].startswith("unreadable")


def test_quarantined_mail_still_exits_zero(tmp_path):
    empty = tmp_path / "empty.eml"
    empty.write_bytes(b"")
    rows = _run(str(empty))
    assert rows[0]["action"] == "quarantined"
