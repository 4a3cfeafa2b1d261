"""NHN Cloud SMS: POST /sms/v3.0/appKeys/{appKey}/sender/sms with X-Secret-Key, JSON body."""

from __future__ import annotations

import json

from django.conf import settings

from opsdesk.notify.channels.base import (
    DeliveryResult,
    Message,
    http_request,
    retry_after_seconds,
    retryable_status,
)
from opsdesk.notify.channels.registry import channel_register

DEFAULT_BASE = "https://api-sms.cloud.toast.com"


@channel_register("nhn_sms")
class NhnSmsChannel:
    name = "nhn_sms"

    def send(self, address: str, message: Message) -> DeliveryResult:
        base = getattr(settings, "OPSDESK_NHN_SMS_BASE_URL", "") or DEFAULT_BASE
        app_key = getattr(settings, "OPSDESK_NHN_SMS_APP_KEY", "")
        payload = {
            "body": f"{message.subject} {message.url}".strip(),
            "sendNo": getattr(settings, "OPSDESK_NHN_SMS_SEND_NO", ""),
            "recipientList": [{"recipientNo": address.replace("-", "")}],
        }
        answer = http_request(
            method="POST",
            url=f"{base.rstrip('/')}/sms/v3.0/appKeys/{app_key}/sender/sms",
            headers={
                "X-Secret-Key": getattr(settings, "OPSDESK_NHN_SMS_SECRET_KEY", ""),
                "Content-Type": "application/json;charset=UTF-8",
            },
            data=json.dumps(payload).encode(),
        )
        body = answer.body if isinstance(answer.body, dict) else {}
        header = body.get("header") or {}
        if answer.status == 200 and header.get("isSuccessful"):
            request_id = ((body.get("body") or {}).get("data") or {}).get("requestId", "")
            return DeliveryResult(ok=True, provider_id=str(request_id))
        # NHN answers 200 with header.isSuccessful=false, resultCode and resultMessage.
        error = f"{header.get('resultCode', answer.status)}: {header.get('resultMessage', '')}"
        return DeliveryResult(
            ok=False,
            error=error,
            retryable=retryable_status(answer.status),
            retry_after=retry_after_seconds(answer),
        )
