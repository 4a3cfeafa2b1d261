"""Datadog webhooks: the default payload (``title`` starting with [Triggered]/[Recovered]…)
or a custom one with ``alert_id``, ``alert_transition`` and ``aggreg_key``.

The default payload's ``id`` is the *event*, different for trigger and recovery; the
fingerprint is therefore ``alert_id`` or ``aggreg_key`` when sent, else a hash of the
organisation and the title without its state prefix. See docs/subsystems/alerts.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from opsdesk.alerts.sources.base import (
    FIRING,
    RESOLVED,
    UNKNOWN,
    AlertInput,
    BaseAdapter,
    Inbound,
    Parsed,
    SourceError,
    clip,
    labels_fingerprint,
    parse_time,
    require_mapping,
    require_text,
    severity_normalise,
    status_from,
)

TRANSITIONS = {
    "triggered": FIRING,
    "re-triggered": FIRING,
    "warn": FIRING,
    "re-warn": FIRING,
    "recovered": RESOLVED,
    "no data": UNKNOWN,
    "re-no data": UNKNOWN,
}
PREFIX = re.compile(r"^\s*\[([^\]]+)\]\s*")


def transition_of(data: Mapping[str, Any], title: str) -> str:
    word = data.get("alert_transition")
    if not word:
        match = PREFIX.match(title)
        if match is None:
            raise SourceError("no alert_transition and no [State] prefix in the title")
        word = match.group(1)
    return status_from(word, TRANSITIONS, "alert transition")


def org_of(data: Mapping[str, Any]) -> str:
    org = data.get("org")
    return str(org.get("id") or "") if isinstance(org, Mapping) else str(org or "")


class DatadogAdapter(BaseAdapter):
    def parse(self, inbound: Inbound) -> Parsed:
        data = require_mapping(inbound.data, "the body")
        title = require_text(data, "title")
        status = transition_of(data, title)
        name = PREFIX.sub("", title).strip() or title
        labels = {"alertname": name, "datadog_org": org_of(data)}
        if data.get("hostname"):
            labels["host"] = str(data["hostname"])
        fingerprint = str(data.get("alert_id") or data.get("aggreg_key") or "")
        severity = data.get("priority") or ("warning" if "warn" in title.lower() else "critical")
        alert = AlertInput(
            fingerprint=fingerprint or labels_fingerprint(labels),
            status=status,
            labels=labels,
            annotations={"body": clip(data.get("body"), 2000)},
            summary=clip(name),
            severity=severity_normalise(severity),
            starts_at=parse_time(data.get("date")),
            source_url=clip(data.get("link"), 1000),
            raw=dict(data),
        )
        return Parsed(alerts=[alert])


adapter = DatadogAdapter()
