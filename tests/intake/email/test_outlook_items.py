"""Attached Outlook .msg files are opened; RTF-only Outlook bodies become text."""

from __future__ import annotations

from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from pathlib import Path

import compressed_rtf
import pytest

from opsdesk.intake.email import parse_message, spool
from opsdesk.intake.email.rendering import message_text
from opsdesk.intake.email.rtf import compressed_rtf_text, rtf_text


def _with_attachment(name: str, data: bytes, subtype: str = "vnd.ms-outlook") -> bytes:
    msg = EmailMessage()
    msg["From"] = "Kim Minsu <minsu@customer.test>"
    msg["To"] = "support@opsdesk.test"
    msg["Subject"] = "FW: the newsletter that broke our filter"
    msg.set_content("See the attached message.")
    msg.add_attachment(data, maintype="application", subtype=subtype, filename=name)
    return msg.as_bytes()


NEWSLETTER_FILES = ["newsletter.png", "spacer.gif", "image004.jpg", "image006.jpg", "image008.jpg"]


def test_attached_msg_is_kept_and_opened(corpus: Path) -> None:
    data = (corpus / "mail-parser/mail_outlook_1").read_bytes()
    parsed = parse_message(_with_attachment("Newsletter.msg", data))
    assert parsed.attachment_names == ["Newsletter.msg", *NEWSLETTER_FILES]
    kept = parsed.attachments[0]
    assert kept.payload == data and kept.enclosed_in is None
    assert {a.enclosed_in for a in parsed.attachments[1:]} == {"Newsletter.msg"}
    assert parsed.attachments[1].payload[:4] == b"\x89PNG"
    (enclosed,) = parsed.enclosed
    assert enclosed.subject == "Newsletter Prüfung Personalwesen / Prüfung Eröffnungsbilanz"
    assert enclosed.from_address == "nueblingv@w-vwa.de"
    assert enclosed.text_body.startswith("Wenn Sie diesen Newsletter nicht lesen")
    assert enclosed.attachment_names == tuple(NEWSLETTER_FILES)
    assert parsed.text_body.strip() == "See the attached message."  # the mail's own text
    text = message_text(parsed)
    assert text.startswith("See the attached message.\n\n---------- ")
    assert "Attached Outlook message Newsletter.msg" in text
    assert "Subject: Newsletter Prüfung Personalwesen" in text
    assert "Wenn Sie diesen Newsletter nicht lesen" in text


def test_large_attached_msg_is_opened_from_its_spool_file(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spool, "SPOOL_MESSAGE_BYTES", 0)
    monkeypatch.setattr(spool, "SPOOL_PART_BYTES", 0)
    data = (corpus / "mail-parser/mail_outlook_1").read_bytes()
    parsed = parse_message(_with_attachment("Newsletter.msg", data, subtype="octet-stream"))
    assert parsed.attachments[0].spooled is not None
    assert parsed.attachment_names == ["Newsletter.msg", *NEWSLETTER_FILES]
    assert parsed.enclosed[0].subject.startswith("Newsletter Prüfung")


def test_unreadable_msg_is_kept_as_a_file() -> None:
    broken = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600
    parsed = parse_message(_with_attachment("broken.msg", broken))
    assert parsed.attachment_names == ["broken.msg"]
    assert parsed.enclosed == ()
    prefix = "attached Outlook message broken.msg not opened"
    assert any(d.startswith(prefix) for d in parsed.defects)


def test_rtf_only_tnef_body_becomes_text(corpus: Path) -> None:
    """Outlook rich-text mail whose winmail.dat is the only part: no text/plain, no HTML."""
    source = BytesParser(policy=default).parsebytes(
        (corpus / "MimeKit/tnef/rich-text.eml").read_bytes()
    )
    (tnef,) = [p for p in source.walk() if p.get_content_type() == "application/ms-tnef"]
    msg = EmailMessage()
    msg["From"] = "outlook@customer.test"
    msg["Subject"] = "rich text only"
    msg.set_content(tnef.get_payload(decode=True), maintype="application", subtype="ms-tnef")
    parsed = parse_message(msg.as_bytes())
    assert parsed.text_body.startswith("You've made this a Christmas to remember")
    assert "TNEF body converted from RTF" in parsed.defects
    assert parsed.attachment_names[0] == "kitten-playing-with-a-christmas-tree.jpg"


def test_korean_rtf_uses_its_code_page() -> None:
    rtf = (
        rb"{\rtf1\ansi\ansicpg949\deff0{\fonttbl{\f0\fnil\fcharset129 Gulim;}}"
        rb"\f0 \'c7\'d1\'b1\'db \'b8\'de\'c0\'cf\par DB-02 \'c0\'e5\'be\'d6\par}"
    )
    assert rtf_text(rtf) == "한글 메일\nDB-02 장애"
    assert compressed_rtf_text(compressed_rtf.compress(rtf)) == "한글 메일\nDB-02 장애"
    assert compressed_rtf_text(b"not compressed rtf") == ""


def _outlook_item_inside_msg() -> bytes:
    """An Outlook message carrying another Outlook item (a mail forwarded as an attachment)
    that has a log file of its own, written with a .msg writer: no corpus sample has one."""
    from aspose.email_foss.msg.mapi_message import MapiMessage

    inner = MapiMessage.create(subject="서버 점검 안내", body="점검은 토요일 02:00에 시작합니다.")
    inner.add_attachment("app.log", b"ERROR disk full\n")
    outer = MapiMessage.create(subject="FW: 서버 점검 안내", body="See the forwarded notice.")
    outer.add_embedded_message_attachment(inner, filename="서버 점검 안내.msg")
    return outer.to_bytes()


def test_an_outlook_item_inside_a_msg_is_kept_as_an_eml_with_its_files() -> None:
    data = _outlook_item_inside_msg()
    parsed = parse_message(_with_attachment("FW 서버 점검 안내.msg", data))
    assert parsed.attachment_names == ["FW 서버 점검 안내.msg", "서버 점검 안내.eml"]
    (enclosed,) = parsed.enclosed
    assert enclosed.subject == "FW: 서버 점검 안내"
    assert enclosed.text_body.strip() == "See the forwarded notice."
    assert enclosed.attachment_names == ("서버 점검 안내.eml",)
    item = BytesParser(policy=default).parsebytes(parsed.attachments[1].payload)
    assert item["Subject"] == "서버 점검 안내"
    assert "점검은 토요일 02:00에 시작합니다." in item.get_body(("plain",)).get_content()
    (log,) = item.iter_attachments()
    assert log.get_filename() == "app.log"
    assert log.get_content() == b"ERROR disk full\n"


def test_outlook_items_nest_only_so_deep() -> None:
    from aspose.email_foss.msg.mapi_message import MapiMessage

    from opsdesk.intake.email.outlook import MAX_EMBEDDED_DEPTH, msg_to_rfc822

    message = MapiMessage.create(subject="level 0", body="innermost")
    for level in range(1, MAX_EMBEDDED_DEPTH + 2):
        outer = MapiMessage.create(subject=f"level {level}", body=f"body {level}")
        outer.add_embedded_message_attachment(message, filename=f"level {level - 1}.msg")
        message = outer
    converted = BytesParser(policy=default).parsebytes(msg_to_rfc822(message.to_bytes()))
    subjects = [part["Subject"] for part in converted.walk() if part["Subject"]]
    assert subjects == [f"level {n}" for n in range(MAX_EMBEDDED_DEPTH + 1, 0, -1)]
