"""AWS CloudWatch alarms delivered by SNS over HTTP(S) (also the Lambda ``Records[].Sns``
form and a bare alarm message). A SubscriptionConfirmation is confirmed once its signature
verifies and an UnsubscribeConfirmation noted, never an alert (services/subscriptions.py);
Notification wraps the alarm as a JSON string: ALARM → firing, OK → resolved,
INSUFFICIENT_DATA → unknown (a note on the incident). See docs/subsystems/alerts.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from opsdesk.alerts.sources import sns
from opsdesk.alerts.sources.base import (
    FIRING,
    RESOLVED,
    UNKNOWN,
    AlertInput,
    BaseAdapter,
    Inbound,
    Parsed,
    SignatureError,
    SourceError,
    SubscriptionRequest,
    clip,
    parse_time,
    require_mapping,
    require_text,
    status_from,
)

STATES = {"alarm": FIRING, "ok": RESOLVED, "insufficient_data": UNKNOWN}


def envelopes(data: Any) -> list[Mapping[str, Any]]:
    """The SNS messages in the body: one (HTTP), several (Lambda ``Records``) or none (bare)."""
    body = require_mapping(data, "the body")
    if isinstance(body.get("Records"), list):
        return [require_mapping(r, "Records[]").get("Sns") or {} for r in body["Records"]]
    if "Type" in body:
        return [body]
    return []


def alarm_alert(alarm: Mapping[str, Any]) -> AlertInput:
    name = require_text(alarm, "AlarmName")
    trigger = alarm.get("Trigger")
    if not isinstance(trigger, Mapping):
        trigger = {}
    labels = {
        "alertname": name,
        "aws_account": str(alarm.get("AWSAccountId") or ""),
        "region": str(alarm.get("Region") or ""),
        "namespace": str(trigger.get("Namespace") or ""),
        "metric": str(trigger.get("MetricName") or ""),
    }
    for dimension in trigger.get("Dimensions") or []:
        if isinstance(dimension, Mapping):
            labels[f"dimension_{dimension.get('name')}"] = str(dimension.get("value"))
    fingerprint = alarm.get("AlarmArn") or f"{labels['aws_account']}/{labels['region']}/{name}"
    return AlertInput(
        fingerprint=clip(fingerprint),
        status=status_from(alarm.get("NewStateValue"), STATES, "NewStateValue"),
        labels=labels,
        annotations={
            "description": str(alarm.get("AlarmDescription") or ""),
            "reason": str(alarm.get("NewStateReason") or ""),
            "state": str(alarm.get("NewStateValue") or ""),
        },
        summary=clip(alarm.get("AlarmDescription") or name),
        severity="critical" if alarm.get("NewStateValue") == "ALARM" else "warning",
        starts_at=parse_time(alarm.get("StateChangeTime")),
        raw=dict(alarm),
    )


def message_alarm(envelope: Mapping[str, Any]) -> Mapping[str, Any]:
    try:
        return require_mapping(json.loads(require_text(envelope, "Message")), "Message")
    except json.JSONDecodeError as exc:
        raise SourceError("Message is not a CloudWatch alarm (not JSON)") from exc


class CloudWatchAdapter(BaseAdapter):
    def authenticate(self, inbound: Inbound) -> None:
        super().authenticate(inbound)
        if not inbound.verify_signature:
            return
        found = envelopes(inbound.data)
        if not found:
            raise SignatureError("a bare alarm carries no SNS signature")
        for envelope in found:
            sns.sns_verify(envelope)

    def parse(self, inbound: Inbound) -> Parsed:
        found = envelopes(inbound.data)
        if not found:
            return Parsed(alerts=[alarm_alert(require_mapping(inbound.data, "the body"))])
        parsed = Parsed()
        for envelope in found:
            kind = envelope.get("Type")
            if kind in SUBSCRIPTION_TYPES:
                parsed.subscription = subscription_request(
                    envelope, verified=inbound.verify_signature
                )
            elif kind == "Notification":
                parsed.alerts.append(alarm_alert(message_alarm(envelope)))
            else:
                raise SourceError(f"unknown SNS message type {kind!r}")
        return parsed


SUBSCRIPTION_TYPES = {
    "SubscriptionConfirmation": "confirm",
    "UnsubscribeConfirmation": "unsubscribe",
}


def subscription_request(envelope: Mapping[str, Any], *, verified: bool) -> SubscriptionRequest:
    """A SubscriptionConfirmation to visit (its URL checked against the topic's region) or
    an UnsubscribeConfirmation to note (its SubscribeURL would subscribe again: never
    visited)."""
    topic_arn = require_text(envelope, "TopicArn")
    url = require_text(envelope, "SubscribeURL")
    kind = SUBSCRIPTION_TYPES[str(envelope["Type"])]
    if kind == "confirm":
        sns.subscribe_url_check(url, topic_arn)
    return SubscriptionRequest(topic_arn=topic_arn, subscribe_url=url, kind=kind, verified=verified)


adapter = CloudWatchAdapter()
