"""Channel adapters against local fake providers that check each request as the provider's
documentation describes it and answer as it does, errors included."""

from __future__ import annotations

import base64
import json
import urllib.parse

import pytest
from django.core import mail

from opsdesk.notify.channels.base import Channel, Message
from opsdesk.notify.channels.registry import channel_get, channel_names
from tests.notify.fakes import Seen, fake_provider

MSG = Message(subject="[CSR-2026-000001] Escalation", body="DB down", url="https://x/ack/1/")
SID = "AC00000000000000000000000000000001"


def _channel(name: str) -> Channel:
    channel = channel_get(name)
    assert channel is not None
    return channel


def test_every_channel_is_registered():
    expected = {"email", "slack", "twilio_sms", "twilio_voice", "nhn_sms", "telegram", "screen"}
    expected |= {"teams", "sens_sms", "kakao_alimtalk"}
    assert expected <= set(channel_names())


# --- Twilio -----------------------------------------------------------------------------


def _twilio(request: Seen) -> tuple[int, dict]:
    expected_auth = "Basic " + base64.b64encode(f"{SID}:secret-token".encode()).decode()
    if request.headers.get("Authorization") != expected_auth:
        return 401, {"code": 20003, "message": "Authenticate", "status": 401}
    form = urllib.parse.parse_qs(request.body.decode())
    if request.path == f"/2010-04-01/Accounts/{SID}/Calls.json":
        if form.get("To") == ["+15005550001"]:
            return 400, {"code": 21217, "message": "Phone number is not valid", "status": 400}
        assert form["Twiml"][0].startswith('<Response><Say language="ko-KR">[CSR-2026-000001]')
        return 201, {"sid": "CA0001", "status": "queued"}
    if request.path != f"/2010-04-01/Accounts/{SID}/Messages.json":
        return 404, {"code": 20404, "message": "not found", "status": 404}
    if form.get("To") == ["+15005550001"]:
        return 400, {"code": 21211, "message": "The 'To' number is not valid.", "status": 400}
    assert form["From"] == ["+15005550006"] and "Escalation" in form["Body"][0]
    return 201, {"sid": "SM0001", "status": "queued", "to": form["To"][0]}


@pytest.fixture
def twilio(settings):
    with fake_provider(_twilio) as server:
        settings.OPSDESK_TWILIO_BASE_URL = server.base_url
        settings.OPSDESK_TWILIO_ACCOUNT_SID = SID
        settings.OPSDESK_TWILIO_AUTH_TOKEN = "secret-token"
        settings.OPSDESK_TWILIO_FROM = "+15005550006"
        yield server


def test_twilio_sms_sends_form_fields_with_basic_auth(twilio):
    result = _channel("twilio_sms").send("+821000000001", MSG)
    assert (result.ok, result.provider_id) == (True, "SM0001")
    assert twilio.requests[0].headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_twilio_sms_invalid_number_is_a_final_failure(twilio):
    result = _channel("twilio_sms").send("+15005550001", MSG)
    assert not result.ok and not result.retryable
    assert result.error.startswith("21211")


def test_twilio_sms_bad_credentials_fail(twilio, settings):
    settings.OPSDESK_TWILIO_AUTH_TOKEN = "wrong"
    result = _channel("twilio_sms").send("+821000000001", MSG)
    assert not result.ok and result.error.startswith("20003")


def test_twilio_voice_places_a_call_reading_the_subject(twilio):
    result = _channel("twilio_voice").send("+821000000001", MSG)
    assert (result.ok, result.provider_id) == (True, "CA0001")
    failed = _channel("twilio_voice").send("+15005550001", MSG)
    assert not failed.ok and failed.error.startswith("21217")


# --- Telegram ---------------------------------------------------------------------------


def _telegram(request: Seen) -> tuple[int, dict]:
    if request.path != "/bot123:test-token/sendMessage":
        return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
    body = json.loads(request.body)
    if body["chat_id"] == "-404":
        return 400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}
    if body["chat_id"] == "-429":
        return 429, {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 5",
            "parameters": {"retry_after": 5},
        }
    assert "DB down" in body["text"]
    return 200, {"ok": True, "result": {"message_id": 77, "chat": {"id": body["chat_id"]}}}


def test_telegram_send_message_and_errors(settings):
    with fake_provider(_telegram) as server:
        settings.OPSDESK_TELEGRAM_BASE_URL = server.base_url
        settings.OPSDESK_TELEGRAM_BOT_TOKEN = "123:test-token"
        ok = _channel("telegram").send("-1001", MSG)
        missing = _channel("telegram").send("-404", MSG)
        limited = _channel("telegram").send("-429", MSG)
        settings.OPSDESK_TELEGRAM_BOT_TOKEN = "wrong"
        unauthorised = _channel("telegram").send("-1001", MSG)
    assert (ok.ok, ok.provider_id) == (True, "77")
    assert (missing.ok, missing.error) == (False, "400: Bad Request: chat not found")
    assert (limited.ok, limited.retryable, limited.retry_after) == (False, True, 5)
    assert not unauthorised.ok and unauthorised.error.startswith("401")


# --- NHN Cloud SMS ----------------------------------------------------------------------


def _nhn(request: Seen) -> tuple[int, dict]:
    if request.path != "/sms/v3.0/appKeys/app-key-1/sender/sms":
        return 404, {"header": {"isSuccessful": False, "resultCode": -1, "resultMessage": "nf"}}
    if request.headers.get("X-Secret-Key") != "nhn-secret":
        return 200, {
            "header": {
                "isSuccessful": False,
                "resultCode": -1000,
                "resultMessage": "Invalid secret key",
            }
        }
    body = json.loads(request.body)
    assert body["sendNo"] == "0200000001" and body["body"].startswith("[CSR-")
    recipient = body["recipientList"][0]["recipientNo"]
    return 200, {
        "header": {"isSuccessful": True, "resultCode": 0, "resultMessage": "SUCCESS"},
        "body": {
            "data": {
                "requestId": "20261206-req-1",
                "statusCode": "2",
                "sendResultList": [{"recipientNo": recipient, "resultCode": 0}],
            }
        },
    }


@pytest.fixture
def nhn(settings):
    with fake_provider(_nhn) as server:
        settings.OPSDESK_NHN_SMS_BASE_URL = server.base_url
        settings.OPSDESK_NHN_SMS_APP_KEY = "app-key-1"
        settings.OPSDESK_NHN_SMS_SECRET_KEY = "nhn-secret"
        settings.OPSDESK_NHN_SMS_SEND_NO = "0200000001"
        yield server


def test_nhn_sms_sends_json_with_secret_key_header(nhn):
    result = _channel("nhn_sms").send("010-0000-0001", MSG)
    assert (result.ok, result.provider_id) == (True, "20261206-req-1")
    assert json.loads(nhn.requests[0].body)["recipientList"] == [{"recipientNo": "01000000001"}]


def test_nhn_sms_error_header_is_a_failure(nhn, settings):
    settings.OPSDESK_NHN_SMS_SECRET_KEY = "wrong"
    result = _channel("nhn_sms").send("010-0000-0001", MSG)
    assert not result.ok and not result.retryable
    assert result.error == "-1000: Invalid secret key"


# --- Slack ------------------------------------------------------------------------------


def _slack(request: Seen) -> tuple[int, dict]:
    assert request.path == "/api/chat.postMessage"
    if request.headers.get("Authorization") != "Bearer xoxb-test":
        return 200, {"ok": False, "error": "invalid_auth"}
    body = json.loads(request.body)
    if body["channel"] == "C404":
        return 200, {"ok": False, "error": "channel_not_found"}
    if body["channel"] == "C429":
        return 429, {"ok": False, "error": "ratelimited"}
    return 200, {"ok": True, "channel": body["channel"], "ts": "1733493600.000100"}


@pytest.fixture
def slack(settings):
    with fake_provider(_slack) as server:
        settings.OPSDESK_SLACK_BASE_URL = f"{server.base_url}/api"
        settings.OPSDESK_SLACK_TOKEN = "xoxb-test"
        yield server


def test_slack_posts_with_bearer_token(slack):
    result = _channel("slack").send("C0001", MSG)
    assert (result.ok, result.provider_id) == (True, "1733493600.000100")
    assert "DB down" in json.loads(slack.requests[0].body)["text"]


def test_slack_errors(slack):
    missing = _channel("slack").send("C404", MSG)
    assert (missing.ok, missing.error, missing.retryable) == (False, "channel_not_found", False)
    limited = _channel("slack").send("C429", MSG)
    assert (limited.ok, limited.retryable) == (False, True)


def test_unreachable_provider_is_retryable(settings):
    with fake_provider(_slack) as server:
        base = server.base_url
    settings.OPSDESK_SLACK_BASE_URL = base  # the server is gone
    result = _channel("slack").send("C0001", MSG)
    assert not result.ok and result.retryable


# --- email ------------------------------------------------------------------------------


def test_email_goes_through_the_mail_backend():
    result = _channel("email").send("oncall@opsdesk.example", MSG)
    assert result.ok
    assert mail.outbox[-1].to == ["oncall@opsdesk.example"]
    assert MSG.url in mail.outbox[-1].body


def test_email_pages_can_be_acknowledged_by_a_reply_without_the_quote(settings):
    from django.urls import reverse

    token = "eyJlIjoxMiwicCI6M30:1vPq2r:AbCdEf_gh-IjKlMnOpQr"
    url = "https://desk.example" + reverse("oncall:ack", args=[token])
    message = Message(subject="[INC-2026-000007] Page", body="DB down", url=url)
    assert _channel("email").send("oncall@opsdesk.example", message).ok
    sent = mail.outbox[-1]
    support = settings.OPSDESK["SUPPORT_EMAIL"]
    assert sent.reply_to == [] and sent.extra_headers["Reply-To"] == support
    message_id = sent.message()["Message-ID"]
    assert message_id == f"<ack.{token.replace(':', '.')}@{support.rsplit('@', 1)[-1]}>"
    # An ordinary notice has no acknowledgement link, so no such Message-ID.
    _channel("email").send("oncall@opsdesk.example", MSG)
    assert not mail.outbox[-1].message()["Message-ID"].startswith("<ack.")
