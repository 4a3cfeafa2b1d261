"""Grafana alerting webhooks: unified alerting (8+, Alertmanager-shaped, per-alert
fingerprints) and legacy dashboard alerts (pre-8: ruleId, state alerting/ok/no_data).

See docs/subsystems/alerts.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opsdesk.alerts.sources import alertmanager
from opsdesk.alerts.sources.base import (
    FIRING,
    RESOLVED,
    UNKNOWN,
    AlertInput,
    BaseAdapter,
    Inbound,
    Parsed,
    clip,
    require_mapping,
    require_text,
    status_from,
    str_dict,
)

LEGACY_STATES = {
    "alerting": FIRING,
    "ok": RESOLVED,
    "no_data": UNKNOWN,
    "paused": UNKNOWN,
    "pending": UNKNOWN,
}


def legacy_alert(payload: Mapping[str, Any]) -> AlertInput:
    rule_id = require_text(payload, "ruleId")
    rule_name = str(payload.get("ruleName") or payload.get("title") or rule_id)
    labels = {"alertname": rule_name, "grafana_rule_id": rule_id}
    matches = payload.get("evalMatches") or []
    if matches and isinstance(matches[0], Mapping):
        labels.update(str_dict(matches[0].get("tags")))
        labels["alertname"] = rule_name
    return AlertInput(
        fingerprint=f"grafana-rule-{rule_id}",
        status=status_from(payload.get("state"), LEGACY_STATES, "state"),
        labels=labels,
        annotations={"message": str(payload.get("message") or "")},
        summary=clip(payload.get("title") or rule_name),
        source_url=clip(payload.get("ruleUrl"), 1000),
        raw=dict(payload),
    )


class GrafanaAdapter(BaseAdapter):
    def parse(self, inbound: Inbound) -> Parsed:
        payload = require_mapping(inbound.data, "the body")
        if isinstance(payload.get("alerts"), list):
            return alertmanager.adapter.parse(inbound)
        return Parsed(alerts=[legacy_alert(payload)])


adapter = GrafanaAdapter()
