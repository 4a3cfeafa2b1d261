"""Slack: chat.postMessage with a bot token; ``address`` is the channel or user id."""

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

DEFAULT_BASE = "https://slack.com/api"


@channel_register("slack")
class SlackChannel:
    name = "slack"

    def send(self, address: str, message: Message) -> DeliveryResult:
        base = getattr(settings, "OPSDESK_SLACK_BASE_URL", "") or DEFAULT_BASE
        token = getattr(settings, "OPSDESK_SLACK_TOKEN", "")
        text = f"*{message.subject}*\n{message.body}"
        if message.url:
            text += f"\n<{message.url}>"
        answer = http_request(
            method="POST",
            url=f"{base.rstrip('/')}/chat.postMessage",
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json; charset=utf-8",
            },
            data=json.dumps({"channel": address, "text": text}).encode(),
        )
        body = answer.body if isinstance(answer.body, dict) else {}
        if answer.status == 200 and body.get("ok"):
            return DeliveryResult(ok=True, provider_id=str(body.get("ts", "")))
        # Slack answers 200 with ok=false for its own errors (invalid_auth, channel_not_found).
        error = str(body.get("error") or f"HTTP {answer.status}")
        return DeliveryResult(
            ok=False,
            error=error,
            retryable=retryable_status(answer.status),
            retry_after=retry_after_seconds(answer),
        )
