"""Naver Cloud SENS SMS: signed requests, SMS or LMS by EUC-KR bytes (fake_sens.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from opsdesk.core.clock import frozen_at
from opsdesk.notify.channels.base import Channel, Message
from opsdesk.notify.channels.korean import sms_bytes, sms_compose
from opsdesk.notify.channels.registry import channel_get
from tests.notify.fake_sens import FROM

SHORT = Message(subject="[INC-2026-000007] DB down", body="", url="https://x/a/7")
LONG = Message(
    subject="[INC-2026-000007] 에스컬레이션: 데이터베이스 응답 없음 — 주 저장소 디스크 가득 참",
    body="SLA 위반: 최초 응답\n확인하려면 아래 링크를 여세요.",
    url="https://opsdesk.example/oncall/ack/eyJlIjo3LCJ1IjoxfQ:1tAbCd:sIgNaTuReSiGnAtUrE/",
)


def _channel() -> Channel:
    channel = channel_get("sens_sms")
    assert channel is not None
    return channel


def test_short_text_is_a_signed_sms(sens):
    result = _channel().send("010-0000-0001", SHORT)
    assert (result.ok, result.provider_id) == (True, "RSSA-1733475600000-0001-00000000-AbCdEfGh")
    body = json.loads(sens.requests[0].body)
    assert body["type"] == "SMS" and "subject" not in body
    assert body["content"] == "[INC-2026-000007] DB down https://x/a/7"
    assert (body["from"], body["countryCode"], body["messages"]) == (
        FROM,
        "82",
        [{"to": "01000000001"}],
    )


def test_long_korean_text_is_an_lms_that_keeps_the_link_whole(sens):
    assert _channel().send("+82 10-0000-0001", LONG).ok
    body = json.loads(sens.requests[0].body)
    assert body["type"] == "LMS"
    assert sms_bytes(body["subject"]) <= 40 and body["subject"].startswith("[INC-2026-000007]")
    assert body["content"].endswith("\n" + LONG.url)
    assert "—" not in body["content"]  # the em dash is not in EUC-KR: replaced by "-"


def test_the_signature_uses_the_wall_clock_not_the_frozen_one(sens):
    with frozen_at(datetime(2031, 1, 1, tzinfo=UTC)):
        assert _channel().send("010-0000-0001", SHORT).ok


def test_international_number_carries_its_country_code(sens):
    assert _channel().send("+1 500-555-0006", SHORT).ok
    body = json.loads(sens.requests[0].body)
    assert (body["countryCode"], body["messages"][0]["to"]) == ("1", "5005550006")


def test_bad_credentials_are_final(sens, settings):
    settings.OPSDESK_SENS_SECRET_KEY = "wrong"
    result = _channel().send("010-0000-0001", SHORT)
    assert (result.ok, result.retryable) == (False, False)
    assert result.error == "401/200: Authentication Failed (Invalid authentication information.)"


@pytest.mark.parametrize(
    ("number", "prefix"), [("010-0000-0429", "429/410"), ("010-0000-0500", "500/900")]
)
def test_throttling_and_server_errors_are_retried(sens, number, prefix):
    result = _channel().send(number, SHORT)
    assert (result.ok, result.retryable) == (False, True)
    assert result.error.startswith(prefix)


def test_not_a_number_fails_without_a_request(sens):
    result = _channel().send("on-call desk", SHORT)
    assert (result.ok, result.retryable) == (False, False)
    assert sens.requests == []


# --- SMS or LMS -------------------------------------------------------------------------


def test_sms_is_subject_and_link_up_to_90_bytes_then_lms_with_the_body():
    ninety = Message(subject="가" * 45, body="")  # 45 Hangul = 90 bytes
    assert sms_compose(ninety).kind == "SMS"
    longer = sms_compose(Message(subject="가" * 45 + "a", body="reason"))
    assert (longer.kind, longer.content) == ("LMS", "가" * 45 + "a\nreason")
    # A syllable outside KS X 1001 is still two bytes (not an 8-byte sequence).
    assert sms_bytes("똠") == 2


def test_lms_content_is_cut_to_2000_bytes_keeping_the_link():
    parts = sms_compose(Message(subject="s" * 100, body="가" * 3000, url="https://x/ack/1/"))
    assert parts.kind == "LMS" and sms_bytes(parts.content) <= 2000
    assert parts.content.endswith("\nhttps://x/ack/1/")


def test_emoji_are_replaced():
    assert sms_compose(Message(subject="DB 🔥 down", body="")).content == "DB ? down"
