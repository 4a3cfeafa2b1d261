"""Microsoft Teams: Adaptive Cards to Workflows and connector webhooks (fake_teams.py)."""

from __future__ import annotations

import json

import pytest

from opsdesk.notify.channels.base import Channel, Message
from opsdesk.notify.channels.registry import channel_get
from tests.notify.fake_teams import CARD, FLOW, SIG, flow_url

MSG = Message(
    subject="[INC-2026-000007] Escalation: DB down", body="Disk full", url="https://x/ack/7/"
)


def _flow_url(server, flow: str = FLOW, sig: str = SIG) -> str:
    return flow_url(server.base_url, flow, sig)


def _channel() -> Channel:
    channel = channel_get("teams")
    assert channel is not None
    return channel


def test_workflow_gets_an_adaptive_card_with_the_ack_link_as_open_url(teams):
    result = _channel().send(_flow_url(teams), MSG)
    assert (result.ok, result.provider_id) == (True, "08584700000000000000000000000CU01")
    payload = json.loads(teams.requests[0].body)
    card = payload["attachments"][0]["content"]
    assert payload["attachments"][0]["contentType"] == CARD
    assert card["body"][0]["text"] == MSG.subject and card["body"][1]["text"] == MSG.body
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": "Acknowledge", "url": MSG.url}]


def test_a_message_without_link_has_no_actions(teams):
    assert _channel().send(_flow_url(teams), Message(subject="s", body="b")).ok
    assert "actions" not in json.loads(teams.requests[0].body)["attachments"][0]["content"]


def test_connector_answers_1(teams):
    url = f"{teams.base_url}/webhookb2/0000@0000/IncomingWebhook/abc/0000"
    result = _channel().send(url, MSG)
    assert (result.ok, result.provider_id) == (True, "")


def test_connector_throttling_in_a_200_is_retried(teams):
    url = f"{teams.base_url}/webhookb2/0000@0000/IncomingWebhook/throttled/0000"
    result = _channel().send(url, MSG)
    assert (result.ok, result.retryable) == (False, True)
    assert "HTTP error 429" in result.error


def test_workflow_429_is_retried_after_the_servers_wait(teams):
    result = _channel().send(_flow_url(teams, flow="busy"), MSG)
    assert (result.ok, result.retryable, result.retry_after) == (False, True, 7)
    assert result.error.startswith("429 WorkflowRequestsThrottled")


def test_workflow_5xx_is_retried(teams):
    result = _channel().send(_flow_url(teams, flow="down"), MSG)
    assert (result.ok, result.retryable) == (False, True)


@pytest.mark.parametrize(
    ("flow", "sig", "code"),
    [
        (FLOW, "wrong", "401 DirectApiInvalidAuthorizationSignature"),
        ("gone", SIG, "404 WorkflowNotFound"),
    ],
)
def test_workflow_4xx_is_final(teams, flow, sig, code):
    result = _channel().send(_flow_url(teams, flow=flow, sig=sig), MSG)
    assert (result.ok, result.retryable) == (False, False)
    assert result.error.startswith(code)


def test_only_allowed_https_hosts_are_posted_to(teams, settings):
    settings.OPSDESK_TEAMS_WEBHOOK_HOSTS = ["webhook.office.com"]
    refused = _channel().send(_flow_url(teams), MSG)
    plain = _channel().send("http://example.webhook.office.com/webhookb2/x", MSG)
    assert (refused.ok, refused.retryable) == (False, False)
    assert not plain.ok and "allowed host" in plain.error
    assert teams.requests == []
