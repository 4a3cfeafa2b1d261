"""Microsoft Teams: an Adaptive Card POSTed to an incoming webhook or a Workflows ("When a
Teams webhook request is received") URL; ``address`` is that URL
(docs/subsystems/notifications.md#microsoft-teams)."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from opsdesk.notify.channels.base import (
    DeliveryResult,
    HttpAnswer,
    Message,
    http_request,
    retry_after_seconds,
    retryable_status,
)
from opsdesk.notify.channels.registry import channel_register

DEFAULT_HOSTS = ["webhook.office.com", "logic.azure.com", "environment.api.powerplatform.com"]
# Teams rejects messages over 28 KB; a card body past this is cut.
MAX_TEXT = 20_000
# Connectors answer throttling with 200 and this text instead of a 429 (Microsoft's
# "Rate limiting for connectors" sample reads the body for it).
THROTTLED_TEXT = "HTTP error 429"
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def teams_card(message: Message) -> dict[str, Any]:
    """The documented envelope: a message whose one attachment is an Adaptive Card; the
    acknowledgement link is an Action.OpenUrl button (Action.Submit is not supported)."""
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {
                "type": "TextBlock",
                "text": message.subject,
                "weight": "Bolder",
                "size": "Medium",
                "wrap": True,
            },
            {"type": "TextBlock", "text": message.body[:MAX_TEXT], "wrap": True},
        ],
    }
    if message.url:
        card["actions"] = [
            {"type": "Action.OpenUrl", "title": _("Acknowledge"), "url": message.url}
        ]
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


def webhook_allowed(url: str) -> bool:
    """Only HTTPS URLs on Microsoft's webhook hosts (OPSDESK_TEAMS_WEBHOOK_HOSTS): a contact
    method must not make the server post to arbitrary addresses. Plain HTTP only on loopback."""
    parts = urllib.parse.urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" and not (parts.scheme == "http" and host in _LOOPBACK):
        return False
    allowed = getattr(settings, "OPSDESK_TEAMS_WEBHOOK_HOSTS", None) or DEFAULT_HOSTS
    return any(host == suffix or host.endswith("." + suffix) for suffix in allowed)


def webhook_host(url: str) -> str:
    """What a log may show of a webhook URL: its path and query are the secret."""
    return urllib.parse.urlsplit(url).hostname or "?"


@channel_register("teams")
class TeamsChannel:
    name = "teams"

    def send(self, address: str, message: Message) -> DeliveryResult:
        if not webhook_allowed(address):
            return DeliveryResult(
                ok=False,
                error=f"not a Teams webhook URL on an allowed host ({webhook_host(address)})",
                retryable=False,
            )
        answer = http_request(
            method="POST",
            url=address,
            headers={"Content-Type": "application/json"},
            data=json.dumps(teams_card(message), ensure_ascii=False).encode("utf-8"),
        )
        text = answer.body if isinstance(answer.body, str) else ""
        if answer.status in (200, 202) and THROTTLED_TEXT not in text:
            # Workflows answer 202 with the run id; connectors answer 200 with "1".
            run = answer.headers.get("x-ms-workflow-run-id") or answer.headers.get(
                "x-ms-request-id", ""
            )
            return DeliveryResult(ok=True, provider_id=run)
        throttled = answer.status == 429 or THROTTLED_TEXT in text
        return DeliveryResult(
            ok=False,
            error=_error(answer),
            retryable=throttled or retryable_status(answer.status),
            retry_after=retry_after_seconds(answer),
        )


def _error(answer: HttpAnswer) -> str:
    # Workflows: {"error": {"code": "...", "message": "..."}}; connectors: plain text.
    body = answer.body
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        return f"{answer.status} {error.get('code', '')}: {error.get('message', '')}"[:500]
    return f"{answer.status}: {str(body)[:300]}"
