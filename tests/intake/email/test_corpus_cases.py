"""What SOURCES.md says each interesting fixture is, asserted on the parse and classification."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from opsdesk.intake.email import ParsedMessage, classify

Parse = Callable[[str], ParsedMessage]


def test_ks_c_5601_body_is_cp949(parse_fixture: Parse) -> None:
    parsed = parse_fixture("mikel-mail/multi_charset/ks_c_5601-1987.eml")
    assert parsed.text_body.strip() == "스티해"
    assert parsed.from_address == "from@example.com"


@pytest.mark.parametrize(
    "name",
    ["raw_email.eml", "raw_email_double_at_in_header.eml", "raw_email_string_in_date_field.eml"],
)
def test_euc_kr_subject_and_body(parse_fixture: Parse, name: str) -> None:
    parsed = parse_fixture(f"mikel-mail/plain_emails/{name}")
    assert parsed.subject == "NOTE: 한국말로 하는 것"
    assert parsed.text_body.startswith("대부분의 마찬가지로, 우리는 하나님을 믿습니다.")
    assert "제 이름은 Jamis입니다." in parsed.text_body


def test_korean_message_with_junk_date(parse_fixture: Parse) -> None:
    parsed = parse_fixture("mikel-mail/plain_emails/raw_email.eml")
    assert parsed.from_address == "jamis@37signals.com"
    assert parsed.from_name == "Jamis Buck"
    assert parsed.date == datetime(2005, 5, 2, 22, 7, 5, tzinfo=UTC)


def test_date_with_8bit_comment(parse_fixture: Parse) -> None:
    parsed = parse_fixture("mikel-mail/plain_emails/raw_email_string_in_date_field.eml")
    assert parsed.date == datetime(2008, 9, 20, 17, 4, 30, tzinfo=UTC)


def test_partially_quoted_cjk_subject(parse_fixture: Parse) -> None:
    parsed = parse_fixture("mikel-mail/plain_emails/raw_email_with_partially_quoted_subject.eml")
    assert parsed.subject == 'Re: Test: "漢字" mid "漢字" tail'


@pytest.mark.parametrize(
    ("relative", "subject", "body_start"),
    [
        ("mikel-mail/multi_charset/japanese.eml", "まみむめも", "かきくえこ"),
        ("mikel-mail/multi_charset/japanese_iso_2022.eml", "まみむめも", "すみません。"),
        ("mikel-mail/multi_charset/japanese_shift_jis.eml", "test", "あいうえお"),
        ("MimeKit/messages/japanese.txt", "日本語メールテスト (testing Japanese emails)", None),
        ("mail-parser/mail_test_12", "代开各地增值税发票", "你好！我公司可代开各类增值税发票"),
        ("set-of-emails/bsd/lhost-kddi-01.eml", "メールエラー通知", None),
    ],
)
def test_japanese_and_chinese(
    parse_fixture: Parse, relative: str, subject: str, body_start: str | None
) -> None:
    parsed = parse_fixture(relative)
    assert parsed.subject == subject
    if body_start:
        assert parsed.text_body.startswith(body_start)


def test_gb2312_sender_name(parse_fixture: Parse) -> None:
    assert parse_fixture("mail-parser/mail_test_12").from_name == "张先生"


@pytest.mark.parametrize(
    ("relative", "names"),
    [
        ("mikel-mail/multi_charset/japanese_attachment.eml", ["てすと.txt"]),
        ("mikel-mail/attachment_emails/attachment_nonascii_filename.eml", ["ciële.txt"]),
        (
            "mikel-mail/attachment_emails/attachment_with_base64_encoded_name.eml",
            ["This is a test.pdf"],
        ),
        ("mikel-mail/attachment_emails/attachment_pdf.eml", ["broken.pdf"]),
        ("mikel-mail/attachment_emails/attachment_message_rfc822.eml", ["ForwardedMessage.eml"]),
        (
            "mikel-mail/error_emails/content_transfer_encoding_x_uuencode.eml",
            ["PGP_Cmts_on_12-14-01_Pkg.doc"],
        ),
        (
            "django-mailbox/message_with_koi8r_filename_attachments.eml",
            [
                "Пакет предложений HSE Career Fair 8 апреля 2016.pdf",
                "Ведомости.pdf",
                "Пакет предложений 2016.pptx",
            ],
        ),
        (
            "MimeKit/tnef/rich-text.eml",
            [
                "kitten-playing-with-a-christmas-tree.jpg",
                "Untitled Attachment",
                "kitten-playing-with-a-christmas-tree.jpg",
            ],
        ),
        ("MimeKit/tnef/ukr.eml", []),
        ("set-of-emails/not/is-not-bounce-02.eml", ["original.eml"]),
        ("mail-mime-parser/m0024.txt", ["Biodiversite de semaine en semaine.doc"]),
        ("flanker/iphone.eml", ["photo.JPG"]),
    ],
)
def test_attachment_names(parse_fixture: Parse, relative: str, names: list[str]) -> None:
    assert parse_fixture(relative).attachment_names == names


def test_tnef_body_and_files(parse_fixture: Parse) -> None:
    ukr = parse_fixture("MimeKit/tnef/ukr.eml")
    assert ukr.text_body.startswith("шостий")
    assert "TNEF winmail.dat unpacked: 0 file(s)" in ukr.defects
    kitten = parse_fixture("MimeKit/tnef/rich-text.eml").attachments[0]
    assert kitten.payload[:3] == b"\xff\xd8\xff"  # a real JPEG came out of winmail.dat
    assert kitten.content_type == "image/jpeg"


def test_outlook_msg_is_converted(parse_fixture: Parse) -> None:
    parsed = parse_fixture("mail-parser/mail_outlook_1")
    assert parsed.source_format == "outlook-msg"
    assert parsed.subject == "Newsletter Prüfung Personalwesen / Prüfung Eröffnungsbilanz"
    assert parsed.from_address == "nueblingv@w-vwa.de"
    # The .msg's own Message-ID (its PR_INTERNET_MESSAGE_ID property), from the sender's host.
    local, _at, host = parsed.message_id.partition("@")
    assert host == "www.w-vwa.de" and local.startswith("2017") and local.endswith(".6AE0948009C")
    assert parsed.attachment_names == [
        "newsletter.png", "spacer.gif", "image004.jpg", "image006.jpg", "image008.jpg",
    ]  # fmt: skip
    assert all(a.is_inline and a.content_id for a in parsed.attachments)
    assert parsed.attachments[0].payload[:4] == b"\x89PNG"
    assert parsed.html_body_sanitised is not None
    assert parsed.text_body.startswith("Wenn Sie diesen Newsletter nicht lesen")


def test_inline_images_are_marked(parse_fixture: Parse) -> None:
    parsed = parse_fixture("mail-parser/mail_test_10")
    gifs = [a for a in parsed.attachments if a.content_type == "image/gif"]
    assert len(gifs) == 3 and all(a.is_inline and a.content_id for a in gifs)
    pdf = parsed.attachments[-1]
    assert pdf.filename == "Move To Eight ZWEP6227F.pdf" and not pdf.is_inline


def test_threading_headers(parse_fixture: Parse) -> None:
    reply = parse_fixture("mikel-mail/plain_emails/raw_email_reply.eml")
    assert reply.message_id == "473FFE27.20003@xxx.org"
    assert reply.in_reply_to == "348F04F142D69C21-291E56D292BC@xxxx.net"
    assert reply.references == (
        "473FF3B8.9020707@xxx.org",
        "348F04F142D69C21-291E56D292BC@xxxx.net",
    )
    refs = parse_fixture("mikel-mail/error_emails/multiple_references_with_one_invalid.eml")
    assert refs.references == ("foo@bar.net", "baz@bar.net")
    assert parse_fixture("mikel-mail/error_emails/empty_in_reply_to.eml").in_reply_to is None


@pytest.mark.parametrize(
    "relative",
    [
        "mikel-mail/plain_emails/raw_email_bad_time.eml",
        "mikel-mail/error_emails/bad_date_header.eml",
    ],
)
def test_bad_dates_become_none(parse_fixture: Parse, relative: str) -> None:
    parsed = parse_fixture(relative)
    assert parsed.date is None
    assert any("date" in defect for defect in parsed.defects)


@pytest.mark.parametrize(
    ("relative", "subject", "sender"),
    [
        (
            "django-mailbox/message_with_single_byte_extended_subject_encoding.eml",
            "Узнай как зарабатывать от 1000$ в неделю!",
            "mr.test32@mail.ru",
        ),
        (
            "django-mailbox/message_with_koi8r_filename_attachments.eml",
            "Предложения от НИУ ВШЭ на 2016 год",
            "osavostenok@hse.ru",
        ),
        (
            "flanker/bilingual-simple.eml",
            "Simple text. How are you? Как ты поживаешь?",
            "hello@example.com",
        ),
        ("django-helpdesk/all-special-chars.eml", "Testovácí email", "timothy.hobbs@auto-mat.cz"),
        (
            "django-helpdesk/utf-nondecodable.eml",
            "Fwd: Cyklozaměstnavatel - změna vyhodnocení",
            "john.smith@example.cz",
        ),
        ("mikel-mail/rfc6532/utf8_headers.eml", "Säying Hello", "jdöe@mächine.example"),
        (
            "mikel-mail/plain_emails/raw_email_incorrect_header.eml",
            "Stop adware/spyware once and for all.",
            "xxx@xxx.xxx",
        ),
        (
            "mikel-mail/plain_emails/raw_email_multiple_from.eml",
            "/home/svn/public/minebox revision 214",
            "tim@powerupdev.com",
        ),
        ("mikel-mail/error_emails/bad_encoded_subject.eml", "TEST", None),
        (
            "mail-mime-parser/m0010.txt",
            "Die Hasen und die Frösche (Microsoft Outlook 00)",
            "doug@example.com",
        ),
    ],
)
def test_subject_and_sender(parse_fixture: Parse, relative: str, subject: str, sender: str) -> None:
    parsed = parse_fixture(relative)
    assert parsed.subject == subject
    assert parsed.from_address == sender


def test_raw_8bit_display_names(parse_fixture: Parse) -> None:
    assert parse_fixture("flanker/from-encoding.eml").from_name == "Ingo Lütkebohle"
    assert (
        parse_fixture("django-mailbox/bad_character_attachment.eml").from_name == "Reisinger Ádám"
    )
    assert parse_fixture("mail-parser/mail_test_19").from_address == "alice@example.com"


def test_broken_boundaries_are_repaired(parse_fixture: Parse) -> None:
    parsed = parse_fixture("mikel-mail/mime_emails/raw_email_with_illegal_boundary.eml")
    assert parsed.text_body.startswith("Hello\nThis is an outlook test")
    assert parsed.attachments == ()
    malformed = parse_fixture("mail-parser/mail_malformed_3")
    assert malformed.html_body_sanitised and "darse de baja" in malformed.html_body_sanitised


@pytest.mark.parametrize(
    ("relative", "recipients", "codes", "permanent"),
    [
        (
            "mikel-mail/multipart_report_emails/report_422.eml",
            ("fraser@oooooooo.com.au",),
            ("4.2.2",),
            False,
        ),
        (
            "mikel-mail/multipart_report_emails/report_530.eml",
            ("edwin@zzzzzzz.com",),
            ("5.3.0",),
            True,
        ),
        (
            "mikel-mail/multipart_report_emails/multi_address_bounce1.eml",
            (
                "bbbbvhvbbvkjbhfbvbvjhb@gmail.com",
                "bscdbcjhasbcjhbdscbhbsdhcbj@gmail.com",
                "egyfefsdvsfvvhjsd@gmail.com",
                "kfhejkfbsjkjsbhds@gmail.com",
                "qfvhgsvhgsduiohncdhcvhsdfvsfygusd@gmail.com",
            ),
            ("5.1.1",),
            True,
        ),
        (
            "mikel-mail/mime_emails/raw_email_with_mimepart_without_content_type.eml",
            ("larose.julie@courrier.uqam.ca",),
            ("4.5.0",),
            False,
        ),
        ("flanker/bounce/mailbox-full.eml", ("user@aol.com",), ("5.2.2",), True),
        ("flanker/bounce/delayed.eml", ("foo@example.com",), ("4.0.0",), False),
        (
            "flanker/bounce/gmail-invalid-address.eml",
            ("awfawfawfawfawfaw@someserverhere.com",),
            ("5.1.0",),
            True,
        ),
        ("flanker/bounce/office365.eml", ("noname@example.com",), ("5.1.10",), True),
        ("MimeKit/messages/bounce.txt", ("netec.test@netecgc.com",), ("5.1.1",), True),
        ("mail-parser/mail_malformed_2", ("abh@netpar.com.br",), ("4.2.2",), False),
        (
            "set-of-emails/bsd/lhost-postfix-01.eml",
            ("r@p351355.pool.example.ne.jp",),
            ("5.1.1",),
            True,
        ),
        (
            "set-of-emails/dos/lhost-postfix-01.eml",
            ("r@p351355.pool.example.ne.jp",),
            ("5.1.1",),
            True,
        ),
        ("set-of-emails/bsd/lhost-office365-01.eml", ("kijitora@example.com",), ("5.1.10",), True),
        ("set-of-emails/bsd/lhost-gmail-01.eml", ("userunknown@example.jp",), ("5.1.1",), True),
        (
            "set-of-emails/bsd/lhost-amazonworkmail-01.eml",
            ("kijitora@example.jp",),
            ("5.1.1",),
            True,
        ),
        ("set-of-emails/bsd/lhost-domino-01.eml", ("kijitora@example.jp",), (), True),
        ("set-of-emails/bsd/rhost-tencent-01.eml", ("nekochan@qq.example.cn",), ("5.0.0",), True),
        (
            "set-of-emails/bsd/lhost-exchange2007-05.eml",
            ("gwang1@student.mlcsyd.nsw.edu.au",),
            ("4.4.7",),
            False,
        ),
    ],
)
def test_bounces(
    parse_fixture: Parse,
    relative: str,
    recipients: tuple[str, ...],
    codes: tuple[str, ...],
    permanent: bool,
) -> None:
    result = classify(parse_fixture(relative))
    assert result.kind == "bounce"
    assert result.failed_recipients == recipients
    assert result.status_codes == codes
    assert result.permanent is permanent


@pytest.mark.parametrize(
    ("relative", "kind"),
    [
        ("set-of-emails/bsd/lhost-kddi-01.eml", "bounce"),
        ("flanker/bounce/broken-mime.eml", "bounce"),
        ("flanker/bounce/no-mx.eml", "bounce"),
        ("set-of-emails/bsd/rfc3834-01.eml", "auto_reply"),
        ("set-of-emails/bsd/rfc3834-02.eml", "auto_reply"),  # Exchange, no Auto-Submitted
        ("set-of-emails/bsd/rfc3834-05.eml", "auto_reply"),
        ("set-of-emails/bsd/rfc3834-06.eml", "auto_reply"),
        ("flanker/from-encoding.eml", "auto_reply"),  # Precedence: bulk
        ("mail-parser/mail_test_16", "auto_reply"),  # Precedence: junk
        ("flanker/disposition-notification.eml", "read_receipt"),
        ("mail-mime-parser/m4006.txt", "read_receipt"),  # Outlook TNEF "Read:" receipt
        ("flanker/complaints/aol.eml", "complaint"),
        ("set-of-emails/bsd/arf-01.eml", "complaint"),
        ("mikel-mail/error_emails/empty_in_reply_to.eml", "list"),
        ("set-of-emails/not/is-not-bounce-01.eml", "normal"),
        ("set-of-emails/not/is-not-bounce-02.eml", "normal"),
        ("talon/standard_replies/outlook.eml", "normal"),
        ("mikel-mail/plain_emails/raw_email.eml", "normal"),
        ("django-helpdesk/forwarded-message.eml", "normal"),
        ("mail-parser/mail_outlook_1", "normal"),
    ],
)
def test_classification(parse_fixture: Parse, relative: str, kind: str) -> None:
    assert classify(parse_fixture(relative)).kind == kind


def test_auto_reply_without_auto_submitted_is_detected_by_subject(parse_fixture: Parse) -> None:
    parsed = parse_fixture("set-of-emails/bsd/rfc3834-02.eml")
    assert parsed.headers.auto_submitted is None
    assert parsed.headers.x_auto_response_suppress == "All"
    assert classify(parsed).reason == "auto-reply subject"
