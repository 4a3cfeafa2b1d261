"""KakaoTalk AlimTalk through NHN Cloud: template, SMS fallback, idempotency (fake_kakao.py)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from opsdesk.core.clock import frozen_at, now
from opsdesk.jobs.timers import timers_run_due
from opsdesk.notify.channels.base import Channel, Message
from opsdesk.notify.channels.delivery import delivery_create
from opsdesk.notify.channels.korean import sms_bytes
from opsdesk.notify.channels.registry import channel_get
from opsdesk.notify.outbox import delivery_queue
from tests.factories import make_staff

MSG = Message(
    subject="[INC-2026-000007] Escalation: DB down",
    body="SLA breached",
    url="https://opsdesk.example/oncall/ack/abc/",
    key="opsdesk-delivery-1",
)


def _channel() -> Channel:
    channel = channel_get("kakao_alimtalk")
    assert channel is not None
    return channel


def test_alimtalk_fills_the_template_and_records_request_and_sequence(kakao):
    result = _channel().send("010-0000-0001", MSG)
    assert (result.ok, result.provider_id) == (True, "20261206090000abcDEF01:1")
    seen = kakao.requests[0]
    assert seen.headers["X-NC-API-IDEMPOTENCY-KEY"] == "opsdesk-delivery-1"
    recipient = json.loads(seen.body)["recipientList"][0]
    assert recipient["recipientNo"] == "01000000001"
    assert recipient["templateParameter"] == {
        "subject": MSG.subject,
        "body": MSG.body,
        "url": MSG.url,
    }
    assert "resendParameter" not in recipient  # the console's fallback setting applies


def test_sms_fallback_is_asked_of_the_provider_when_enabled(kakao, settings):
    settings.OPSDESK_KAKAO_RESEND = True
    korean = Message(
        subject="[INC-2026-000007] 에스컬레이션: 데이터베이스 응답 없음", body="", url=MSG.url
    )
    assert _channel().send("010-0000-0001", MSG).ok
    assert _channel().send("010-0000-0002", korean).ok
    short, long = (
        json.loads(r.body)["recipientList"][0]["resendParameter"] for r in kakao.requests
    )
    assert (short["isResend"], short["resendSendNo"], short["resendType"]) == (
        True,
        "0200000001",
        "SMS",
    )
    assert short["resendContent"] == f"{MSG.subject} {MSG.url}" and "resendTitle" not in short
    # Subject and link past 90 bytes: an LMS that keeps the link.
    assert long["resendType"] == "LMS" and long["resendContent"].endswith(MSG.url)
    assert sms_bytes(long["resendTitle"]) <= 40


def test_unregistered_fallback_number_is_a_final_failure(kakao, settings):
    settings.OPSDESK_KAKAO_RESEND = True
    settings.OPSDESK_KAKAO_RESEND_SEND_NO = "02-9999-9999"
    result = _channel().send("010-0000-0001", MSG)
    assert (result.ok, result.retryable, result.error) == (
        False,
        False,
        "-1003: Invalid Sms Sendno",
    )


@pytest.mark.parametrize(
    ("setting", "value", "error"),
    [
        ("OPSDESK_KAKAO_SECRET_KEY", "wrong", "-1001: Invalid secretKey."),
        ("OPSDESK_KAKAO_APP_KEY", "wrong", "-1000: Invalid appKey."),
        ("OPSDESK_KAKAO_SENDER_KEY", "wrong", "-2017: Not exist plus friend."),
    ],
)
def test_configuration_errors_are_final(kakao, settings, setting, value, error):
    setattr(settings, setting, value)
    result = _channel().send("010-0000-0001", MSG)
    assert (result.ok, result.retryable, result.error) == (False, False, error)


def test_only_korean_numbers(kakao):
    result = _channel().send("+1 500-555-0006", MSG)
    assert (result.ok, result.retryable) == (False, False)
    assert kakao.requests == []


@pytest.mark.django_db
def test_a_lost_answer_is_retried_and_the_idempotency_key_stops_a_second_send(kakao):
    kakao.rule.lose_next_answer = True
    delivery = delivery_create(
        channel="kakao_alimtalk", address="010-0000-0001", message=MSG, user=make_staff()
    )
    delivery_queue(delivery=delivery)
    start = now()
    with frozen_at(start):
        timers_run_due(worker_id="w")
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("queued", 1)
    with frozen_at(start + timedelta(minutes=1)):
        timers_run_due(worker_id="w")
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert delivery.error.startswith("accepted by an earlier attempt (-1005")
    keys = {r.headers["X-NC-API-IDEMPOTENCY-KEY"] for r in kakao.requests}
    assert keys == {f"opsdesk-delivery-{delivery.pk}"}
