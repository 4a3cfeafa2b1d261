"""A fake Microsoft Teams that answers as Microsoft documents both kinds of webhook URL.

- Workflows ("When a Teams webhook request is received", Logic Apps request trigger): the
  URL carries a shared-access signature (``sig``); 202 Accepted with an
  ``x-ms-workflow-run-id`` header; errors are ``{"error": {"code", "message"}}`` (401 for a
  bad signature, 404 for a deleted workflow, 429 with Retry-After when throttled).
- Incoming-webhook connectors: 200 with the text ``1``; a payload Teams cannot read is 400
  "Bad payload received by generic incoming webhook."; throttling is a 200 whose text says
  "Microsoft Teams endpoint returned HTTP error 429" ("connectors do not throw 429s").
Both take ``{"type": "message", "attachments": [{"contentType":
"application/vnd.microsoft.card.adaptive", "content": <AdaptiveCard>}]}``; cards may use
Action.OpenUrl, Action.ShowCard, Action.ToggleVisibility, not Action.Submit; 28 KB at most.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from tests.notify.fakes import Seen, Text

SIG = "fAkEsIgNaTuRe0000000000000000000000000000000"
FLOW = "0123456789abcdef0123456789abcdef"
CARD = "application/vnd.microsoft.card.adaptive"
ACTIONS = {"Action.OpenUrl", "Action.ShowCard", "Action.ToggleVisibility"}


def _card_problem(raw: bytes) -> str | None:
    """What Teams would reject in the payload, or None."""
    if len(raw) > 28 * 1024:
        return "message too large"
    payload = json.loads(raw)
    if payload.get("type") != "message" or not payload.get("attachments"):
        return "not a message with attachments"
    attachment = payload["attachments"][0]
    card = attachment.get("content") or {}
    if attachment.get("contentType") != CARD or card.get("type") != "AdaptiveCard":
        return "not an Adaptive Card"
    if not card.get("version") or not isinstance(card.get("body"), list):
        return "card without version or body"
    if any(block.get("type") != "TextBlock" or not block.get("text") for block in card["body"]):
        return "card body element without text"
    for action in card.get("actions", []):
        if action.get("type") not in ACTIONS or (
            action["type"] == "Action.OpenUrl"
            and not action.get("url", "").startswith(("https://", "http://"))
        ):
            return f"unsupported action {action}"
    return None


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None):
    return status, {"error": {"code": code, "message": message}}, headers or {}


def _workflow(request: Seen) -> tuple[Any, ...]:
    url = urllib.parse.urlsplit(request.path)
    query = urllib.parse.parse_qs(url.query)
    flow = url.path.split("/")[2]
    if query.get("sig") != [SIG] or query.get("api-version") != ["2016-06-01"]:
        return _error(
            401,
            "DirectApiInvalidAuthorizationSignature",
            "The provided authorization token is not valid.",
        )
    if flow == "gone":
        return _error(404, "WorkflowNotFound", f"The workflow '{flow}' could not be found.")
    if flow == "busy":
        return _error(429, "WorkflowRequestsThrottled", "Too many requests.", {"Retry-After": "7"})
    if flow == "down":
        return _error(503, "ServiceUnavailable", "The service is unavailable.")
    if request.headers.get("Content-Type") != "application/json":
        return _error(400, "TriggerRequestInvalidContentType", "Expected application/json.")
    if _card_problem(request.body):
        # The trigger itself accepts any JSON; the card is rejected in the flow's post step.
        # The fake is stricter so the test sees the problem.
        return _error(400, "InvalidTemplate", _card_problem(request.body) or "")
    return 202, Text(""), {"x-ms-workflow-run-id": "08584700000000000000000000000CU01"}


def _connector(request: Seen) -> tuple[Any, ...]:
    if "throttled" in request.path:
        return 200, Text("Microsoft Teams endpoint returned HTTP error 429 with ContextId tcid=0")
    if _card_problem(request.body):
        return 400, Text("Bad payload received by generic incoming webhook.")
    return 200, Text("1")


def teams_rule(request: Seen) -> tuple[Any, ...]:
    if request.path.startswith("/workflows/"):
        return _workflow(request)
    if request.path.startswith("/webhookb2/"):
        return _connector(request)
    return 404, Text("Not Found")


def flow_url(base_url: str, flow: str = FLOW, sig: str = SIG) -> str:
    query = urllib.parse.urlencode(
        {"api-version": "2016-06-01", "sp": "/triggers/manual/run", "sv": "1.0", "sig": sig}
    )
    return f"{base_url}/workflows/{flow}/triggers/manual/paths/invoke?{query}"
