"""Synthetic messages for what the corpus lacks: CP949, ISO-2022-KR, RFC 2231 Korean names, HTML."""

from __future__ import annotations

import base64
import binascii
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest

from opsdesk.intake.email import UnparseableMessage, parse_message


def _raw(headers: str, body: bytes) -> bytes:
    return headers.replace("\n", "\r\n").encode("ascii") + b"\r\n" + body


HEAD = "From: =?UTF-8?B?6rmA6rOg6rCd?= <Customer@Example.KR>\nTo: support@opsdesk.example\n"


def test_iso_2022_kr_body() -> None:
    body = "서버가 응답하지 않습니다.".encode("iso2022_kr")
    raw = _raw(HEAD + "Subject: test\nContent-Type: text/plain; charset=ISO-2022-KR\n", body)
    parsed = parse_message(raw)
    assert parsed.text_body == "서버가 응답하지 않습니다."
    assert parsed.from_address == "customer@example.kr"
    assert parsed.from_name == "김고객"


def test_cp949_body_labelled_ks_c_5601_outside_euc_kr() -> None:
    body = "똠방각하 서버 장애".encode("cp949")
    headers = HEAD + 'Subject: x\nContent-Type: text/plain; charset="ks_c_5601-1987"\n'
    headers += "Content-Transfer-Encoding: 8bit\n"
    parsed = parse_message(_raw(headers, body))
    assert parsed.text_body == "똠방각하 서버 장애"
    assert not [d for d in parsed.defects if "body" in d]


def test_encoded_word_subject_with_ks_c_5601_label() -> None:
    word = base64.b64encode("똠방각하 문의".encode("cp949")).decode()
    raw = _raw(HEAD + f"Subject: =?ks_c_5601-1987?B?{word}?=\n", b"body")
    assert parse_message(raw).subject == "똠방각하 문의"


def test_encoded_word_split_inside_a_character() -> None:
    data = "장애 접수".encode()
    first, second = base64.b64encode(data[:4]).decode(), base64.b64encode(data[4:]).decode()
    raw = _raw(HEAD + f"Subject: [CSR] =?UTF-8?B?{first}?=\n =?UTF-8?B?{second}?=\n", b"x")
    assert parse_message(raw).subject == "[CSR] 장애 접수"


def test_raw_cp949_subject_without_encoded_word() -> None:
    headers = HEAD.encode() + "Subject: 부재중 아님 - 문의".encode("cp949") + b"\r\n"
    headers += b"Content-Type: text/plain; charset=ks_c_5601-1987\r\n\r\nbody"
    parsed = parse_message(headers)
    assert parsed.subject == "부재중 아님 - 문의"
    assert any("raw 8-bit" in d for d in parsed.defects)


def _with_attachment(disposition: str) -> bytes:
    return _raw(
        HEAD + "Subject: logs\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=XX\n",
        (
            "--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n첨부합니다\r\n"
            "--XX\r\nContent-Type: application/pdf\r\n"
            f"Content-Disposition: {disposition}\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--XX--\r\n"
        ).encode(),
    )


@pytest.mark.parametrize(
    "disposition",
    [
        "attachment; filename*=UTF-8''%EC%9E%A5%EC%95%A0%EB%B3%B4%EA%B3%A0%EC%84%9C.pdf",
        "attachment; filename*=ks_c_5601-1987''%C0%E5%BE%D6%BA%B8%B0%ED%BC%AD.pdf",
        "attachment;\r\n filename*0*=UTF-8''%EC%9E%A5%EC%95%A0;\r\n"
        " filename*1*=%EB%B3%B4%EA%B3%A0%EC%84%9C.pdf",
        'attachment; filename="=?UTF-8?B?7J6l7JWg67O06rOg7IScLnBkZg==?="',
        'attachment; filename="=?ks_c_5601-1987?B?wOW+1rq4sO28rS5wZGY=?="',
    ],
)
def test_korean_attachment_names(disposition: str) -> None:
    parsed = parse_message(_with_attachment(disposition))
    assert parsed.attachment_names == ["장애보고서.pdf"]
    attachment = parsed.attachments[0]
    assert attachment.payload == b"%PDF-1.4\n"
    assert attachment.size == 9 and not attachment.is_inline
    assert parsed.text_body == "첨부합니다"


def test_raw_8bit_cp949_attachment_name() -> None:
    raw = _with_attachment("attachment").replace(
        b"Content-Type: application/pdf",
        b'Content-Type: application/pdf; name="' + "장애보고서.pdf".encode("cp949") + b'"',
    )
    assert parse_message(raw).attachment_names == ["장애보고서.pdf"]


def test_attachment_name_cannot_escape() -> None:
    parsed = parse_message(_with_attachment('attachment; filename="../../etc/passwd"'))
    assert parsed.attachment_names == ["passwd"]


def test_html_only_mail_is_sanitised_and_readable() -> None:
    html = (
        "<html><head><style>p{color:red}</style><title>t</title></head><body>"
        "<script>alert('x')</script><p onclick='steal()'>안녕하세요,</p>"
        "<div>서버 <b>web-01</b>이 다운되었습니다.</div>"
        "<a href='javascript:alert(1)'>link</a><img src='cid:logo@x' alt='로고'></body></html>"
    )
    msg = MIMEText(html, "html", "utf-8")
    msg["From"] = "customer@example.kr"
    msg["Subject"] = "HTML only"
    parsed = parse_message(msg.as_bytes())
    assert parsed.text_body == "안녕하세요,\n\n서버 web-01이 다운되었습니다.\nlink[로고]"
    sanitised = parsed.html_body_sanitised or ""
    for banned in ("<script", "alert(", "onclick", "javascript:", "<style", "color:red"):
        assert banned not in sanitised
    assert '<img src="cid:logo@x" alt="로고">' in sanitised
    assert "<b>web-01</b>" in sanitised


def test_plain_part_preferred_over_html() -> None:
    msg = MIMEMultipart("alternative")
    msg["From"] = "a@example.com"
    msg.attach(MIMEText("plain version", "plain", "utf-8"))
    msg.attach(MIMEText("<p>html version</p>", "html", "utf-8"))
    parsed = parse_message(msg.as_bytes())
    assert parsed.text_body == "plain version"
    assert parsed.html_body_sanitised == "<p>html version</p>"


def test_inline_image_and_enclosed_message() -> None:
    inner = EmailMessage()
    inner["From"] = "orig@example.com"
    inner["Subject"] = "원본"
    inner.set_content("원본 본문")
    outer = EmailMessage()
    outer["From"] = "fwd@example.com"
    outer["Subject"] = "Fwd: 원본"
    outer.set_content("see below")
    outer.add_related(b"GIF89a-fake", maintype="image", subtype="gif", cid="<logo@x>")
    outer.add_attachment(inner)
    parsed = parse_message(outer.as_bytes())
    image, enclosed = parsed.attachments
    assert image.is_inline and image.content_id == "logo@x" and image.payload == b"GIF89a-fake"
    assert enclosed.content_type == "message/rfc822" and enclosed.filename.endswith(".eml")
    assert parse_message(enclosed.payload).subject == "원본"


def test_uuencoded_part_is_decoded() -> None:
    data = b"hello uuencode\n"
    encoded = b"begin 644 notes.txt\n" + binascii.b2a_uu(data) + b"`\nend\n"
    raw = _raw(
        HEAD + "Subject: uu\nContent-Type: multipart/mixed; boundary=B\n",
        b"--B\r\nContent-Type: text/plain\r\n\r\nbody\r\n--B\r\n"
        b"Content-Type: application/octet-stream; name=notes.txt\r\n"
        b"Content-Transfer-Encoding: x-uuencode\r\n\r\n" + encoded + b"\r\n--B--\r\n",
    )
    parsed = parse_message(raw)
    assert parsed.attachment_names == ["notes.txt"]
    assert parsed.attachments[0].payload == data


def test_ids_and_dates_are_normalised() -> None:
    raw = _raw(
        HEAD
        + "Subject: re\nMessage-ID:  <ABC.123@mail.example.kr> \nIn-Reply-To: <csr-1@opsdesk>\n"
        + "References: <a@x> bogus <b c@x> <csr-1@opsdesk>\n"
        + "Date: Thu, 26 Nov 2026 10:00:00 -0000\n",
        b"x",
    )
    parsed = parse_message(raw)
    assert parsed.message_id == "ABC.123@mail.example.kr"
    assert parsed.in_reply_to == "csr-1@opsdesk"
    assert parsed.references == ("a@x", "csr-1@opsdesk")
    assert parsed.date is not None and parsed.date.utcoffset() is not None


def test_missing_message_id_is_not_synthesised() -> None:
    parsed = parse_message(_raw(HEAD + "Subject: x\n", b"x"))
    assert parsed.message_id is None and parsed.in_reply_to is None and parsed.references == ()


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"   \r\n\r\n",
        b"just some text without any header at all",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1junk",
    ],
)
def test_hopeless_input_raises_unparseable(raw: bytes) -> None:
    with pytest.raises(UnparseableMessage) as caught:
        parse_message(raw)
    assert caught.value.reason


def test_deep_nesting_does_not_crash() -> None:
    body = b""
    for depth in range(200):
        body = (
            f"--b{depth}\r\nContent-Type: multipart/mixed; boundary=b{depth + 1}\r\n\r\n".encode()
            + body
        )
    raw = _raw(HEAD + "Subject: deep\nContent-Type: multipart/mixed; boundary=b0\n", body)
    parsed = parse_message(raw)
    assert parsed.subject == "deep"


def test_hostile_header_sizes_are_bounded() -> None:
    many = parse_message(b"From: a@example.com\r\nTo: " + b"x@example.com, " * 2000 + b"\r\n\r\nx")
    assert len(many.to) == 500
    assert "2000 addresses in one header; first 500 kept" in many.defects
    long_from = parse_message(b"From: " + b"a" * 100_000 + b"\r\nSubject: s\r\n\r\nx")
    assert long_from.from_address is None and long_from.subject == "s"
    params = b"Content-Type: text/plain; charset=utf-8; " + b"x*1=y; " * 5000
    raw = params + b"\r\nFrom: a@b.example\r\n\r\n" + "본문".encode()
    assert parse_message(raw).text_body == "본문"
