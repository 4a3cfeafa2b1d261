"""Telegram: POST /bot{token}/sendMessage with JSON {chat_id, text}; ``address`` is the chat id."""

from __future__ import annotations

import json

from django.conf import settings

from opsdesk.notify.channels.base import DeliveryResult, Message, http_request, retryable_status
from opsdesk.notify.channels.registry import channel_register

DEFAULT_BASE = "https://api.telegram.org"


@channel_register("telegram")
class TelegramChannel:
    name = "telegram"

    def send(self, address: str, message: Message) -> DeliveryResult:
        base = getattr(settings, "OPSDESK_TELEGRAM_BASE_URL", "") or DEFAULT_BASE
        token = getattr(settings, "OPSDESK_TELEGRAM_BOT_TOKEN", "")
        text = "\n".join(part for part in (message.subject, message.body, message.url) if part)
        answer = http_request(
            method="POST",
            url=f"{base.rstrip('/')}/bot{token}/sendMessage",
            headers={"Content-Type": "application/json"},
            data=json.dumps({"chat_id": address, "text": text}).encode(),
        )
        body = answer.body if isinstance(answer.body, dict) else {}
        if answer.status == 200 and body.get("ok"):
            return DeliveryResult(ok=True, provider_id=str(body["result"].get("message_id", "")))
        # {"ok": false, "error_code": 400, "description": "Bad Request: chat not found"}
        error = f"{body.get('error_code', answer.status)}: {body.get('description', '')}"
        # A 429 says how long to wait in parameters.retry_after (seconds).
        wait = (body.get("parameters") or {}).get("retry_after") or 0
        return DeliveryResult(
            ok=False,
            error=error,
            retryable=retryable_status(answer.status),
            retry_after=float(wait),
        )
