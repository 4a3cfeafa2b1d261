"""KakaoTalk AlimTalk through NHN Cloud KakaoTalk Bizmessage (API v2.3):
POST /alimtalk/v2.3/appkeys/{appkey}/messages with X-Secret-Key; optional SMS/LMS fallback
by the provider (resendParameter) (docs/subsystems/notifications.md#kakaotalk-alimtalk)."""

from __future__ import annotations

import json
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

DEFAULT_BASE = "https://kakaotalk-bizmessage.api.nhncloudservice.com"
# "The same X-NC-API-IDEMPOTENCY-KEY was used within the last 10 minutes": an earlier
# attempt of this delivery reached NHN although its answer did not reach us.
DUPLICATE = -1005


def _fallback(message: Message) -> dict[str, Any]:
    """resendParameter: NHN sends an SMS/LMS itself when the AlimTalk cannot be delivered
    (no KakaoTalk, blocked channel); the SMS sender number must be registered with NHN."""
    parts = sms_compose(message)
    resend: dict[str, Any] = {
        "isResend": True,
        "resendType": parts.kind,
        "resendContent": parts.content,
    }
    if parts.subject:
        resend["resendTitle"] = parts.subject
    send_no = digits(getattr(settings, "OPSDESK_KAKAO_RESEND_SEND_NO", ""))
    if send_no:
        resend["resendSendNo"] = send_no
    return resend


def alimtalk_payload(recipient_no: str, message: Message) -> dict[str, Any]:
    """AlimTalk sends only templates approved by Kakao: OpsDesk fills the variables
    #{subject}, #{body} and #{url} of the template named by OPSDESK_KAKAO_TEMPLATE_CODE."""
    entry: dict[str, Any] = {
        "recipientNo": recipient_no,
        "templateParameter": {
            "subject": message.subject,
            "body": message.body,
            "url": message.url,
        },
    }
    if getattr(settings, "OPSDESK_KAKAO_RESEND", False):
        entry["resendParameter"] = _fallback(message)
    return {
        "senderKey": getattr(settings, "OPSDESK_KAKAO_SENDER_KEY", ""),
        "templateCode": getattr(settings, "OPSDESK_KAKAO_TEMPLATE_CODE", ""),
        "recipientList": [entry],
    }


@channel_register("kakao_alimtalk")
class KakaoAlimtalkChannel:
    name = "kakao_alimtalk"

    def send(self, address: str, message: Message) -> DeliveryResult:
        recipient = recipient_parse(address)
        if recipient is None or recipient.country_code != "82":
            return DeliveryResult(ok=False, error="not a Korean mobile number", retryable=False)
        base = getattr(settings, "OPSDESK_KAKAO_BASE_URL", "") or DEFAULT_BASE
        app_key = getattr(settings, "OPSDESK_KAKAO_APP_KEY", "")
        headers = {
            "X-Secret-Key": getattr(settings, "OPSDESK_KAKAO_SECRET_KEY", ""),
            "Content-Type": "application/json;charset=UTF-8",
        }
        if message.key:
            headers["X-NC-API-IDEMPOTENCY-KEY"] = message.key
        answer = http_request(
            method="POST",
            url=f"{base.rstrip('/')}/alimtalk/v2.3/appkeys/{app_key}/messages",
            headers=headers,
            data=json.dumps(alimtalk_payload(recipient.number, message), ensure_ascii=False).encode(
                "utf-8"
            ),
        )
        return _result(answer)


def _result(answer: HttpAnswer) -> DeliveryResult:
    body = answer.body if isinstance(answer.body, dict) else {}
    header = body.get("header") or {}
    if answer.status != 200 or not header:
        return DeliveryResult(
            ok=False,
            error=f"HTTP {answer.status}: {str(answer.body)[:200]}",
            retryable=retryable_status(answer.status),
            retry_after=retry_after_seconds(answer),
        )
    code = header.get("resultCode")
    if not header.get("isSuccessful"):
        error = f"{code}: {header.get('resultMessage', '')}"
        if code == DUPLICATE:
            return DeliveryResult(ok=True, error=f"accepted by an earlier attempt ({error})")
        # NHN's own errors (bad keys, unknown template, daily volume exceeded, invalid
        # fallback number) stay the same on a retry.
        return DeliveryResult(ok=False, error=error, retryable=False)
    sent = body.get("message") or {}
    results = sent.get("sendResults") or [{}]
    first = results[0]
    if first.get("resultCode", 0) != 0:
        return DeliveryResult(
            ok=False,
            error=f"{first.get('resultCode')}: {first.get('resultMessage', '')}",
            retryable=False,
        )
    # requestId plus the recipient's sequence identifies the message in NHN's console/API.
    provider_id = f"{sent.get('requestId', '')}:{first.get('recipientSeq', 1)}"
    return DeliveryResult(ok=True, provider_id=provider_id)
