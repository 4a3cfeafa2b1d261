"""Naver Cloud SENS SMS (API v2): POST /sms/v2/services/{serviceId}/messages, signed with
x-ncp-apigw-signature-v2 (docs/subsystems/notifications.md#naver-cloud-sens)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from django.conf import settings

from opsdesk.notify.channels.base import (
    DeliveryResult,
    HttpAnswer,
    Message,
    http_request,
    retry_after_seconds,
    retryable_status,
)
from opsdesk.notify.channels.korean import digits, recipient_parse, sms_compose
from opsdesk.notify.channels.registry import channel_register

DEFAULT_BASE = "https://sens.apigw.ntruss.com"


def sens_signature(*, method: str, uri: str, timestamp: str, access_key: str, secret: str) -> str:
    """base64(HMAC-SHA256(secret, "{method} {uri}\\n{timestamp}\\n{access key}")); ``uri`` is
    the path with its query string, without the host."""
    text = f"{method} {uri}\n{timestamp}\n{access_key}"
    digest = hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


@channel_register("sens_sms")
class SensSmsChannel:
    name = "sens_sms"

    def send(self, address: str, message: Message) -> DeliveryResult:
        recipient = recipient_parse(address)
        if recipient is None:
            return DeliveryResult(ok=False, error="not a phone number", retryable=False)
        parts = sms_compose(message)
        payload: dict[str, Any] = {
            "type": parts.kind,
            "contentType": "COMM",
            "countryCode": recipient.country_code,
            "from": digits(getattr(settings, "OPSDESK_SENS_FROM", "")),
            "content": parts.content,
            "messages": [{"to": recipient.number}],
        }
        if parts.subject:
            payload["subject"] = parts.subject
        answer = self._post(payload)
        body = answer.body if isinstance(answer.body, dict) else {}
        if answer.status == 202 and str(body.get("statusCode")) == "202":
            return DeliveryResult(ok=True, provider_id=str(body.get("requestId", "")))
        return DeliveryResult(
            ok=False,
            error=_error(answer, body),
            retryable=retryable_status(answer.status),
            retry_after=retry_after_seconds(answer),
        )

    def _post(self, payload: dict[str, Any]) -> HttpAnswer:
        base = getattr(settings, "OPSDESK_SENS_BASE_URL", "") or DEFAULT_BASE
        access_key = getattr(settings, "OPSDESK_SENS_ACCESS_KEY", "")
        uri = f"/sms/v2/services/{getattr(settings, 'OPSDESK_SENS_SERVICE_ID', '')}/messages"
        # The gateway compares the timestamp with its own clock (5 minutes of slack), so this
        # is the machine's wall clock, not core.clock.now(), which tests may freeze.
        timestamp = str(int(time.time() * 1000))
        return http_request(
            method="POST",
            url=f"{base.rstrip('/')}{uri}",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "x-ncp-apigw-timestamp": timestamp,
                "x-ncp-iam-access-key": access_key,
                "x-ncp-apigw-signature-v2": sens_signature(
                    method="POST",
                    uri=uri,
                    timestamp=timestamp,
                    access_key=access_key,
                    secret=getattr(settings, "OPSDESK_SENS_SECRET_KEY", ""),
                ),
            },
            data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        )


def _error(answer: HttpAnswer, body: dict[str, Any]) -> str:
    # The API gateway answers {"error": {"errorCode", "message", "details"}} (401 code 200
    # "Authentication Failed", 429 code 400/410/420, 503 code 500 ...); SENS's own answers
    # carry statusCode/statusName.
    error = body.get("error") if isinstance(body.get("error"), dict) else None
    if error:
        detail = f" ({error['details']})" if error.get("details") else ""
        return f"{answer.status}/{error.get('errorCode', '')}: {error.get('message', '')}{detail}"
    if body.get("statusCode"):
        text = f"{body.get('statusName', '')} {body.get('errorMessage', '')}".strip()
        return f"{body['statusCode']}: {text}"
    return f"HTTP {answer.status}: {str(answer.body)[:200]}"
