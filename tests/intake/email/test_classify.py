"""Classification of synthetic messages: markers that count, and ones that must not."""

from __future__ import annotations

import pytest

from opsdesk.intake.email import classify, parse_message


def _msg(
    subject: str, *, sender: str = "customer@example.kr", extra: str = "", body: str = ""
) -> bytes:
    head = f"From: {sender}\nTo: support@opsdesk.example\nSubject: {subject}\n{extra}"
    head += "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n"
    return head.replace("\n", "\r\n").encode() + b"\r\n" + (body or "본문").encode()


def _kind(raw: bytes) -> str:
    return classify(parse_message(raw)).kind


@pytest.mark.parametrize(
    ("subject", "extra"),
    [
        ("서버 장애 문의", "X-Auto-Response-Suppress: All\n"),  # a request, not a marker
        ("서버 장애 문의", "Auto-Submitted: no\n"),
        ("Re: out of office plans for the migration", ""),
        ("Re: Undelivered Mail Returned to Sender", ""),  # a human asking about a bounce
        ("Read the runbook: step 3 fails", ""),
    ],
)
def test_normal_mail_is_normal(subject: str, extra: str) -> None:
    assert _kind(_msg(subject, extra=extra)) == "normal"


@pytest.mark.parametrize(
    ("subject", "extra"),
    [
        ("Automatic reply: 서버 장애 문의", ""),
        ("부재중: 12월 1일까지 휴가입니다", ""),
        ("[자동 회신] 문의 접수", ""),
        ("Out of Office: back Monday", ""),
        ("문의", "Auto-Submitted: auto-replied\n"),
        ("문의", "Auto-Submitted: auto-generated\n"),
        ("문의", "X-Autoreply: yes\n"),
        ("문의", "X-Autorespond: yes\n"),
        ("문의", "Precedence: bulk\n"),
        ("문의", "Precedence: junk\n"),
    ],
)
def test_auto_replies(subject: str, extra: str) -> None:
    assert _kind(_msg(subject, extra=extra)) == "auto_reply"


def test_mailing_list() -> None:
    assert _kind(_msg("[ops] weekly", extra="List-Id: <ops.lists.example.kr>\n")) == "list"
    assert _kind(_msg("[ops] weekly", extra="Precedence: list\n")) == "list"


def test_korean_non_standard_bounce() -> None:
    body = (
        "메일 전송에 실패하였습니다.\n받는 사람: old.user@example.kr\n"
        "사유: 550 5.1.1 존재하지 않는 계정입니다.\n"
        "----- 원본 메일 -----\nFrom: support@opsdesk.example\nTo: old.user@example.kr\n"
    )
    raw = _msg("메일 전송 실패", sender="MAILER-DAEMON@mail.example.kr", body=body)
    result = classify(parse_message(raw))
    assert result.kind == "bounce"
    assert result.failed_recipients == ("old.user@example.kr",)
    assert result.status_codes == ("5.1.1",)
    assert result.permanent is True


def test_delay_notice_is_temporary() -> None:
    body = "Delivery to user@example.kr has been delayed.\nStatus: 4.4.7\n"
    raw = _msg("Delivery Status Notification (Delay)", sender="postmaster@example.net", body=body)
    result = classify(parse_message(raw))
    assert result.kind == "bounce" and result.permanent is False
    assert result.failed_recipients == ("user@example.kr",)


def test_standard_dsn_is_parsed() -> None:
    raw = (
        b"From: MAILER-DAEMON@mx.example.net\r\nTo: support@opsdesk.example\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="R"\r\n\r\n'
        b"--R\r\nContent-Type: text/plain\r\n\r\nsorry\r\n"
        b"--R\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.example.net\r\n\r\n"
        b"Final-Recipient: rfc822; Full@Example.KR\r\nAction: failed\r\nStatus: 5.2.2\r\n\r\n"
        b"Final-Recipient: rfc822; later@example.kr\r\nAction: delayed\r\nStatus: 4.4.1\r\n\r\n"
        b"--R--\r\n"
    )
    result = classify(parse_message(raw))
    assert result.kind == "bounce"
    assert result.failed_recipients == ("full@example.kr", "later@example.kr")
    assert result.status_codes == ("5.2.2", "4.4.1")
    assert result.permanent is True
