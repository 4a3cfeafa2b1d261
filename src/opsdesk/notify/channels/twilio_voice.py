"""Twilio voice: POST /2010-04-01/Accounts/{sid}/Calls.json with TwiML that reads the message."""

from __future__ import annotations

import urllib.parse
from xml.sax.saxutils import escape

from django.conf import settings

from opsdesk.notify.channels.base import (
    DeliveryResult,
    Message,
    basic_auth,
    http_request,
    retry_after_seconds,
    retryable_status,
)
from opsdesk.notify.channels.registry import channel_register
from opsdesk.notify.channels.twilio_sms import DEFAULT_BASE


@channel_register("twilio_voice")
class TwilioVoiceChannel:
    name = "twilio_voice"

    def send(self, address: str, message: Message) -> DeliveryResult:
        base = getattr(settings, "OPSDESK_TWILIO_BASE_URL", "") or DEFAULT_BASE
        sid = getattr(settings, "OPSDESK_TWILIO_ACCOUNT_SID", "")
        secret = getattr(settings, "OPSDESK_TWILIO_AUTH_TOKEN", "")
        # Korean text-to-speech: the default voice would spell Hangul out in English.
        voice_language = getattr(settings, "OPSDESK_TWILIO_VOICE_LANGUAGE", "") or "ko-KR"
        twiml = (
            f'<Response><Say language="{escape(voice_language)}">'
            f"{escape(message.subject)}</Say></Response>"
        )
        form = {"To": address, "From": getattr(settings, "OPSDESK_TWILIO_FROM", ""), "Twiml": twiml}
        answer = http_request(
            method="POST",
            url=f"{base.rstrip('/')}/2010-04-01/Accounts/{sid}/Calls.json",
            headers={
                "Authorization": basic_auth(sid, secret),
                "Content-Type": "application/x-www-form-urlencoded",
            },
            data=urllib.parse.urlencode(form).encode(),
        )
        body = answer.body if isinstance(answer.body, dict) else {}
        if answer.status == 201:
            return DeliveryResult(ok=True, provider_id=str(body.get("sid", "")))
        error = f"{body.get('code', answer.status)}: {body.get('message', 'HTTP error')}"
        return DeliveryResult(
            ok=False,
            error=error,
            retryable=retryable_status(answer.status),
            retry_after=retry_after_seconds(answer),
        )
