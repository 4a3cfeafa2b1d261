"""Twilio SMS: POST /2010-04-01/Accounts/{sid}/Messages.json, basic auth, form fields."""

from __future__ import annotations

import urllib.parse

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

DEFAULT_BASE = "https://api.twilio.com"


@channel_register("twilio_sms")
class TwilioSmsChannel:
    name = "twilio_sms"

    def send(self, address: str, message: Message) -> DeliveryResult:
        base = getattr(settings, "OPSDESK_TWILIO_BASE_URL", "") or DEFAULT_BASE
        sid = getattr(settings, "OPSDESK_TWILIO_ACCOUNT_SID", "")
        secret = getattr(settings, "OPSDESK_TWILIO_AUTH_TOKEN", "")
        sender = getattr(settings, "OPSDESK_TWILIO_FROM", "")
        text = f"{message.subject} {message.url}".strip()
        answer = http_request(
            method="POST",
            url=f"{base.rstrip('/')}/2010-04-01/Accounts/{sid}/Messages.json",
            headers={
                "Authorization": basic_auth(sid, secret),
                "Content-Type": "application/x-www-form-urlencoded",
            },
            data=urllib.parse.urlencode({"To": address, "From": sender, "Body": text}).encode(),
        )
        body = answer.body if isinstance(answer.body, dict) else {}
        if answer.status == 201:
            return DeliveryResult(ok=True, provider_id=str(body.get("sid", "")))
        # Twilio errors: {"code": 21211, "message": "...", "status": 400, ...}
        error = f"{body.get('code', answer.status)}: {body.get('message', 'HTTP error')}"
        return DeliveryResult(
            ok=False,
            error=error,
            retryable=retryable_status(answer.status),
            retry_after=retry_after_seconds(answer),
        )
